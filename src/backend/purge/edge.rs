//! The edge's contract: a signed POST of the request to its purge endpoint.

use reqwest::Client;

use super::report::*;
use crate::backend::model::Target;

pub(super) async fn purge(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let mut call = client.post(&target.url).json(req);
    if let Some(secret) = &target.secret {
        call = call.bearer_auth(secret);
    }
    let resp = success(call.send().await).await?;
    let body = read_bounded(resp).await.unwrap_or_default();
    let answer = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    Ok(match answer.get("removed").and_then(|r| r.as_u64()) {
        Some(n) => {
            let urls = answer.get("urls").and_then(|u| u.as_array()).map_or_else(Vec::new, |urls| {
                urls.iter().filter_map(|u| u.as_str()).filter(|u| u.starts_with('/')).map(str::to_owned).collect()
            });
            PurgeReport { urls, ..PurgeReport::removed(n, format!("removed {n} cached objects")) }
        }
        None => PurgeReport::note("purge accepted"),
    })
}
