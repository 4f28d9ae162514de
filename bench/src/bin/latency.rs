//! Submit→DONE latency (issue: real CDN nodes): invalidations of N paths
//! each arrive at a steady rate through `POST /api/v1/invalidations`; for
//! each, the time from the API call being sent to the DONE time the console
//! stored (in ms: a figure may read up to 1 ms short). Needs a running stack (`bench/run.sh latency` starts one with
//! 1 edge and 2 Varnish nodes). Prints one Markdown table row set.
//!
//!   latency --console http://127.0.0.1:3100 --key imf_… --origin 127.0.0.1:3103
//!           [--count 1000] [--paths 10] [--rate 20] [--load-rate 0]
//!
//! `--load-rate R` also sends R anchor-format `POST /invalidate` calls a
//! second (2 paths each, as `bench/api.lua`) for as long as the probes run:
//! the latency under API load (`bench/run.sh api` gives it half the peak).
//!
//! `LATENCY_SLOW_MS=N` also lists, on standard error, each probe slower than
//! N ms with the time it was sent (to match against a console's log).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

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
    load_rate: f64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        console: String::new(),
        key: String::new(),
        origin: String::new(),
        count: 1000,
        paths: 10,
        rate: 20.0,
        load_rate: 0.0,
    };
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
            "--load-rate" => a.load_rate = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.console.is_empty() || a.key.is_empty() || a.origin.is_empty() {
        bail!("usage: latency --console URL --key KEY --origin HOST:PORT [--count N] [--paths N] [--rate PER_SECOND] [--load-rate PER_SECOND]");
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let load =
        (a.load_rate > 0.0).then(|| tokio::spawn(load(client.clone(), a.console.clone(), a.key.clone(), a.load_rate)));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
    let mut calls = Vec::with_capacity(a.count);
    for i in 0..a.count {
        tick.tick().await;
        let paths: Vec<String> = (0..a.paths).map(|k| format!("/{}/bench/{i}/{k}.jpg", a.origin)).collect();
        let (client, url, key) = (client.clone(), format!("{}/api/v1/invalidations", a.console), a.key.clone());
        calls.push(tokio::spawn(async move {
            // From the moment it is sent: with no target a job can be DONE
            // before the client has read the `201`.
            let sent = SystemTime::now();
            let resp =
                client.post(url).bearer_auth(key).json(&json!({"scope": "original", "urls": paths})).send().await?;
            let status = resp.status();
            let body: Value = resp.json().await?;
            if status != 201 {
                bail!("HTTP {status}: {body}");
            }
            let id = body["invalidation"]["id"].as_str().context("no id")?.to_owned();
            anyhow::Ok((id, DateTime::<Utc>::from(sent)))
        }));
    }
    let mut submitted = Vec::with_capacity(a.count);
    for c in calls {
        submitted.push(c.await??);
    }
    let load = match load {
        Some(task) => {
            task.abort();
            Some(LOAD.snapshot())
        }
        None => None,
    };

    // Every invalidation's stored final time, once all are final.
    let mut latencies = Vec::with_capacity(a.count);
    let mut not_done = 0;
    let slow: Option<f64> = std::env::var("LATENCY_SLOW_MS").ok().and_then(|v| v.parse().ok());
    for (id, sent) in &submitted {
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
        let ms = (finished - *sent).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        if slow.is_some_and(|limit| ms > limit) {
            eprintln!("slow probe: sent {} took {ms:.1} ms ({id})", sent.format("%H:%M:%S%.3f"));
        }
        latencies.push(ms);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    if latencies.is_empty() {
        bail!("no invalidation reached DONE ({not_done} ended in an error)");
    }
    let p99 = pct(0.99);
    let under = match load {
        Some((created, other, secs)) => format!(
            " while the API took {:.0} new invalidations/s (asked {:.0}/s; {other} other answers)",
            created as f64 / secs,
            a.load_rate
        ),
        None => String::new(),
    };
    println!("| Submit→DONE, {} invalidations × {} paths at {}/s{under} | p50 {:.1} ms | p99 {:.1} ms | max {:.1} ms | goal p99 ≤ 50 ms: {} |",
        a.count, a.paths, a.rate, pct(0.50), p99, latencies[latencies.len() - 1],
        if p99 <= 50.0 && not_done == 0 { "met" } else { "NOT met" });
    if not_done > 0 {
        println!("| {not_done} invalidations ended in an error status (see the console) | | | | |");
    }
    Ok(())
}

/// What the background load has had answered: `201`s, anything else, since when.
struct LoadCounts {
    created: AtomicU64,
    other: AtomicU64,
    started: std::sync::OnceLock<Instant>,
}

static LOAD: LoadCounts =
    LoadCounts { created: AtomicU64::new(0), other: AtomicU64::new(0), started: std::sync::OnceLock::new() };

impl LoadCounts {
    fn snapshot(&self) -> (u64, u64, f64) {
        let secs = self.started.get().map_or(1.0, |t| t.elapsed().as_secs_f64());
        (self.created.load(Ordering::Relaxed), self.other.load(Ordering::Relaxed), secs)
    }
}

/// Open-loop load: every 10 ms, the calls due at `rate` per second, each on
/// its own task (at most 512 in flight; beyond that the load falls behind
/// and the figure printed says so).
async fn load(client: reqwest::Client, console: String, key: String, rate: f64) {
    let url = format!("{console}/invalidate");
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(512));
    let started = *LOAD.started.get_or_init(Instant::now);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut sent = 0u64;
    loop {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * rate) as u64;
        while sent < due {
            sent += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else { break };
            let body = format!(
                r#"{{"scope":"original","urls":["/sample.li/load/{sent}/a.jpg","/sample.li/load/{sent}/b.jpg"]}}"#
            );
            let request =
                client.post(&url).header("X-Client-Key", &key).header("Content-Type", "application/json").body(body);
            tokio::spawn(async move {
                let counter = match request.send().await {
                    Ok(r) if r.status() == 201 => &LOAD.created,
                    _ => &LOAD.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    }
}
