//! The registry: which driver purges each kind of target.

use super::driver::Driver;
use super::{akamai, bunny, cloudflare, cloudfront, edge, fastly, varnish, webhook};
use crate::domain::TargetKind;

/// The registry: each kind's driver.
pub fn driver(kind: TargetKind) -> &'static dyn Driver {
    match kind {
        TargetKind::Edge => &edge::Edge,
        TargetKind::Varnish => &varnish::Varnish,
        TargetKind::Webhook => &webhook::Webhook,
        TargetKind::Cloudflare => &cloudflare::Cloudflare,
        TargetKind::Fastly => &fastly::Fastly,
        TargetKind::Cloudfront => &cloudfront::Cloudfront,
        TargetKind::Akamai => &akamai::Akamai,
        TargetKind::Bunny => &bunny::Bunny,
    }
}
