//! Log page cost as the log grows: the server time of the first page of
//! `GET /api/v1/invalidations` (the query behind the console's log), of a
//! page deep in the log (a cursor from the middle), and of a search by path
//! prefix. Sequential calls over loopback after a warm-up; prints one
//! Markdown row with the median and p90 of each, in milliseconds.
//!
//!   logpage --console http://127.0.0.1:3320 --key imf_… --deep UUID --search /seed/123/
//!           [--repeat 200] [--label "sqlite, 10k"]

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};

struct Args {
    console: String,
    key: String,
    deep: String,
    search: String,
    repeat: usize,
    label: String,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        console: String::new(),
        key: String::new(),
        deep: String::new(),
        search: String::new(),
        repeat: 200,
        label: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--console" => a.console = value.trim_end_matches('/').to_owned(),
            "--key" => a.key = value,
            "--deep" => a.deep = value,
            "--search" => a.search = value,
            "--repeat" => a.repeat = value.parse()?,
            "--label" => a.label = value,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.console.is_empty() || a.key.is_empty() || a.deep.is_empty() || a.search.is_empty() {
        bail!("usage: logpage --console URL --key KEY --deep UUID --search PREFIX [--repeat N] [--label TEXT]");
    }
    Ok(a)
}

/// Median and p90 of `repeat` calls of `query`, in ms; each answer must be a
/// full page (the run measures real pages, not errors or empty answers).
async fn measure(client: &reqwest::Client, a: &Args, query: &str) -> anyhow::Result<(f64, f64)> {
    let url = format!("{}/api/v1/invalidations?limit=50{query}", a.console);
    let mut times = Vec::with_capacity(a.repeat);
    for i in 0..a.repeat + a.repeat / 10 {
        let started = Instant::now();
        let resp = client.get(&url).bearer_auth(&a.key).send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await?;
        let took = started.elapsed();
        ensure!(status.is_success(), "{url}: {status} {body}");
        let rows = body["invalidations"].as_array().map_or(0, Vec::len);
        ensure!(rows > 0, "{url}: an empty page");
        if i >= a.repeat / 10 {
            times.push(took.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() * 9 / 10]))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let first = measure(&client, &a, "").await?;
    let deep = measure(&client, &a, &format!("&cursor={}", a.deep)).await?;
    let search = measure(&client, &a, &format!("&q={}", a.search)).await?;
    println!(
        "RESULT first={:.2} first90={:.2} deep={:.2} deep90={:.2} search={:.2} search90={:.2}",
        first.0, first.1, deep.0, deep.1, search.0, search.1
    );
    Ok(())
}
