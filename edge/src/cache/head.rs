//! The response headers of a cached object that stay the same from one hit
//! to the next, built once and kept beside its meta in the index (see
//! [`DiskCache::head`](super::DiskCache::head)): a hit pays no `xkey` or tag
//! digest, no header value check and no formatting for them.

use axum::http::{HeaderName, HeaderValue};
use imgflush::domain::cache_key::{tag_header_value, xkey_value, PATH_HEADER, TOKEN_HEADER, XKEY_HEADER};

use super::meta::Meta;

/// What one object answers with, apart from `Age`, `X-Cache`, `Warning`
/// and `Cache-Control` when no shared cache may keep the answer.
#[derive(Debug)]
pub struct Head {
    /// The project's `tag_headers` and the two ages these were built for:
    /// settings can change, and then the head is built again.
    built_for: (Vec<String>, u64, u64),
    pub content_type: Option<HeaderValue>,
    pub content_length: HeaderValue,
    pub etag: Option<HeaderValue>,
    /// `xkey`, the project's CDN tag headers, the token and the path, in
    /// the order they are sent.
    pub keys: Vec<(HeaderName, HeaderValue)>,
    /// `public, max-age=…, s-maxage=…`
    pub cache_control: HeaderValue,
}

impl Head {
    pub fn new(meta: &Meta, tag_headers: &[String], max_age: u64, s_maxage: u64) -> Head {
        let text = |v: &str| HeaderValue::from_str(v).ok();
        let mut keys = Vec::with_capacity(3 + tag_headers.len());
        let mut key = |name: HeaderName, value: &str| keys.extend(text(value).map(|v| (name, v)));
        // The keys of the object's tags ride along, derived with the token;
        // no origin header is ever copied (an origin's own `xkey` or
        // `Surrogate-Key` could name another project's keys).
        key(HeaderName::from_static(XKEY_HEADER), &xkey_value(&meta.token, &meta.path, &meta.tags));
        for name in tag_headers {
            if let (Ok(header), Some(value)) =
                (HeaderName::from_bytes(name.as_bytes()), tag_header_value(name, &meta.token, &meta.path, &meta.tags))
            {
                key(header, &value);
            }
        }
        key(HeaderName::from_static(TOKEN_HEADER), &meta.token);
        key(HeaderName::from_static(PATH_HEADER), &meta.path);
        Head {
            built_for: (tag_headers.to_vec(), max_age, s_maxage),
            content_type: text(&meta.content_type),
            content_length: HeaderValue::from(meta.body_len),
            etag: text(&meta.etag),
            keys,
            cache_control: text(&format!("public, max-age={max_age}, s-maxage={s_maxage}"))
                .unwrap_or(HeaderValue::from_static("public")),
        }
    }

    /// Whether it was built for these settings.
    pub fn fits(&self, tag_headers: &[String], max_age: u64, s_maxage: u64) -> bool {
        let (t, m, s) = &self.built_for;
        (*m, *s) == (max_age, s_maxage) && t == tag_headers
    }

    /// Heap bytes it holds, roughly, for the memory tier's budget.
    pub fn cost(&self) -> u64 {
        let values = self.keys.iter().map(|(n, v)| n.as_str().len() + v.len() + 96).sum::<usize>();
        (values + self.built_for.0.iter().map(|t| t.len() + 24).sum::<usize>() + 256) as u64
    }
}
