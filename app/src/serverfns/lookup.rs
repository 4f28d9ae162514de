use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{IdPrefixMatches, UrlLookupView};

/// "Is this URL fresh?": an image URL as a customer pasted it, read back into
/// the project (one the caller may see) and origin path it addresses, with
/// the invalidations that covered it; with `check`, every edge and Varnish
/// node is asked, from its cache only, whether it holds that variant and
/// since when.
#[server(prefix = "/sfn", endpoint = "lookup_url", output = crate::codec::Json)]
pub async fn lookup_url(q: String, check: bool) -> Result<UrlLookupView, AppError> {
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let services = services()?;
    let (actor, located) = services.projects.locate_url(&user, &q).await?;
    let probes = if check { Some(services.targets.probe(&actor, &located).await?) } else { None };
    Ok(crate::ssr::lookup_view(&services, &actor, located, probes).await?)
}

/// The invalidations whose IDs start with `q` (8 or more characters) in the
/// projects the caller may see, newest first (at most 20).
#[server(prefix = "/sfn", endpoint = "lookup_id_prefix", output = crate::codec::Json)]
pub async fn lookup_id_prefix(q: String) -> Result<IdPrefixMatches, AppError> {
    use crate::model::IdPrefixMatch;
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let found = services()?.projects.locate_id_prefix(&user, &q, 20).await?;
    let rows = found
        .into_iter()
        .map(|(token, inv)| IdPrefixMatch {
            token,
            id: inv.id.to_string(),
            status: inv.status,
            created: inv.created.into(),
            paths: inv.paths,
        })
        .collect();
    Ok(IdPrefixMatches { rows, sees_all: user.instance_role.is_some() })
}
