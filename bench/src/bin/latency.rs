//! Submit→DONE latency (issue: real CDN nodes): invalidations of N paths
//! each arrive at a steady rate through `POST /api/v1/invalidations`; for
//! each, the time from the API call returning to the DONE time the console
//! stored. Needs a running stack (`bench/run.sh latency` starts one with
//! 1 edge and 2 Varnish nodes). Prints one Markdown table row set.
//!
//!   latency --console http://127.0.0.1:3100 --key imf_… --origin 127.0.0.1:3103
//!           [--count 1000] [--paths 10] [--rate 20]

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

struct Args {
    console: String,
    key: String,
    origin: String,
    count: usize,
    paths: usize,
    rate: f64,
}

fn args() -> anyhow::Result<Args> {
    let mut a =
        Args { console: String::new(), key: String::new(), origin: String::new(), count: 1000, paths: 10, rate: 20.0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--console" => a.console = value.trim_end_matches('/').to_owned(),
            "--key" => a.key = value,
            "--origin" => a.origin = value,
            "--count" => a.count = value.parse()?,
            "--paths" => a.paths = value.parse()?,
            "--rate" => a.rate = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.console.is_empty() || a.key.is_empty() || a.origin.is_empty() {
        bail!("usage: latency --console URL --key KEY --origin HOST:PORT [--count N] [--paths N] [--rate PER_SECOND]");
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
    let mut calls = Vec::with_capacity(a.count);
    for i in 0..a.count {
        tick.tick().await;
        let paths: Vec<String> = (0..a.paths).map(|k| format!("/{}/bench/{i}/{k}.jpg", a.origin)).collect();
        let (client, url, key) = (client.clone(), format!("{}/api/v1/invalidations", a.console), a.key.clone());
        calls.push(tokio::spawn(async move {
            let resp =
                client.post(url).bearer_auth(key).json(&json!({"scope": "original", "urls": paths})).send().await?;
            let returned = SystemTime::now();
            let status = resp.status();
            let body: Value = resp.json().await?;
            if status != 201 {
                bail!("HTTP {status}: {body}");
            }
            let id = body["invalidation"]["id"].as_str().context("no id")?.to_owned();
            anyhow::Ok((id, DateTime::<Utc>::from(returned)))
        }));
    }
    let mut submitted = Vec::with_capacity(a.count);
    for c in calls {
        submitted.push(c.await??);
    }

    // Every invalidation's stored final time, once all are final.
    let mut latencies = Vec::with_capacity(a.count);
    let mut not_done = 0;
    for (id, returned) in &submitted {
        // Long-poll: answers once the invalidation is final (or after 30 s).
        let url = format!("{}/api/v1/invalidations/{id}?wait=30", a.console);
        let inv = loop {
            let body: Value = client.get(&url).bearer_auth(&a.key).send().await?.json().await?;
            if !body["invalidation"]["finished_at"].is_null() {
                break body["invalidation"].clone();
            }
        };
        if inv["status"] != "DONE" {
            not_done += 1;
            continue;
        }
        let finished: DateTime<Utc> = inv["finished_at"].as_str().context("finished_at")?.parse()?;
        latencies.push((finished - *returned).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    if latencies.is_empty() {
        bail!("no invalidation reached DONE ({not_done} ended in an error)");
    }
    let p99 = pct(0.99);
    println!("| Submit→DONE, {} invalidations × {} paths at {}/s | p50 {:.1} ms | p99 {:.1} ms | max {:.1} ms | goal p99 ≤ 50 ms: {} |",
        a.count, a.paths, a.rate, pct(0.50), p99, latencies[latencies.len() - 1],
        if p99 <= 50.0 && not_done == 0 { "met" } else { "NOT met" });
    if not_done > 0 {
        println!("| {not_done} invalidations ended in an error status (see the console) | | | | |");
    }
    Ok(())
}
