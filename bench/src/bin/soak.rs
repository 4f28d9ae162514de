//! Soak (issue 12, not a test): 2 console instances and 3 worker processes
//! on one private PostgreSQL cluster; N invalidations submitted through both
//! consoles' native API (with Idempotency-Keys, so a retry after an outage
//! never doubles one) while workers are SIGKILLed and restarted at random,
//! against recording purge targets (one edge, one webhook). Checked at the
//! end: every submitted invalidation is stored and DONE, each target was
//! purged for it, and no two purge calls for the same invalidation and
//! target were in flight at once. Run 1 as is; run 2 also restarts
//! PostgreSQL once mid-run (processes reconnect on their own); in run 3 the
//! consoles run their own workers, as `server serve` does by default (a job
//! submitted while one of their lanes is idle is stored leased to it and
//! handed over in memory), and consoles are SIGKILLed too: their handed-over
//! jobs must come back through their leases, and a submission cut off by a
//! kill is retried on the other console with the same Idempotency-Key.
//!
//!   soak --server target/debug/server [--count 10000] [--kills 20]
//!   BENCH_SMALL=1: 500 invalidations and at least 5 kills per run.
//!
//! Submissions are spread over 1.5 × the wanted kills' mean time, so the kills
//! land while work is in flight however fast the build drains it.
//!
//! Prints a Markdown table; exits non-zero when anything was lost or purged
//! concurrently twice.

#[path = "soak/cluster.rs"]
mod cluster;
#[path = "soak/fleet.rs"]
mod fleet;
#[path = "soak/submit.rs"]
mod submit;
#[path = "soak/targets.rs"]
mod targets;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::sync::Mutex;

use cluster::{free_port, Cluster};
use fleet::{chaos, chaos_mean, Fleet, Kills};
use submit::submit_all;

struct Args {
    server: PathBuf,
    count: usize,
    kills: usize,
    small: bool,
}

fn args() -> anyhow::Result<Args> {
    let small = std::env::var("BENCH_SMALL").is_ok_and(|v| v == "1");
    let (count, kills) = if small { (500, 5) } else { (10_000, 20) };
    let mut a = Args { server: PathBuf::new(), count, kills, small };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--server" => a.server = value.into(),
            "--count" => a.count = value.parse().context("--count: a number")?,
            "--kills" => a.kills = value.parse().context("--kills: a number")?,
            other => bail!("unknown flag {other}"),
        }
    }
    if !a.server.is_file() {
        bail!("usage: soak --server PATH/TO/server [--count N] [--kills N]");
    }
    Ok(a)
}

#[derive(Default)]
struct Figures {
    submitted: usize,
    done: usize,
    lost: usize,
    extra_rows: usize,
    unpurged: usize,
    duplicates: usize,
    kills: Kills,
    restarts: usize,
    handed: u64,
    calls: usize,
    wall: Duration,
}

/// What a run does besides SIGKILLing workers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    WorkersKilled,
    PostgresRestart,
    ConsolesKilledToo,
}

impl Mode {
    fn describe(self) -> &'static str {
        match self {
            Mode::WorkersKilled => "workers killed",
            Mode::PostgresRestart => "with a PostgreSQL restart",
            Mode::ConsolesKilledToo => "consoles with their own workers, killed too",
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let cluster = Cluster::start()?;
    // On SIGINT/SIGTERM the soak's future is dropped: its processes are
    // killed (kill_on_drop) and the cluster stopped and removed (Drop).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let result = tokio::select! {
        r = soak(&a, &cluster) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        _ = term.recv() => Err(anyhow::anyhow!("terminated")),
    };
    drop(cluster);
    result
}

async fn soak(a: &Args, cluster: &Cluster) -> anyhow::Result<()> {
    let log = targets::Log::default();
    let targets = log.serve().await?;
    let admin = sqlx::PgPool::connect(&cluster.url("postgres")).await?;
    println!(
        "| run | submitted | done | lost | concurrent duplicate purges | kills (of them consoles) | \
         PostgreSQL restarts | handed to consoles' workers | purge calls | wall time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    for (n, mode) in [(1, Mode::WorkersKilled), (2, Mode::PostgresRestart), (3, Mode::ConsolesKilledToo)] {
        let f = run(a, cluster, &admin, targets, &log, n, mode).await?;
        let kills = f.kills.workers + f.kills.consoles;
        println!(
            "| {n}: {} | {} | {} | {} | {} | {kills} ({}) | {} | {} | {} | {:.1} s |",
            mode.describe(),
            f.submitted,
            f.done,
            f.lost,
            f.duplicates,
            f.kills.consoles,
            f.restarts,
            f.handed,
            f.calls,
            f.wall.as_secs_f64()
        );
        if f.lost > 0 || f.duplicates > 0 || f.unpurged > 0 || f.extra_rows > 0 || f.submitted != a.count {
            failures.push(format!(
                "run {n}: {} of {} submitted, {} lost, {} stored twice, {} not purged on every target, {} concurrent duplicates",
                f.submitted, a.count, f.lost, f.extra_rows, f.unpurged, f.duplicates
            ));
        }
        if kills < a.kills {
            failures.push(format!("run {n}: only {kills} kills (wanted {})", a.kills));
        }
        if mode == Mode::ConsolesKilledToo && (f.kills.consoles == 0 || f.handed == 0) {
            failures.push(format!(
                "run {n}: {} consoles killed, {} jobs handed to their workers: the run did not test the handoff",
                f.kills.consoles, f.handed
            ));
        }
    }
    println!();
    println!(
        "{} invalidations per run{}, 2 consoles, 3 workers (lease 3 s), targets: 1 edge + 1 webhook recorder; \
         lost = submitted but not stored or not DONE; purge calls include the repeats that at-least-once allows; \
         run 3's consoles run their own workers (`server serve`), runs 1 and 2's do not (`serve --no-worker`).",
        a.count,
        if a.small { " (BENCH_SMALL)" } else { "" }
    );
    admin.close().await;
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

async fn run(
    a: &Args,
    cluster: &Cluster,
    admin: &sqlx::PgPool,
    targets: std::net::SocketAddr,
    log: &targets::Log,
    n: usize,
    mode: Mode,
) -> anyhow::Result<Figures> {
    let db = format!("soak_{n}");
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(admin).await?;
    let url = cluster.url(&db);
    let dir = std::env::temp_dir().join(format!("imgflush-soak-{}-run{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut fleet = Fleet::new(&a.server, &url, &dir, mode == Mode::ConsolesKilledToo);
    let console_a = fleet.console(free_port()?).await?;
    for (kind, name) in [("edge", "edge-1"), ("webhook", "hook-1")] {
        let target = format!("http://{targets}/t/{name}");
        fleet.cli(&["target", "add", "--project", "demo", "--kind", kind, "--name", name, "--url", &target]).await?;
    }
    let key_a = fleet.cli(&["key", "add", "--project", "demo", "--name", "soak-a", "--role", "editor"]).await?;
    let key_b = fleet.cli(&["key", "add", "--project", "demo", "--name", "soak-b", "--role", "editor"]).await?;
    let console_b = fleet.console(free_port()?).await?;
    for _ in 0..3 {
        let w = fleet.worker()?;
        fleet.workers.push(w);
    }
    log.clear();
    let fleet = Arc::new(Mutex::new(fleet));
    let started = Instant::now();
    let (stop, submitted) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let chaos = tokio::spawn(chaos(fleet.clone(), stop.clone(), a.small));

    let consoles = [(console_a.as_str(), key_a.as_str()), (console_b.as_str(), key_b.as_str())];
    // Long enough for the wanted kills at chaos's mean pace, with room to spare.
    let over = chaos_mean(a.small).mul_f64(a.kills as f64 * 1.5);
    let submit = submit_all(&consoles, a.count, over, n, &submitted);
    let restarts = async {
        if mode != Mode::PostgresRestart {
            return Ok(0);
        }
        while submitted.load(Ordering::Relaxed) < a.count / 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::task::block_in_place(|| cluster.restart()).map(|()| 1)
    };
    let (ids, restarts) = tokio::join!(submit, restarts);
    let (ids, restarts) = (ids?, restarts?);

    let pool = sqlx::PgPool::connect(&url).await?;
    let deadline = Instant::now() + Duration::from_secs(if a.small { 120 } else { 1200 });
    loop {
        let row: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE status IN ('DONE', 'ERROR', 'ERROR_CDN_NODE', 'CANCELLED')), COUNT(*) \
             FROM invalidations",
        )
        .fetch_one(&pool)
        .await;
        if row.is_ok_and(|(final_, all)| final_ == all && all as usize >= ids.len()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let kills = chaos.await??;
    let (survived, handed) = {
        let mut fleet = fleet.lock().await;
        let survived = fleet.all_alive()?;
        fleet.count_handed().await;
        fleet.stop().await;
        (survived, fleet.handed)
    };
    if !survived {
        eprintln!("a console or worker exited on its own during run {n}: see {}", dir.display());
    }

    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id::text, status FROM invalidations").fetch_all(&pool).await?;
    pool.close().await;
    let done: HashSet<&str> = rows.iter().filter(|(_, s)| s == "DONE").map(|(id, _)| id.as_str()).collect();
    let stored: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let calls = log.calls();
    let purged = targets::purged(&calls);
    let unpurged = ids
        .iter()
        .filter(|id| done.contains(id.as_str()))
        .filter(|id| ["edge-1", "hook-1"].iter().any(|t| !purged.contains(&(id.to_string(), t.to_string()))))
        .count();
    let lost = ids.iter().filter(|id| !done.contains(id.as_str())).count();
    if survived && lost == 0 {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("run {n}: the processes' logs are in {}", dir.display());
    }
    Ok(Figures {
        submitted: ids.len(),
        done: ids.iter().filter(|id| done.contains(id.as_str())).count(),
        lost,
        extra_rows: stored.len().saturating_sub(ids.len()),
        unpurged,
        duplicates: targets::concurrent_duplicates(&calls),
        kills,
        restarts,
        handed,
        calls: calls.len(),
        wall,
    })
}
