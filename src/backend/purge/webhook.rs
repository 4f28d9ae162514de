//! The webhook contract: the request as JSON, signed with HMAC-SHA256.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::driver::{Ctx, Driver};
use super::report::*;

pub struct Webhook;

/// The webhook signature: HMAC-SHA256 over `"{timestamp}.{body}"`, so a
/// captured request cannot be replayed outside the receiver's time window.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl Driver for Webhook {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let body = serde_json::to_vec(&call.request).expect("purge request serialises");
        let timestamp = chrono::Utc::now().timestamp();
        let build = || {
            let req = ctx
                .client
                .post(ctx.url.clone())
                .header("Content-Type", "application/json")
                .header("X-Imgflush-Timestamp", timestamp.to_string())
                .body(body.clone());
            match &ctx.target.secret {
                Some(secret) => req.header("X-Imgflush-Signature", webhook_signature(secret, timestamp, &body)),
                None => req,
            }
        };
        // A 429 waits for its Retry-After, as with every driver.
        let resp = accepted(ctx.send(None, build).await?).await?;
        Ok(PurgeReport::note(format!("HTTP {}", resp.status().as_u16())))
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn the_webhook_signature_covers_the_timestamp() {
        let a = webhook_signature("s", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook_signature("s", 1_700_000_001, b"{}"), "a replay with a new timestamp fails");
        // HMAC-SHA256("s", "1700000000.{}"), computed independently.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(a, format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
    }
}
