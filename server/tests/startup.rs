//! The binary as an operator runs it: `server` with no configuration at all
//! in a fresh directory (the embedded SQLite database, the embedded edge and
//! the demo origin on their default loopback ports), started twice; a
//! configuration that cannot work refused with one sentence and exit code 2;
//! and `server config check` / `server config example`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::binary::{api_key, command, purge_sample_until_done};
use serde_json::Value;

const CONSOLE: &str = "http://127.0.0.1:3000";

/// `server ARGS…` in `dir` with `env` and no other configuration.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    command(args, &env, dir).output().expect("server runs")
}

/// A running `server` whose standard output is collected line by line.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(dir: &Path) -> Running {
        let mut child =
            command(&[], &[], dir).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("server starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let kept = lines.clone();
        std::thread::spawn(move || out.lines().map_while(Result::ok).for_each(|l| kept.lock().unwrap().push(l)));
        Running { child, lines }
    }

    /// The first line containing `needle`, waiting for it.
    fn line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server exited ({status}) before printing {needle:?}: {:#?}", self.lines.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "no {needle:?} in {:#?}", self.lines.lock().unwrap());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn printed(&self, needle: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// SIGTERM, as a service manager stops it; answers whether it exited cleanly.
    fn stop(mut self) -> bool {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free(port: u16) {
    if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        panic!("127.0.0.1:{port} is in use: this test runs `server` on its default ports; stop what listens there");
    }
}

#[tokio::test]
async fn starts_with_no_configuration_twice_and_purges_its_embedded_edge() {
    for port in [3000, 3002, 3003, 3004] {
        free(port);
    }
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    let mut first = Running::start(dir.path());
    first.line("imgflush console listening on http://127.0.0.1:3000");
    let password = first.line("password:");
    assert!(password.split_whitespace().last().is_some_and(|p| p.len() >= 12), "{password}");
    assert!(first.printed("This password is printed only once"), "a generated password is shown once");
    assert_eq!(http.get(format!("{CONSOLE}/login")).send().await.unwrap().status(), 200);

    // The demo project's purge of its embedded edge goes through, on the
    // default target allow-list (public addresses only).
    let secret = api_key("demo", "startup", &[], dir.path());
    let done = purge_sample_until_done(CONSOLE, &secret, None).await;
    let edge = &done["targets"][0];
    assert_eq!((edge["kind"].as_str(), edge["state"].as_str()), (Some("edge"), Some("ok")), "{done}");
    assert!(first.stop(), "a SIGTERM ends it cleanly");

    // Every later start, on the same directory.
    let mut second = Running::start(dir.path());
    second.line("imgflush console listening on http://127.0.0.1:3000");
    let http = reqwest::Client::new(); // not the first process's kept-alive connection
    assert_eq!(http.get(format!("{CONSOLE}/login")).send().await.unwrap().status(), 200);
    assert!(!second.printed("First start"), "the admin is created once");
    assert!(second.stop());
}

#[test]
fn a_configuration_that_cannot_work_is_refused_in_one_sentence_with_exit_code_2() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("APP__WORKER__CONCURRENCY", "0")], "APP__WORKER__CONCURRENCY"),
        (&[("APP__API__MAX_BODY_BYTES", "lots")], "max_body_bytes"),
        (&[("IMGFLUSH_CONFIG", "missing.toml")], "IMGFLUSH_CONFIG"),
        (&[("APP__EDGE__EMBEDDED_ADMIN_ADDR", "localhost")], "edge.embedded_admin_addr"),
        (&[("DATABASE_URL", "mysql://db/x")], "database.url"),
        (&[("APP__TELEMETRY__OTLP_ENDPOINT", "collector:4318")], "telemetry.otlp_endpoint"),
    ];
    for (env, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = run(dir.path(), &[], env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{env:?}: one sentence: {stderr}");
        assert!(stderr.starts_with("imgflush: ") && stderr.contains(named), "{env:?}: {stderr}");
        assert!(!dir.path().join("data").exists(), "{env:?}: refused before anything is created");
    }

    // Credentials stored under a key, then a start without the key.
    let dir = tempfile::tempdir().unwrap();
    let key = run(dir.path(), &["secrets", "new-key"], &[]);
    let key = String::from_utf8(key.stdout).unwrap().lines().last().unwrap().trim().to_owned();
    let with_key = [("IMGFLUSH_SECRETS_KEY", key.as_str()), ("CF_TOKEN", "a-cloudflare-token")];
    let made =
        run(dir.path(), &["project", "add", "--token", "shop", "--name", "Shop", "--origin-host", "img.example"], &[]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let cloudflare = [
        "target",
        "add",
        "--project",
        "shop",
        "--kind",
        "cloudflare",
        "--name",
        "cf",
        "--setting",
        "zone_id=023e105f4ecef8ad9ca31a8372d0c353",
        "--setting",
        "api_token=env:CF_TOKEN",
    ];
    let added = run(dir.path(), &cloudflare, &with_key);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let out = run(dir.path(), &["serve"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("secrets.key") && stderr.trim().lines().count() == 1, "{stderr}");
}

#[test]
fn config_check_names_each_values_source_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("imgflush.toml"), "[worker]\nconcurrency = 4\n").unwrap();
    let env = [
        ("APP__API__ALL_PER_HOUR", "3"),
        ("DATABASE_URL", "postgres://imgflush:hunter2@db.internal/imgflush"),
        ("APP__METRICS__TOKEN", "a-metrics-token-of-some-length"),
    ];
    let out = run(dir.path(), &["config", "check"], &env);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    let line =
        |key: &str| text.lines().find(|l| l.starts_with(&format!("{key} "))).unwrap_or_else(|| panic!("{key}: {text}"));
    assert!(line("worker.concurrency").contains("4  [file imgflush.toml]"), "{text}");
    assert!(line("api.all_per_hour").contains("3  [environment APP__API__ALL_PER_HOUR]"), "{text}");
    assert!(line("worker.poll_ms").contains("2000  [default]"), "{text}");
    assert!(line("database.url")
        .contains("postgres://imgflush:[redacted]@db.internal/imgflush  [environment DATABASE_URL]"));
    assert!(line("metrics.token").contains("[redacted]"), "{text}");
    assert!(line("secrets.key").contains("(unset)"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("a-metrics-token"), "{text}");

    let out = run(dir.path(), &["config", "check", "--json"], &env);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], true);
    let keys = json["keys"].as_array().unwrap();
    let concurrency = keys.iter().find(|k| k["key"] == "worker.concurrency").unwrap();
    assert_eq!(
        (concurrency["value"].as_str(), concurrency["source"].as_str()),
        (Some("4"), Some("file imgflush.toml"))
    );

    // IMGFLUSH_CONFIG=/dev/null: no file on purpose (the file in the directory is not read).
    let out = run(dir.path(), &["config", "check"], &[("IMGFLUSH_CONFIG", "/dev/null")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success() && line_of(&text, "worker.concurrency").contains("16  [default]"), "{text}");

    // The same refusal as a start, with exit code 2.
    let out = run(dir.path(), &["config", "check"], &[("APP__WORKER__LEASE_SECS", "0")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("worker.lease_secs"));

    // The example is a configuration that checks, with every key.
    let example = run(dir.path(), &["config", "example"], &[]);
    let example = String::from_utf8(example.stdout).unwrap();
    std::fs::write(dir.path().join("imgflush.toml"), &example).unwrap();
    let out = run(dir.path(), &["config", "check"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(line_of(&text, "worker.concurrency").contains("16  [file imgflush.toml]"), "{text}");
    let secrets = &example[example.find("[secrets]").expect("a [secrets] section")..];
    assert!(secrets.contains("\n# key = \n") && secrets.contains("IMGFLUSH_SECRETS_KEY"), "{example}");
}

fn line_of<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(&format!("{key} "))).unwrap_or_default()
}
