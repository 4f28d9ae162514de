//! The real `server` binary: a console process on a free loopback port and
//! one-shot commands, each with only the environment the test gives it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "owner@example.com";
pub const ADMIN_PASSWORD: &str = "a long owner password 42";

/// What a process of the test's instance reads: its database, no embedded
/// edge, loopback targets, the first admin, no config file (it runs in
/// `dir`, which has none), its edge data directory under `dir`, and no API rate limit that
/// a write loop would reach.
pub fn env_for(database_url: &str, dir: &Path) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url.to_owned()),
        ("APP__EDGE__EMBEDDED", "false".into()),
        ("APP__EDGE__DATA_DIR", dir.join("edge-data").display().to_string()),
        ("APP__TARGETS__ALLOWED_NETWORKS", "127.0.0.0/8".into()),
        ("APP__API__REQUESTS_PER_MINUTE", "1000000".into()),
        ("APP__API__REQUESTS_PER_MINUTE_PER_SOURCE", "1000000".into()),
        ("ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `server ARGS…` in `dir` with `env` and no other configuration: whatever
/// the test's own environment holds that the server reads as configuration
/// (`APP__…`, `IMGFLUSH_…`, `LEPTOS_…`, and every key's aliases such as
/// `DATABASE_URL` or `ADMIN_PASSWORD`) is left out.
///
/// The binary is the one `cargo test` built, or `IMGFLUSH_TEST_SERVER_BINARY`
/// when set: `scripts/test.sh` runs `tests/startup.rs` again on the release
/// binary that `scripts/build-release.sh` made, as an operator starts it.
pub fn command(args: &[&str], env: &[(String, String)], dir: &Path) -> Command {
    let binary = std::env::var_os("IMGFLUSH_TEST_SERVER_BINARY").unwrap_or_else(|| env!("CARGO_BIN_EXE_server").into());
    let mut cmd = Command::new(binary);
    cmd.args(args).current_dir(dir);
    let alias = |k: &str| server::config::KEYS.iter().any(|key| key.aliases.contains(&k));
    for (k, _) in std::env::vars() {
        if k.starts_with("APP__") || k.starts_with("IMGFLUSH_") || k.starts_with("LEPTOS_") || alias(&k) {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Runs `server ARGS…` to its end.
pub fn run(args: &[&str], env: &[(String, String)], dir: &Path) -> Output {
    command(args, env, dir).stdin(Stdio::null()).output().expect("the server binary runs")
}

/// [`run`] off the async runtime's threads.
pub async fn run_async(args: &[&str], env: &[(String, String)], dir: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (env, dir) = (env.to_vec(), dir.to_owned());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, &env, &dir)
    })
    .await
    .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `server ARGS…` succeeded: its stdout.
pub fn ok(args: &[&str], env: &[(String, String)], dir: &Path) -> String {
    let out = run(args, env, dir);
    assert!(out.status.success(), "server {args:?} failed:\n{}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// A new API key of `project` made with `server key add`: its secret (the
/// output's last line).
pub fn api_key(project: &str, name: &str, env: &[(String, String)], dir: &Path) -> String {
    let out = ok(&["key", "add", "--project", project, "--name", name], env, dir);
    out.lines().last().unwrap_or_default().trim().to_owned()
}

/// Submits `/sample.li/flat1.jpg` through `POST /api/v1/invalidations` on
/// the console at `base` (with `traceparent` when given), waits up to 30 s
/// for its final status and asserts DONE; answers the final document.
pub async fn purge_sample_until_done(base: &str, secret: &str, traceparent: Option<&str>) -> serde_json::Value {
    let http = reqwest::Client::new();
    let mut post = http
        .post(format!("{base}/api/v1/invalidations"))
        .bearer_auth(secret)
        .json(&serde_json::json!({ "scope": "original", "urls": ["/sample.li/flat1.jpg"] }));
    if let Some(parent) = traceparent {
        post = post.header("traceparent", parent);
    }
    let created: serde_json::Value = post.send().await.unwrap().json().await.unwrap();
    let id = created["invalidation"]["id"].as_str().unwrap_or_else(|| panic!("{created}"));
    let done = api_get(&format!("{base}/api/v1/invalidations/{id}?wait=30"), secret).await;
    assert_eq!(done["invalidation"]["status"], "DONE", "{done}");
    done
}

/// `GET url` with the API key `secret`; answers the JSON body.
pub async fn api_get(url: &str, secret: &str) -> serde_json::Value {
    reqwest::Client::new().get(url).bearer_auth(secret).send().await.unwrap().json().await.unwrap()
}

/// `server ARGS…` failed with a message, not a panic: its stderr.
pub fn refused(args: &[&str], env: &[(String, String)], dir: &Path) -> String {
    let out = run(args, env, dir);
    let err = stderr(&out);
    assert!(!out.status.success(), "server {args:?} should fail:\n{}{err}", stdout(&out));
    assert!(!err.contains("panicked"), "server {args:?} panicked:\n{err}");
    err
}

/// `server serve` in its own process.
pub struct Console {
    child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
}

impl Console {
    /// Starts it on a free loopback port; returns once `/readyz` answers.
    pub async fn start(env: &[(String, String)], dir: &Path) -> Console {
        Self::start_with(&["serve"], env, dir).await
    }

    /// [`Console::start`] with other arguments (`serve --no-worker`).
    pub async fn start_with(args: &[&str], env: &[(String, String)], dir: &Path) -> Console {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::File::create(dir.join(format!("console-{port}.log"))).unwrap();
        let child = command(args, env, dir)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the server binary starts");
        let mut console = Console { child, addr, dir: dir.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = console.child.try_wait().unwrap() {
                panic!("the console exited ({status}):\n{}", console.log());
            }
            let ready = reqwest::get(console.url("/readyz")).await.is_ok_and(|r| r.status().is_success());
            if ready {
                return console;
            }
            assert!(Instant::now() < deadline, "the console did not start:\n{}", console.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("console-{}.log", self.addr.port()))).unwrap_or_default()
    }

    /// SIGTERM, then waits for it to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A client holding the session of the admin signed in through `/login`.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Client {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let resp = client
            .post(self.url("/login"))
            .header("origin", format!("http://{}", self.addr))
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!((resp.status().as_u16(), location), (303, "/"), "sign-in as {email}");
        client
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
