use leptos::prelude::*;

use crate::error::AppError;
use crate::model::UrlLookupView;

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
