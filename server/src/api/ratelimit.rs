//! The API's rate limits, counted in the services' [`Limiter`]: per client
//! address before anything else (every request, good key or not), refused
//! keys per address (checked before the key is looked up, so a source
//! guessing keys gets 429 instead of database lookups), then per key.

use imgflush::backend::limits::{LimitKey, RetryAfter, Source};
use imgflush::backend::Services;

use super::error::ApiError;

fn too_many(wait: RetryAfter, message: String) -> ApiError {
    ApiError::too_many_requests(wait.0, message)
}

/// Before the key is read: the address's request budget and its refused keys.
pub async fn before_key(services: &Services, source: Source) -> Result<(), ApiError> {
    let (limiter, s) = (services.limits.limiter(), &services.limits.settings);
    limiter.peek(&LimitKey::ApiKeyFailures(source), s.api_key_failures_per_source).await.map_err(|w| {
        too_many(
            w,
            format!("too many requests with an unknown or revoked API key from your address; retry in {} s", w.secs()),
        )
    })?;
    limiter.check_and_count(&LimitKey::ApiSource(source), s.api_per_source).await.map(drop).map_err(|w| {
        too_many(
            w,
            format!("your address may send {} API requests per minute; retry in {} s", s.api_per_source.max, w.secs()),
        )
    })
}

/// A refused key counts against its address.
pub async fn key_refused(services: &Services, source: Source) {
    let s = &services.limits.settings;
    let _ = services
        .limits
        .limiter()
        .check_and_count(&LimitKey::ApiKeyFailures(source), s.api_key_failures_per_source)
        .await;
}

/// The key's own request budget.
pub async fn per_key(services: &Services, key_id: i64) -> Result<(), ApiError> {
    let limit = services.limits.settings.api_per_key;
    services
        .limits
        .limiter()
        .check_and_count(&LimitKey::ApiKey(key_id), limit)
        .await
        .map(drop)
        .map_err(|w| ApiError::rate_limited(w.0, limit.max))
}
