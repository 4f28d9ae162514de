//! The soak's submissions: through both consoles' native API, each retried
//! with its Idempotency-Key until accepted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;

/// Submits `count` invalidations, alternating between the consoles, 32 at a
/// time and spread over at least `over` (so the kills happen while work is
/// in flight however fast the build drains it); each is retried (same
/// Idempotency-Key and API key, on the other console: both are shared
/// through the database) until accepted. Answers the ids.
pub async fn submit_all(
    consoles: &[(&str, &str); 2],
    count: usize,
    over: Duration,
    run: usize,
    done: &AtomicUsize,
) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let start = tokio::time::Instant::now();
    let results: Vec<anyhow::Result<String>> = futures::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            let not_before = start + over.mul_f64(i as f64 / count as f64);
            async move {
                tokio::time::sleep_until(not_before).await;
                let body = serde_json::json!({"scope": "original", "urls": [format!("/sample.li/soak/{run}/{i}.jpg")]});
                let deadline = Instant::now() + Duration::from_secs(120);
                let key = consoles[i % 2].1;
                let mut attempt = 0;
                loop {
                    let base = consoles[(i + attempt) % 2].0;
                    let sent = client
                        .post(format!("{base}/api/v1/invalidations"))
                        .bearer_auth(key)
                        .header("Idempotency-Key", format!("soak-{run}-{i}"))
                        .json(&body)
                        .send()
                        .await;
                    // A console killed mid-answer: the body never arrives; retried.
                    let answer = match sent {
                        Ok(resp) if resp.status().is_success() => resp.json::<serde_json::Value>().await.ok(),
                        _ => None,
                    };
                    if let Some(v) = answer {
                        let id = v["invalidation"]["id"].as_str().context("an id in the answer")?.to_owned();
                        done.fetch_add(1, Ordering::Relaxed);
                        return Ok(id);
                    }
                    if Instant::now() > deadline {
                        bail!("invalidation {i} was never accepted");
                    }
                    tokio::time::sleep(Duration::from_millis(if attempt == 0 { 50 } else { 250 })).await;
                    attempt += 1;
                }
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect()
}
