//! Single sign-on: the sign-in page's provider buttons (public), and the
//! owners' `/sso` page (providers, the require-SSO policy).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{SsoChoice, SsoView};

/// The providers to sign in with (id and name only): the sign-in page
/// shows them before anyone is signed in.
#[server(prefix = "/sfn", endpoint = "sso_choices", output = crate::codec::Json)]
pub async fn sso_choices() -> Result<Vec<SsoChoice>, AppError> {
    let choices = crate::ssr::services()?.sso.choices().await?;
    Ok(choices.into_iter().map(|(id, name)| SsoChoice { id, name }).collect())
}

/// Every provider (the secret only as "set") and the policy (owners).
#[server(prefix = "/sfn", endpoint = "sso_settings", output = crate::codec::Json)]
pub async fn sso_settings() -> Result<SsoView, AppError> {
    use crate::model::SsoProviderRow;
    use crate::ssr::{current_user, services};

    let me = current_user().await?;
    let services = services()?;
    let providers = services.sso.providers(&me).await?;
    let (policy, break_glass) = services.sso.policy(&me).await?;
    let providers = providers
        .into_iter()
        .map(|p| SsoProviderRow {
            id: p.id,
            name: p.name,
            issuer: p.issuer,
            client_id: p.client_id,
            domains: p.domains,
            groups_claim: p.groups_claim,
            group_map: p.group_map.iter().map(ToString::to_string).collect(),
        })
        .collect();
    Ok(SsoView { providers, required: policy.required, break_glass })
}

/// Adds an identity provider (owners); each bad field is named.
#[server(prefix = "/sfn", endpoint = "add_sso_provider", output = crate::codec::Json)]
pub async fn add_sso_provider(
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    domains: String,
    groups_claim: Option<String>,
    group_map: Option<String>,
) -> Result<i64, AppError> {
    use imgflush::domain::sso::ProviderInput;

    let (services, me) = super::user_writer().await?;
    let (groups_claim, group_map) = (groups_claim.unwrap_or_default(), group_map.unwrap_or_default());
    let input = ProviderInput { name, issuer, client_id, client_secret, domains, groups_claim, group_map };
    Ok(services.sso.add(&me, &input, &crate::ssr::request_meta().await).await?)
}

/// Removes an identity provider (owners).
#[server(prefix = "/sfn", endpoint = "remove_sso_provider", output = crate::codec::Json)]
pub async fn remove_sso_provider(id: i64) -> Result<(), AppError> {
    let (services, me) = super::user_writer().await?;
    services.sso.remove(&me, id, &crate::ssr::request_meta().await).await?;
    Ok(())
}

/// Requires single sign-on for all but the break-glass owner, or not (owners).
/// `required` is a checkbox: present when ticked.
#[server(prefix = "/sfn", endpoint = "set_sso_policy", output = crate::codec::Json)]
pub async fn set_sso_policy(required: Option<String>, break_glass: Option<String>) -> Result<(), AppError> {
    let (services, me) = super::user_writer().await?;
    let meta = crate::ssr::request_meta().await;
    services.sso.set_policy(&me, required.is_some(), break_glass.as_deref().unwrap_or_default(), &meta).await?;
    Ok(())
}
