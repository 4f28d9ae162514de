//! The providers' emulators (`emulators/`, started like PostgreSQL: by the
//! test tooling, installed by `scripts/tools.sh install_emulators`) as child
//! processes: Prism on Cloudflare's and Akamai's own OpenAPI documents, moto
//! for CloudFront, fakes for Fastly and Bunny, and a fault proxy in front;
//! and the identity provider for single sign-on (oidc-provider on Node).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// One emulator process; stopped when dropped.
pub struct Emulator {
    child: Child,
    /// The READY line's fields after the port.
    pub extra: Vec<String>,
    pub port: u16,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM: the launchers stop their own children (Prism, moto).
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    let venv = std::env::var("IMGFLUSH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/imgflush/venv"));
    let python = venv.join("bin/python");
    assert!(python.exists(), "{} is missing: run `source scripts/tools.sh && install_emulators`", python.display());
    python
}

impl Emulator {
    /// Starts `emulators/{script}` with `args` (a free port chosen by it).
    pub fn start(script: &str, args: &[&str]) -> Emulator {
        Self::launch(&python(), script, args)
    }

    /// Starts the Node launcher `emulators/{script}` with `args` (a free
    /// port chosen by it); its packages come from `install_emulators`.
    pub fn start_node(script: &str, args: &[&str]) -> Emulator {
        let installed = root().join("emulators/oidc/node_modules/oidc-provider");
        assert!(
            installed.exists(),
            "{} is missing: run `source scripts/tools.sh && install_emulators`",
            installed.display()
        );
        Self::launch(std::path::Path::new("node"), script, args)
    }

    fn launch(program: &std::path::Path, script: &str, args: &[&str]) -> Emulator {
        let child = Command::new(program)
            .arg(root().join("emulators").join(script))
            .args(["--port", "0"])
            .args(args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {script} with {}: {e}", program.display()));
        Self::ready(child, script)
    }

    /// Waits for the `READY <port> …` line.
    fn ready(mut child: Child, script: &str) -> Emulator {
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut fields = line.split_whitespace();
        assert_eq!(fields.next(), Some("READY"), "{script} printed {line:?}");
        let port = fields.next().and_then(|p| p.parse().ok()).expect("a port");
        Emulator { child, extra: fields.map(str::to_owned).collect(), port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A fault proxy for `provider` in front of this emulator.
    pub fn behind_faults(&self, provider: &str, extra: &[&str]) -> Emulator {
        let upstream = self.url("");
        let mut args = vec!["--upstream", upstream.as_str(), "--provider", provider];
        args.extend_from_slice(extra);
        Emulator::start("fault_proxy.py", &args)
    }

    /// What it received (fakes and proxies record).
    pub async fn requests(&self) -> Vec<Value> {
        let v: Value = reqwest::get(self.url("/__requests")).await.unwrap().json().await.unwrap();
        v.as_array().cloned().unwrap_or_default()
    }

    /// Arms faults on a fault proxy (`{"mode":"429","retry_after":1,"times":1}`).
    pub async fn fault(&self, fault: Value) {
        let resp = reqwest::Client::new().post(self.url("/__fault")).json(&fault).send().await.unwrap();
        assert!(resp.status().is_success(), "arming {fault}");
    }
}
