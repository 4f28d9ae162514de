//! CDN targets at scale (issue: purge the CDNs operators run). Two figures,
//! each against a console already running with its worker (`bench/run.sh
//! cdn` starts one per database and adds the targets):
//!
//!   cdn fanout  --console URL --key KEY --listen 127.0.0.1:P [--count 30] [--rate 5]
//!       answers every purge on `--listen` at once (the project's N webhook
//!       targets point there: fast local targets, as a fleet of nodes would
//!       be) and prints submit→DONE p50/p99 of `--count` invalidations of 10
//!       paths each.
//!
//!   cdn backlog --console URL --key KEY --listen 127.0.0.1:P [--count 10000] [--limit 5]
//!       serves Cloudflare's purge call on `--listen`, refusing with `429
//!       Retry-After: 1` any call past `--limit` in the last second, as the
//!       provider does; submits `--count` one-path invalidations at once and
//!       prints how long they took to drain, the calls made, the paths each
//!       carried, the most calls in any second and the 429s.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

struct Args {
    mode: String,
    console: String,
    key: String,
    listen: String,
    count: usize,
    rate: f64,
    limit: usize,
    targets: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().context("usage: cdn fanout|backlog --console URL --key KEY --listen ADDR")?;
    let mut a = Args {
        mode,
        console: String::new(),
        key: String::new(),
        listen: String::new(),
        count: 0,
        rate: 5.0,
        limit: 5,
        targets: 0,
    };
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--console" => a.console = value.trim_end_matches('/').to_owned(),
            "--key" => a.key = value,
            "--listen" => a.listen = value,
            "--count" => a.count = value.parse()?,
            "--rate" => a.rate = value.parse()?,
            "--limit" => a.limit = value.parse()?,
            "--targets" => a.targets = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.console.is_empty() || a.key.is_empty() || a.listen.is_empty() {
        bail!("--console, --key and --listen are required");
    }
    Ok(a)
}

/// What the fake provider saw: each call's time and item count, and the 429s.
#[derive(Default)]
struct Seen {
    calls: Vec<(Instant, usize)>,
    refused: usize,
    window: std::collections::VecDeque<Instant>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let limit = a.limit;
    let recorder = {
        let seen = seen.clone();
        axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                // The fan-out's webhook targets answer at once; only the provider's calls are limited.
                if !uri.path().starts_with("/client/v4/") {
                    return axum::Json(json!({})).into_response();
                }
                let items = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.as_object().and_then(|o| o.values().find_map(|x| x.as_array().map(Vec::len))))
                    .unwrap_or(1);
                let now = Instant::now();
                let mut s = seen.lock().unwrap();
                while s.window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                    s.window.pop_front();
                }
                if s.window.len() >= limit {
                    s.refused += 1;
                    let body = json!({"success": false, "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}]});
                    return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], axum::Json(body)).into_response();
                }
                s.window.push_back(now);
                s.calls.push((now, items));
                axum::Json(json!({"success": true, "errors": [], "messages": [], "result": {"id": format!("p{}", s.calls.len())}}))
                    .into_response()
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(&a.listen).await?;
    tokio::spawn(async move { axum::serve(listener, recorder).await });
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    match a.mode.as_str() {
        "fanout" => fanout(&a, &client).await,
        "backlog" => backlog(&a, &client, &seen).await,
        other => bail!("unknown mode {other}: fanout or backlog"),
    }
}

async fn submit(client: &reqwest::Client, a: &Args, paths: Vec<String>) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{}/api/v1/invalidations", a.console))
        .bearer_auth(&a.key)
        .json(&json!({"scope": "original", "urls": paths}))
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    if status != 201 {
        bail!("HTTP {status}: {body}");
    }
    Ok(body["invalidation"]["id"].as_str().context("no id")?.to_owned())
}

/// The invalidation once final.
async fn final_state(client: &reqwest::Client, a: &Args, id: &str) -> anyhow::Result<Value> {
    let url = format!("{}/api/v1/invalidations/{id}?wait=30", a.console);
    loop {
        let body: Value = client.get(&url).bearer_auth(&a.key).send().await?.json().await?;
        if !body["invalidation"]["finished_at"].is_null() {
            return Ok(body["invalidation"].clone());
        }
    }
}

async fn fanout(a: &Args, client: &reqwest::Client) -> anyhow::Result<()> {
    let count = if a.count == 0 { 30 } else { a.count };
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
    for i in 0..count {
        tick.tick().await;
        let paths = (0..10).map(|k| format!("/sample.li/fanout/{i}/{k}.jpg")).collect();
        let sent = DateTime::<Utc>::from(SystemTime::now());
        let id = submit(client, a, paths).await?;
        let inv = final_state(client, a, &id).await?;
        if inv["status"] != "DONE" {
            bail!("{id} ended {}: {}", inv["status"], inv["error"]);
        }
        let finished: DateTime<Utc> = inv["finished_at"].as_str().context("finished_at")?.parse()?;
        latencies.push((finished - sent).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    let goal = if a.targets >= 1000 { 1000.0 } else { 100.0 };
    let p99 = pct(0.99);
    println!(
        "| fan-out: {count} invalidations × 10 paths to {} targets | p50 {:.1} ms | p99 {p99:.1} ms | goal p99 ≤ {goal:.0} ms: {} |",
        a.targets,
        pct(0.5),
        if p99 <= goal { "met" } else { "NOT met" }
    );
    Ok(())
}

async fn backlog(a: &Args, client: &reqwest::Client, seen: &Arc<Mutex<Seen>>) -> anyhow::Result<()> {
    let count = if a.count == 0 { 10_000 } else { a.count };
    let started = Instant::now();
    let ids: Vec<String> = futures::future::try_join_all((0..count).map(|i| {
        let paths = vec![format!("/sample.li/backlog/{i}.jpg")];
        async move { submit(client, a, paths).await }
    }))
    .await?;
    let submitted = started.elapsed();
    let mut not_done = 0;
    for id in &ids {
        if final_state(client, a, id).await?["status"] != "DONE" {
            not_done += 1;
        }
    }
    let drained = started.elapsed();
    let s = seen.lock().unwrap();
    let calls = s.calls.len().max(1);
    let paths: usize = s.calls.iter().map(|(_, n)| n).sum();
    let max_items = s.calls.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let mut busiest = 0;
    for (i, (t, _)) in s.calls.iter().enumerate() {
        let n = s.calls[i..].iter().take_while(|(u, _)| u.duration_since(*t) < Duration::from_secs(1)).count();
        busiest = busiest.max(n);
    }
    println!(
        "| backlog: {count} one-path invalidations, provider limit {} calls/s | submitted in {:.1} s, drained in {:.1} s | {calls} calls, {:.2} calls per path, up to {max_items} paths a call | busiest second {busiest} calls; {} answered 429 | {} not DONE | goal: never over the limit, none in error: {} |",
        a.limit,
        submitted.as_secs_f64(),
        drained.as_secs_f64(),
        calls as f64 / paths.max(1) as f64,
        s.refused,
        not_done,
        if busiest <= a.limit && not_done == 0 { "met" } else { "NOT met" }
    );
    Ok(())
}
