//! The purge contract the worker and the edge exchange (`POST /_purge` on an
//! edge's admin listener, and the generic webhook's body): defined once, used
//! by both sides.

use serde::{Deserialize, Serialize};

use crate::domain::{InvalidationId, Scope};

/// What to flush: `paths` (canonical origin paths, `dir/*` for a prefix)
/// under scope Original; the whole token under scope All (`paths` empty);
/// every object carrying one of `tags` under scope Tag. With `dry_run`, the
/// edge removes nothing and answers what the purge would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeRequest {
    /// Absent in hand-made requests; the worker always names its invalidation.
    #[serde(default)]
    pub invalidation_id: Option<InvalidationId>,
    pub token: String,
    pub scope: Scope,
    #[serde(default)]
    pub paths: Vec<String>,
    /// Tags as typed (the edge derives each one's key with the token).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

impl PurgeRequest {
    /// What an invalidation sends: its tags under scope Tag, its paths otherwise.
    pub fn new(invalidation_id: Option<InvalidationId>, token: &str, scope: Scope, items: &[String]) -> Self {
        let (paths, tags) = match scope {
            Scope::Tag => (Vec::new(), items.to_vec()),
            _ => (items.to_vec(), Vec::new()),
        };
        PurgeRequest { invalidation_id, token: token.to_owned(), scope, paths, tags, dry_run: false }
    }
}

/// An edge's answer: how many cached objects went (or would go, for a dry
/// run) and their bytes, up to [`PurgeAnswer::MAX_URLS`] of them as request
/// paths (`/host/a.jpg?w=300`), which the worker asks the CDN nodes for when
/// it verifies, and under scope Tag the canonical paths that carried the
/// tags (up to [`PurgeAnswer::MAX_PATHS`]; `paths_complete` false when
/// there were more), which CDNs without tag purge are sent instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeAnswer {
    pub removed: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default = "yes")]
    pub paths_complete: bool,
}

fn yes() -> bool {
    true
}

impl PurgeAnswer {
    pub const MAX_URLS: usize = 20;
    /// CloudFront, the one CDN without tag purge, takes 3,000 paths in progress.
    pub const MAX_PATHS: usize = 3000;
    /// The most an answer can weigh: the worker reads no more.
    pub const MAX_BYTES: usize = 512 * 1024;
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
            tags: vec![],
            dry_run: false,
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
        assert_eq!(answer, PurgeAnswer { removed: 3, paths_complete: true, ..PurgeAnswer::default() });
        let tagged =
            PurgeRequest { dry_run: true, ..PurgeRequest::new(Some(id), "demo", Scope::Tag, &["products".into()]) };
        assert_eq!(
            serde_json::to_value(&tagged).unwrap(),
            serde_json::json!({"invalidation_id": id.to_string(), "token": "demo", "scope": "tag", "paths": [], "tags": ["products"], "dry_run": true})
        );
    }
}
