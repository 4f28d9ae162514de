//! The processes under test: console instances (`server serve --no-worker`,
//! or `server serve` with their own worker, the default deployment) and
//! worker processes (`server worker`), all real `server` binaries on one
//! database, each logging to its own file. Workers, and in the last run
//! consoles too, are killed with SIGKILL at random moments (`chaos`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

pub struct Fleet {
    server: PathBuf,
    logs: PathBuf,
    env: Vec<(String, String)>,
    pub consoles: Vec<(Child, String)>,
    pub workers: Vec<Child>,
    spawned: usize,
    /// Consoles run their own worker (jobs submitted while one of its lanes
    /// is idle are handed straight to it), and may be killed.
    console_workers: bool,
    /// Jobs the consoles handed to their own workers, read from each
    /// console's `/metrics` before it is killed and at the end.
    pub handed: u64,
}

impl Fleet {
    /// `db`: the database URL; `dir`: where logs and the (absent) config file go.
    pub fn new(server: &Path, db: &str, dir: &Path, console_workers: bool) -> Fleet {
        let env = [
            ("DATABASE_URL", db.to_owned()),
            ("IMGFLUSH_CONFIG", "/dev/null".to_owned()),
            ("APP__EDGE__EMBEDDED", "false".into()),
            ("ADMIN_PASSWORD", "soak-admin-password-1".into()),
            // Limits raised for the run: the soak is about the queue, not the API's budget.
            ("APP__API__REQUESTS_PER_MINUTE", "100000000".into()),
            ("APP__API__REQUESTS_PER_MINUTE_PER_SOURCE", "100000000".into()),
            ("APP__TARGETS__ALLOWED_NETWORKS", "127.0.0.0/8".into()),
            // Short leases, so a killed worker's jobs come back within seconds;
            // many claims, so a job abandoned by several killed workers in a
            // row is still run rather than given up on.
            ("APP__WORKER__LEASE_SECS", "3".into()),
            ("APP__WORKER__POLL_MS", "250".into()),
            ("APP__WORKER__BACKOFF_MS", "100".into()),
            ("APP__WORKER__MAX_ATTEMPTS", "5".into()),
            ("APP__WORKER__MAX_CLAIMS", "1000".into()),
            ("RUST_LOG", "warn".into()),
        ];
        Fleet {
            server: server.to_owned(),
            logs: dir.to_owned(),
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            consoles: Vec::new(),
            workers: Vec::new(),
            spawned: 0,
            console_workers,
            handed: 0,
        }
    }

    fn command(&mut self, what: &str) -> anyhow::Result<Command> {
        self.spawned += 1;
        let log = std::fs::File::create(self.logs.join(format!("{what}-{}.log", self.spawned)))?;
        let mut cmd = Command::new(&self.server);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        Ok(cmd)
    }

    /// Runs a `server` CLI command to the end; answers its last output line.
    pub async fn cli(&mut self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(&self.server).envs(self.env.iter().map(|(k, v)| (k, v))).args(args).output().await?;
        if !out.status.success() {
            bail!("server {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned())
    }

    /// Starts a console on `port` and waits until it is ready.
    pub async fn console(&mut self, port: u16) -> anyhow::Result<String> {
        let base = format!("http://127.0.0.1:{port}");
        let child = self.console_process(port)?;
        self.consoles.push((child, base.clone()));
        self.ready(&base).await?;
        Ok(base)
    }

    fn console_process(&mut self, port: u16) -> anyhow::Result<Child> {
        let mut cmd = self.command("console")?;
        cmd.arg("serve").env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"));
        if !self.console_workers {
            cmd.arg("--no-worker");
        }
        cmd.spawn().context("starting a console")
    }

    async fn ready(&self, base: &str) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the console on {base} did not become ready (see {})", self.logs.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn worker(&mut self) -> anyhow::Result<Child> {
        self.command("worker")?.arg("worker").spawn().context("starting a worker")
    }

    /// SIGKILLs worker `i` and starts a new one in its place.
    pub async fn kill_and_restart(&mut self, i: usize, pause: Duration) -> anyhow::Result<()> {
        self.workers[i].start_kill()?;
        self.workers[i].wait().await?;
        tokio::time::sleep(pause).await;
        self.workers[i] = self.worker()?;
        Ok(())
    }

    /// SIGKILLs console `i` (after reading how many jobs it handed to its
    /// worker) and starts a new one on the same port; waits until it is ready.
    pub async fn kill_console_and_restart(&mut self, i: usize, pause: Duration) -> anyhow::Result<()> {
        let base = self.consoles[i].1.clone();
        self.handed += handed_over(&base).await;
        self.consoles[i].0.start_kill()?;
        self.consoles[i].0.wait().await?;
        tokio::time::sleep(pause).await;
        let port = base.rsplit(':').next().and_then(|p| p.parse().ok()).context("the console's port")?;
        self.consoles[i].0 = self.console_process(port)?;
        self.ready(&base).await
    }

    /// Reads the running consoles' handed-over counts into [`Fleet::handed`].
    pub async fn count_handed(&mut self) {
        for (_, base) in &self.consoles {
            self.handed += handed_over(base).await;
        }
    }

    /// Whether every process is still running (none exited on its own).
    pub fn all_alive(&mut self) -> anyhow::Result<bool> {
        let mut alive = true;
        for c in self.consoles.iter_mut().map(|(c, _)| c).chain(self.workers.iter_mut()) {
            alive &= c.try_wait()?.is_none();
        }
        Ok(alive)
    }

    pub async fn stop(&mut self) {
        for c in self.consoles.iter_mut().map(|(c, _)| c).chain(self.workers.iter_mut()) {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }
}

/// `imgflush_worker_jobs_handed_over_total` on the console at `base` (0 if
/// it cannot be read: the count is a figure of the run, not a check).
async fn handed_over(base: &str) -> u64 {
    let name = "imgflush_worker_jobs_handed_over_total ";
    let Ok(resp) = reqwest::get(format!("{base}/metrics")).await else { return 0 };
    let text = resp.text().await.unwrap_or_default();
    text.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0) as u64
}

/// Milliseconds between kills: at least the first, plus up to the second.
fn chaos_pace(small: bool) -> (u64, u64) {
    if small {
        (300, 500)
    } else {
        (800, 1500)
    }
}

/// The mean time between kills.
pub fn chaos_mean(small: bool) -> Duration {
    let (base, spread) = chaos_pace(small);
    Duration::from_millis(base + spread / 2)
}

/// How many processes of each kind `chaos` killed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kills {
    pub workers: usize,
    pub consoles: usize,
}

/// Kills a random worker with SIGKILL every so often and starts a new one
/// (when the consoles run their own workers, every second kill is of a
/// random console instead: a fixed share, so even a short run kills some),
/// while the run lasts (kills after the work is done would prove nothing,
/// so too few of them is reported, not made up). Answers the kills.
pub async fn chaos(fleet: Arc<Mutex<Fleet>>, stop: Arc<AtomicBool>, small: bool) -> anyhow::Result<Kills> {
    let mut kills = Kills::default();
    let (base, spread) = chaos_pace(small);
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(base + rand::random::<u64>() % spread)).await;
        let mut fleet = fleet.lock().await;
        let pause = Duration::from_millis(rand::random::<u64>() % 300);
        if fleet.console_workers && kills.workers > kills.consoles {
            let victim = rand::random::<usize>() % fleet.consoles.len();
            fleet.kill_console_and_restart(victim, pause).await?;
            kills.consoles += 1;
        } else {
            let victim = rand::random::<usize>() % fleet.workers.len();
            fleet.kill_and_restart(victim, pause).await?;
            kills.workers += 1;
        }
    }
    Ok(kills)
}
