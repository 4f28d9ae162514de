//! How a child asks its shield for a variant (`wire`), and what it makes of
//! the answer: the variant with the shield's age, TTL and tags, a 404 to
//! cache like an origin's, an answer to pass on, or a failed shield.

use axum::http::{header, StatusCode};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use imgflush::domain::tag::{tags_from_header, MAX_TAGS_PER_OBJECT};

use super::wire::{self, SHIELD_HEADER, TAGS_HEADER, TTL_HEADER};
use crate::cache::Key;
use crate::config::EdgeConfig;
use crate::error::{EdgeError, ERROR_HEADER};
use crate::params::query_of;
use crate::secret::Secret;
use crate::variant::Made;

/// How a child reaches its shield: any address (the configured parent is
/// trusted, unlike origins), no proxy, no redirects, the origin timeouts.
pub struct ParentClient {
    client: reqwest::Client,
    pub base: url::Url,
    secret: Secret,
    max_bytes: u64,
    not_found_ttl: u64,
}

impl ParentClient {
    /// `None` without a parent.
    pub fn new(config: &EdgeConfig) -> Option<ParentClient> {
        let base = config.parent.clone()?;
        let limits = &config.limits;
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.origin_timeout)
            .user_agent(concat!("imgflush-edge/", env!("CARGO_PKG_VERSION"), " (shield child)"))
            .build()
            .expect("a reqwest client without custom TLS always builds");
        // A variant may be larger than its source (a PNG of a JPEG).
        let max_bytes = limits.max_origin_bytes.max(limits.max_output_pixels.saturating_mul(4));
        let not_found_ttl = limits.not_found_ttl.as_secs();
        Some(ParentClient { client, base, secret: config.shield_secret.clone()?, max_bytes, not_found_ttl })
    }

    /// The variant of `key` from the shield, in the internal form.
    pub async fn ask(&self, key: &Key) -> Result<Made, Failed> {
        let parent = self;
        let query = query_of(&key.variant);
        let mut url = parent.base.clone();
        url.set_path(&format!("/{}{}", key.token, key.path));
        url.set_query(Some(query.as_str()).filter(|q| !q.is_empty()));
        // Signed as sent: after the URL parser's own normalisation.
        let signed = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let res = parent
            .client
            .get(url)
            .header(SHIELD_HEADER, wire::credential(&parent.secret, &signed))
            .send()
            .await
            .map_err(|e| Failed::Down(format!("request: {e}")))?;
        let status = res.status();
        let h = res.headers().clone();
        let code = h.get(ERROR_HEADER).and_then(|v| v.to_str().ok()).map(wire::known_code);
        if status != StatusCode::OK && !(status == StatusCode::NOT_FOUND && code.is_none()) {
            return Err(passed_on(status, code, h.get(header::RETRY_AFTER), res).await);
        }
        let number = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let mut tags = Vec::new();
        if let Some(v) = h.get(TAGS_HEADER).and_then(|v| v.to_str().ok()) {
            tags_from_header(v, &mut tags, MAX_TAGS_PER_OBJECT);
        }
        let tags: Vec<String> = tags.into_iter().map(String::from).collect();
        let storable =
            !h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("no-store"));
        // Every internal answer carries it: a 404 without it is not the shield's.
        let (Some(ttl), age) = (number(TTL_HEADER), number(header::AGE.as_str()).unwrap_or(0)) else {
            return Err(Failed::Down(format!("a {} without {TTL_HEADER}: not a shield", status.as_u16())));
        };
        if status == StatusCode::NOT_FOUND {
            return Ok(Made { storable, ..Made::not_found(parent.not_found_ttl, tags) });
        }
        let content_type = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if !content_type.starts_with("image/") {
            return Err(Failed::Down(format!("answer of type {content_type:?}")));
        }
        let body = read(res, parent.max_bytes).await?;
        Ok(Made { status: 200, content_type, body, ttl, age, tags, storable })
    }
}

/// Why a shield gave no variant.
pub enum Failed {
    /// The shield's answer about this request: passed on.
    Answer(EdgeError),
    /// The shield itself failed: the origin is asked instead.
    Down(String),
}

/// A shield's refusal or error: its own failures mean "ask the origin".
async fn passed_on(
    status: StatusCode,
    code: Option<&'static str>,
    retry_after: Option<&header::HeaderValue>,
    res: reqwest::Response,
) -> Failed {
    let retry = retry_after.and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // A token the child knows and the shield does not: the shield's
    // settings lag behind, a failure of the shield's.
    let down = match code {
        None | Some(wire::REFUSED | "parent_error" | "unknown_token") => true,
        Some(_) => false,
    };
    if down {
        return Failed::Down(format!("answered {} {}", status.as_u16(), code.unwrap_or("(no code)")));
    }
    let code = code.unwrap_or("parent_error");
    let message = res.text().await.unwrap_or_default().trim().chars().take(300).collect::<String>();
    let e = EdgeError::new(status, code, message);
    Failed::Answer(match retry {
        Some(s) => e.retry_after(s),
        None => e,
    })
}

async fn read(res: reqwest::Response, max: u64) -> Result<Bytes, Failed> {
    if res.content_length().is_some_and(|n| n > max) {
        return Err(Failed::Down(format!("answer over {max} bytes")));
    }
    let mut body = BytesMut::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Failed::Down(format!("body: {e}")))?;
        if (body.len() + chunk.len()) as u64 > max {
            return Err(Failed::Down(format!("answer over {max} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
