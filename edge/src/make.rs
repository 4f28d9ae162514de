//! Steps 4–5: a variant made here: the origin image fetched, its tags read,
//! transformed. A child edge gets the same from its shield instead
//! (`shield::fetch`) unless the shield is down.

use std::sync::Arc;

use bytes::Bytes;

use crate::cache::Key;
use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::origin::Fetched;
use crate::params::Params;
use crate::plan::OutputRules;
use crate::request::ImageRequest;
use crate::state::EdgeState;
use crate::variant::Made;
use crate::{tags, transform};

pub async fn from_origin(
    edge: &Arc<EdgeState>,
    key: &Key,
    ir: &ImageRequest,
    params: &Params,
) -> Result<Made, EdgeError> {
    let (fetched, origin_headers) =
        edge.origin.fetch(ir).await.inspect_err(|_| Metrics::inc(&edge.metrics.origin_errors, 1))?;
    let tags = tags::object_tags(&ir.project, &key.path, &origin_headers);
    let limits = &edge.config.limits;
    let data = match fetched {
        Fetched::NotFound => return Ok(Made::not_found(limits.not_found_ttl.as_secs(), tags)),
        Fetched::Image(data) => data,
    };
    let permit = edge.transforms.clone().acquire_owned().await.map_err(|_| EdgeError::internal())?;
    let (p, max_pixels) = (params.clone(), limits.max_pixels);
    let rules = OutputRules { max_output_pixels: limits.max_output_pixels, upscale: !ir.project.no_upscale };
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        transform::render(&data, &p, max_pixels, &rules)
    })
    .await
    .map_err(|_| EdgeError::internal())??;
    let ttl = params.ci_cache.unwrap_or(ir.project.s_maxage);
    Ok(Made {
        status: 200,
        content_type: out.format.content_type().to_owned(),
        body: Bytes::from(out.body),
        ttl: u64::from(ttl),
        age: 0,
        tags,
        storable: true,
    })
}
