//! `server backup` and `server restore` on the real binary: an online backup
//! while the console keeps acknowledging invalidations, restored into a new
//! directory with everything acknowledged before it began, the console
//! started on the restored database; and every refusal.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::binary::{
    api_get, api_key, env_for, ok, refused, run_async, stderr, stdout, Console, ADMIN_EMAIL, ADMIN_PASSWORD,
};
use imgflush::backend::store::{self, AuditQuery, ListQuery};
use imgflush::domain::{InvalidationId, Status};

/// What the write loop got back: each 201's invalidation and when it came.
type Acked = Arc<Mutex<Vec<(InvalidationId, Instant)>>>;

fn submit_loop(console: &Console, secret: &str, acked: Acked, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let (url, auth) = (console.url("/api/v1/invalidations"), format!("Bearer {secret}"));
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let body = serde_json::json!({"scope": "original", "urls": [format!("/sample.li/x-{n}.jpg")]});
            let resp = client.post(&url).header("authorization", &auth).json(&body).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().await.unwrap_or_default());
            let answer: serde_json::Value = resp.json().await.unwrap();
            let id = answer["invalidation"]["id"].as_str().unwrap().parse().unwrap();
            acked.lock().unwrap().push((InvalidationId(id), Instant::now()));
        }
    })
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_restores_everything_acknowledged_before_it() {
    common::within_limit(scenario()).await;
}

async fn scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let (live, restored, backups) = (tmp.path().join("live"), tmp.path().join("restored"), tmp.path().join("backups"));
    for d in [&live, &restored, &backups] {
        std::fs::create_dir_all(d).unwrap();
    }
    let env = env_for(&format!("sqlite://{}/imgflush.db", live.display()), &live);
    let console = Console::start(&env, &live).await;
    let secret = api_key("demo", "t", &env, &live);
    // Enough rows that the copy takes a while beside the writes.
    ok(&["seed", "--project", "demo", "--count", "30000", "--days", "20"], &env, &live);
    let admin = console.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let saved = admin
        .post(console.url("/sfn/save_retention"))
        .header("origin", format!("http://{}", console.addr))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[("project", "demo"), ("retention_days", "45")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status().as_u16(), 200, "{}", saved.text().await.unwrap());

    let (acked, stop): (Acked, _) = (Arc::default(), Arc::new(AtomicBool::new(false)));
    let loops: Vec<_> = (0..4).map(|_| submit_loop(&console, &secret, acked.clone(), stop.clone())).collect();
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup = backups.join("imgflush.db");
    let to = backup.display().to_string();
    let began = Instant::now();
    let out = run_async(&["backup", "--to", &to], &env, &live).await;
    let ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        l.await.unwrap();
    }
    let printed = stdout(&out);
    assert!(out.status.success(), "{printed}{}", stderr(&out));
    println!("{printed}");
    assert!(printed.contains("integrity_check: ok"), "{printed}");
    let acked = acked.lock().unwrap().clone();
    let before: Vec<_> = acked.iter().filter(|(_, at)| *at < began).map(|(id, _)| *id).collect();
    let copied = count_before(&printed, " invalidations");
    assert!(copied >= 30_000 + before.len() as i64 && copied <= 30_000 + acked.len() as i64, "{printed}");
    let during = acked.iter().filter(|(_, at)| *at >= began && *at <= ended).count();
    println!("acknowledged: {} before the backup, {during} while it ran, {} in all", before.len(), acked.len());
    assert!(during > 0, "the console kept acknowledging writes while the backup ran");

    // Read beside the live console (WAL): nothing pending.
    let dry = ok(&["migrate", "--dry-run"], &env, &live);
    assert!(dry.contains("0 pending; nothing applied"), "{dry}");
    // Refused beside the live console: a restore over its database, a second backup over the first.
    let live_restore = refused(&["restore", "--from", &to, "--force"], &env, &live);
    assert!(live_restore.contains("open in another process"), "{live_restore}");
    let again = refused(&["backup", "--to", &to], &env, &live);
    assert!(again.contains("--to") && again.contains("--force"), "{again}");
    console.stop();

    // Into a new directory.
    let env2 = env_for(&format!("sqlite://{}/imgflush.db", restored.display()), &restored);
    let out = ok(&["restore", "--from", &to], &env2, &restored);
    println!("{out}");
    assert!(out.contains("restored") && out.contains("integrity_check: ok"), "{out}");
    let twice = refused(&["restore", "--from", &to], &env2, &restored);
    assert!(twice.contains("exists") && twice.contains("--force"), "{twice}");
    refusals(tmp.path(), &backup, &env2, &restored).await;

    let console2 = Console::start(&env2, &restored).await;
    console2.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let listed = api_get(&console2.url("/api/v1/invalidations?limit=100"), &secret).await;
    let ids: Vec<&str> =
        listed["invalidations"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    let newest_before = before.iter().max_by_key(|id| id.0).unwrap().to_string();
    assert!(ids.contains(&newest_before.as_str()), "{newest_before} in {ids:?}");
    let one = format!("/api/v1/invalidations/{newest_before}");
    let detail = api_get(&console2.url(&one), &secret).await;
    assert_eq!(detail["history"][0]["status"], "RECEIVED", "{detail}");
    let restored_live = refused(&["restore", "--from", &to, "--force"], &env2, &restored);
    assert!(restored_live.contains("open in another process"), "{restored_live}");
    console2.stop();
    // Over the database console2 left (with its WAL index): replaced whole.
    let replaced = ok(&["restore", "--from", &to, "--force"], &env2, &restored);
    assert!(replaced.contains("replacing the database that was there"), "{replaced}");
    for side in ["imgflush.db-wal", "imgflush.db-shm", "imgflush.db-journal"] {
        assert!(!restored.join(side).exists(), "{side} left beside the restored database");
    }
    check_restored(&format!("sqlite://{}", restored.join("imgflush.db").display()), &before).await;
}

/// The number printed just before `what` (`… 30212 invalidations, …`).
fn count_before(text: &str, what: &str) -> i64 {
    let head = &text[..text.find(what).unwrap_or_else(|| panic!("{what} in {text}"))];
    head.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Every invalidation acknowledged before the backup began is there with
/// its history and its audit row; the retention the admin saved too.
async fn check_restored(url: &str, before: &[InvalidationId]) {
    let connected = store::connect(url).await.unwrap();
    let s = connected.store;
    let demo = s.project_by_token("demo").await.unwrap();
    assert_eq!(s.retention_days(demo.id).await.unwrap(), 45);
    let audit = AuditQuery { project_id: Some(demo.id), limit: 100_000, ..Default::default() };
    let trail = s.list_audit(&audit).await.unwrap();
    let submitted: std::collections::HashSet<String> = trail
        .iter()
        .filter(|e| e.action == "invalidation.submitted")
        .filter_map(|e| e.detail.split(':').next().map(str::to_owned))
        .collect();
    assert!(trail.iter().any(|e| e.action == "settings.changed" && e.detail.contains("→ 45")), "retention audited");
    for id in before {
        let inv = s.invalidation(demo.id, *id).await.unwrap_or_else(|e| panic!("{id} acknowledged, missing: {e}"));
        let events = s.events(*id).await.unwrap();
        assert_eq!(events.first().map(|e| e.status), Some(Status::Received), "{id}");
        assert_eq!(events.last().map(|e| e.status), Some(inv.status), "{id}: history ends at its status");
        assert!(submitted.contains(&id.to_string()), "{id}: its audit row");
    }
    let all = s.list_invalidations(demo.id, &ListQuery { limit: 1, ..Default::default() }).await.unwrap();
    assert!(!all.is_empty());
}

/// Nothing is replaced by a file that is not an imgflush database, a
/// damaged one, or for PostgreSQL (whose own tools are named).
async fn refusals(tmp: &Path, backup: &Path, env: &[(String, String)], dir: &Path) {
    let database = dir.join("imgflush.db");
    let unchanged = sha(&database);
    let text = tmp.join("notes.txt");
    std::fs::write(&text, "not a database\n".repeat(500)).unwrap();
    let foreign = tmp.join("other.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&foreign).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql("CREATE TABLE things (a); INSERT INTO things VALUES (1);").execute(&pool).await.unwrap();
    pool.close().await;
    let damaged = tmp.join("damaged.db");
    let mut bytes = std::fs::read(backup).unwrap();
    let middle = bytes.len() / 2 / 4096 * 4096;
    bytes[middle..middle + 4096].fill(0xAB);
    std::fs::write(&damaged, bytes).unwrap();
    for (file, says) in [
        (&text, "not an SQLite database"),
        (&foreign, "not an imgflush database"),
        (&damaged, "damaged"),
        (&tmp.join("missing.db"), "no such file"),
    ] {
        let err = refused(&["restore", "--from", &file.display().to_string(), "--force"], env, dir);
        assert!(err.contains(says), "{}: {err}", file.display());
        println!("{}: {}", file.display(), err.trim());
    }
    assert_eq!(sha(&database), unchanged, "a refused restore changes nothing");

    let pg: Vec<_> = env
        .iter()
        .map(|(k, v)| match k.as_str() {
            "DATABASE_URL" => (k.clone(), "postgres://imgflush:pw@127.0.0.1:5432/imgflush".to_owned()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let b = refused(&["backup", "--to", &tmp.join("pg.db").display().to_string()], &pg, dir);
    assert!(b.contains("pg_dump -Fc") && b.contains("pg_restore") && !b.contains(":pw@"), "{b}");
    let r = refused(&["restore", "--from", &backup.display().to_string()], &pg, dir);
    assert!(r.contains("pg_restore"), "{r}");
}
