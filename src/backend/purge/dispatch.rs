//! One call for every target kind: the address checked, then the kind's driver.

use reqwest::Client;

use super::report::{PurgeError, PurgeRequest, PurgeResult};
use super::{edge, varnish, webhook};
use crate::backend::model::Target;
use crate::backend::network::NetworkPolicy;
use crate::domain::TargetKind;

/// Purges `req` on `target` with the contract of its kind. A URL whose host
/// is an address literal is checked against `policy` here (the resolver is
/// not asked for literals); names are checked on their resolved addresses.
pub async fn purge(client: &Client, policy: &NetworkPolicy, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let url = reqwest::Url::parse(&target.url).map_err(|_| PurgeError::Other("invalid URL".into()))?;
    policy.check_url(&url).map_err(PurgeError::NotAllowed)?;
    match target.kind {
        TargetKind::Edge => edge::purge(client, target, req).await,
        TargetKind::Varnish => varnish::purge(client, target, req).await,
        TargetKind::Webhook => webhook::purge(client, target, req).await,
    }
}
