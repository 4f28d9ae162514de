//! What the cache keeps per variant: its key, the meta stored beside the
//! body, and the two together as the request path hands them around.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What is stored beside each body (and served as headers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub token: String,
    pub path: String,
    pub variant: String,
    pub status: u16,
    pub content_type: String,
    pub etag: String,
    /// Unix seconds.
    pub stored_at: u64,
    /// Seconds the entry is fresh at the edge.
    pub ttl: u64,
    pub body_len: u64,
}

impl Meta {
    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.stored_at.saturating_add(self.ttl)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub token: String,
    pub path: String,
    pub variant: String,
}

/// A cached or freshly made response body with its meta.
#[derive(Clone, Debug)]
pub struct Object {
    pub meta: Arc<Meta>,
    pub body: Bytes,
}
