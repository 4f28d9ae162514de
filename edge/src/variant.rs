//! A variant's response before the pipeline stores it: made here from the
//! origin (`make`), or fetched from a shield (`shield::client`).

use bytes::Bytes;

/// A variant's response, before it is stored.
pub struct Made {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
    /// Seconds it is fresh at the edge, from when it was made.
    pub ttl: u64,
    /// Seconds since it was made (a shield's copy may be older).
    pub age: u64,
    pub tags: Vec<String>,
    /// False when a shield answered it during a purge: serve, never store.
    pub storable: bool,
}

impl Made {
    /// An origin's 404 (or a shield's), cached for `not_found_ttl`.
    pub fn not_found(ttl: u64, tags: Vec<String>) -> Made {
        Made {
            status: 404,
            content_type: "text/plain; charset=utf-8".to_owned(),
            body: Bytes::from_static(b"origin image not found\n"),
            ttl,
            age: 0,
            tags,
            storable: true,
        }
    }
}
