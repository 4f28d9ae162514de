//! A private PostgreSQL cluster for the soak: initdb into a temp dir, served
//! on a free loopback port as the `postgres` user (the server refuses root),
//! restarted on demand and removed at the end. The machine's shared cluster
//! on port 5432 is never touched.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_root: bool,
}

/// The newest `/usr/lib/postgresql/*/bin` with an `initdb`.
fn find_bin() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("/usr/lib/postgresql: PostgreSQL's server binaries are needed")?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).context("no initdb under /usr/lib/postgresql/*/bin")
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Cluster {
    pub fn start() -> anyhow::Result<Cluster> {
        let bin = find_bin()?;
        let as_root = String::from_utf8(Command::new("id").arg("-u").output()?.stdout)?.trim() == "0";
        let dir = std::env::temp_dir().join(format!("imgflush-soak-pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        if as_root {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(&dir))?;
        }
        let c = Cluster { bin, dir, port: free_port()?, as_root };
        let data = c.data();
        c.pg("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])?;
        c.pg_ctl(&["start"])?;
        Ok(c)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn pg(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).current_dir(&self.dir);
        run(&mut cmd).with_context(|| format!("{tool} {}", args.join(" ")))
    }

    fn pg_ctl(&self, action: &[&str]) -> anyhow::Result<()> {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=400 -c shared_buffers=64MB",
            self.port,
            self.dir.display()
        );
        let (log, data) = (self.dir.join("postgres.log").display().to_string(), self.data());
        let mut args = action.to_vec();
        args.extend(["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &opts]);
        self.pg("pg_ctl", &args)
    }

    /// A fast restart: connections are cut, the server comes back on the same port.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.pg_ctl(&["restart", "-m", "fast"])
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl", &["stop", "-D", &self.data(), "-m", "immediate", "-w"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
