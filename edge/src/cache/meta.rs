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
    /// Cache tags as the origin and the project's rules gave them (see
    /// `crate::tags`); absent in files written before tags existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Meta {
    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.stored_at.saturating_add(self.ttl)
    }

    pub fn key(&self) -> Key {
        Key { token: self.token.clone(), path: self.path.clone(), variant: self.variant.clone() }
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
