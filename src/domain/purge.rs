//! The purge contract the worker and the edge exchange (`POST /_purge` on an
//! edge's admin listener, and the generic webhook's body): defined once, used
//! by both sides.

use serde::{Deserialize, Serialize};

use crate::domain::{InvalidationId, Scope};

/// What to flush: `paths` (canonical origin paths, `dir/*` for a prefix)
/// under scope Original; the whole token under scope All (`paths` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeRequest {
    /// Absent in hand-made requests; the worker always names its invalidation.
    #[serde(default)]
    pub invalidation_id: Option<InvalidationId>,
    pub token: String,
    pub scope: Scope,
    #[serde(default)]
    pub paths: Vec<String>,
}

/// An edge's answer: how many cached objects went, and up to
/// [`PurgeAnswer::MAX_URLS`] of them as request paths (`/host/a.jpg?w=300`),
/// which the worker asks the CDN nodes for when it verifies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeAnswer {
    pub removed: u64,
    #[serde(default)]
    pub urls: Vec<String>,
}

impl PurgeAnswer {
    pub const MAX_URLS: usize = 20;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_format_is_the_documented_one() {
        let id = InvalidationId(uuid::Uuid::nil());
        let req = PurgeRequest {
            invalidation_id: Some(id),
            token: "demo".into(),
            scope: Scope::Original,
            paths: vec!["/a.jpg".into()],
        };
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"invalidation_id": id.to_string(), "token": "demo", "scope": "original", "paths": ["/a.jpg"]})
        );
        let bare: PurgeRequest = serde_json::from_str(r#"{"token":"demo","scope":"all"}"#).unwrap();
        assert_eq!((bare.invalidation_id, bare.scope, bare.paths.len()), (None, Scope::All, 0));
        let bad = serde_json::from_str::<PurgeRequest>(r#"{"token":"demo","scope":"everything"}"#).unwrap_err();
        assert!(bad.to_string().contains("unknown variant `everything`"), "{bad}");
        let answer: PurgeAnswer = serde_json::from_str(r#"{"removed":3}"#).unwrap();
        assert_eq!(answer, PurgeAnswer { removed: 3, urls: vec![] });
    }
}
