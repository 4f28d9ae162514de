//! nginx as the benchmarks' peer: `sendfile on`, serving `{dir}/www` on a
//! loopback port, stopped when dropped. Shared by `edge.rs` and `hits.rs`
//! (`#[path = "support/nginx.rs"] mod nginx;`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    pub child: Child,
    conf: PathBuf,
    prefix: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ =
            Command::new("nginx").arg("-c").arg(&self.conf).arg("-p").arg(&self.prefix).args(["-s", "stop"]).status();
        let _ = self.child.wait();
    }
}

/// Starts nginx with `workers` (`auto` or a number) and one `types` entry
/// (e.g. `image/png png`), and waits until it accepts connections.
pub fn start(dir: &Path, port: u16, workers: &str, types: &str) -> Nginx {
    let d = dir.display();
    let conf = format!(
        "user root; worker_processes {workers}; daemon off; pid {d}/nginx.pid; error_log {d}/nginx-error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
           client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3; uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n\
           types {{ {types}; }}\n\
           server {{ listen 127.0.0.1:{port}; root {d}/www; }} }}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nginx { child, conf: path, prefix: dir.to_owned() };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("nginx did not start");
}
