//! Bodies of the anchor-compatible `/invalidate` endpoints.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use imgflush::backend::store::Invalidation;
use imgflush::domain::Status;

use super::shared::*;

/// `POST /invalidate` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorCreated {
    pub status: SuccessTag,
    /// `Your invalidation request has been received`
    pub msg: String,
    pub invalidation: AnchorReceipt,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorReceipt {
    pub status: StatusCode,
    pub uuid: Uuid,
    pub added_at: AnchorTimestamp,
}

/// `GET /invalidate/{uuid}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorStatus {
    pub status: SuccessTag,
    pub invalidation: AnchorInvalidation,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorInvalidation {
    pub status: StatusCode,
    pub uuid: Uuid,
    pub added_at: AnchorTimestamp,
    pub scope: ScopeCode,
    pub urls: AnchorUrls,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorUrls {
    /// The paths as submitted (canonical form); empty for scope `all`.
    pub received: Vec<String>,
    /// All paths once the status is `DONE`, else empty.
    pub invalidated: Vec<String>,
    /// All paths in `ERROR` or `ERROR_CDN_NODE`, else empty.
    pub failed: Vec<String>,
}

impl AnchorCreated {
    pub fn new(inv: &Invalidation) -> Self {
        AnchorCreated {
            status: SuccessTag::Success,
            msg: "Your invalidation request has been received".into(),
            invalidation: AnchorReceipt {
                status: StatusCode(inv.status.anchor()),
                uuid: inv.id.as_uuid(),
                added_at: AnchorTimestamp(inv.created),
            },
        }
    }
}

impl From<Invalidation> for AnchorStatus {
    fn from(inv: Invalidation) -> Self {
        let all_if = |cond: bool| if cond { inv.paths.clone() } else { Vec::new() };
        let urls = AnchorUrls {
            invalidated: all_if(inv.status == Status::Done),
            failed: all_if(inv.status.is_error()),
            received: inv.paths.clone(),
        };
        AnchorStatus {
            status: SuccessTag::Success,
            invalidation: AnchorInvalidation {
                status: StatusCode(inv.status.anchor()),
                uuid: inv.id.as_uuid(),
                added_at: AnchorTimestamp(inv.created),
                scope: ScopeCode(inv.scope),
                urls,
            },
        }
    }
}
