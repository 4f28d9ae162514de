//! The child's side: a miss asks the shield for the transformed variant,
//! with the credential of its request (`wire`). The shield's answer is
//! stored like a variant made here, with the shield's age, TTL and tags, so
//! tag purges work on the child. When the shield itself fails (unreachable,
//! timed out, refused us, answered without an edge error code, with
//! `internal` or `unknown_token`, sent no image) the child fetches the origin directly, counted
//! in `edge_shield_fallbacks_total`.
//! What the shield says about the request or the origin (4xx, 422, an origin
//! failure, a 429) is passed on: asking the origin again would not help.

use std::sync::Arc;

use super::client::Failed;
use crate::cache::Key;
use crate::error::EdgeError;
use crate::make;
use crate::metrics::Metrics;
use crate::params::Params;
use crate::request::ImageRequest;
use crate::state::EdgeState;
use crate::variant::Made;

/// The variant of `key`: from the shield when this edge has one, else (or
/// when the shield is down) made from the origin.
pub async fn variant(edge: &Arc<EdgeState>, key: &Key, ir: &ImageRequest, params: &Params) -> Result<Made, EdgeError> {
    if let Some(parent) = &edge.parent {
        Metrics::inc(&edge.metrics.shield_fetches, 1);
        match parent.ask(key).await {
            Ok(made) => return Ok(made),
            Err(Failed::Answer(e)) => return Err(e),
            Err(Failed::Down(why)) => {
                Metrics::inc(&edge.metrics.shield_fallbacks, 1);
                tracing::warn!(parent = %parent.base, %why, "shield failed; fetching the origin directly");
            }
        }
    }
    make::from_origin(edge, key, ir, params).await
}
