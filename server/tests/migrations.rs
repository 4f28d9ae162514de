//! Migration 0004 backfills the path index from invalidations stored before it.

mod common;

use common::{Db, TestDb};

const INVALIDATION: &str = "INSERT INTO invalidations (id, project_id, scope, paths, status, submitted_by, \
     created_ms, updated_ms, next_run_ms) VALUES ($1, 1, 'original', $2, 'DONE', 'x', 0, 0, 0)";
const PROJECT: &str = "INSERT INTO projects (token, name, created_ms) VALUES ('demo', 'Demo', 0)";
const PATHS: &str = "SELECT path FROM invalidation_paths WHERE project_id = 1 ORDER BY path";
const PATHS_JSON: &str = r#"["/a/1.jpg","/b/2.jpg"]"#;

#[tokio::test]
async fn sqlite_backfills_invalidation_paths() {
    let db = TestDb::create(Db::Sqlite).await.unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions =
        db.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/sqlite/0001_init.sql")).execute(&pool).await.unwrap();
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    sqlx::query(INVALIDATION).bind(uuid::Uuid::now_v7()).bind(PATHS_JSON).execute(&pool).await.unwrap();
    sqlx::query(INVALIDATION).bind(uuid::Uuid::now_v7()).bind("[]").execute(&pool).await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/sqlite/0004_paths_and_limits.sql")).execute(&pool).await.unwrap();
    let paths: Vec<String> = sqlx::query_scalar(PATHS).fetch_all(&pool).await.unwrap();
    assert_eq!(paths, ["/a/1.jpg", "/b/2.jpg"]);
}

#[tokio::test]
async fn postgres_backfills_invalidation_paths() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/postgres/0001_init.sql")).execute(&pool).await.unwrap();
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    sqlx::query(INVALIDATION).bind(uuid::Uuid::now_v7()).bind(PATHS_JSON).execute(&pool).await.unwrap();
    sqlx::query(INVALIDATION).bind(uuid::Uuid::now_v7()).bind("[]").execute(&pool).await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/postgres/0004_paths_and_limits.sql")).execute(&pool).await.unwrap();
    let paths: Vec<String> = sqlx::query_scalar(PATHS).fetch_all(&pool).await.unwrap();
    assert_eq!(paths, ["/a/1.jpg", "/b/2.jpg"]);
    // The prefix search can use the (project_id, path) index.
    sqlx::query("SET enable_seqscan = off").execute(&pool).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT invalidation_id FROM invalidation_paths WHERE project_id = 1 AND path >= $1 AND path < $2",
    )
    .bind("/a/")
    .bind("/a/\u{10FFFF}")
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(plan.join("\n").contains("invalidation_paths_search_idx"), "{plan:?}");
    pool.close().await;
}

/// Migration 0018 rebuilds SQLite's `targets` without the CHECK on `kind`:
/// existing targets keep their IDs and fields, the setup triggers still bump
/// the project's version, AUTOINCREMENT never reuses an ID, and a provider
/// kind (which the old CHECK refused) is accepted.
#[tokio::test]
async fn sqlite_rebuilds_targets_keeping_rows_and_triggers() {
    let db = TestDb::create(Db::Sqlite).await.unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions =
        db.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (before, after): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|p| p.file_name().unwrap().to_str().unwrap() < "0018");
    for f in &before {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
    }
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    let add = "INSERT INTO targets (project_id, kind, name, url, secret, created_ms) VALUES (1, $1, $2, $3, $4, 0)";
    sqlx::query(add)
        .bind("edge")
        .bind("edge-1")
        .bind("http://127.0.0.1:1/_purge")
        .bind("s")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(add)
        .bind("varnish")
        .bind("v-2")
        .bind("http://127.0.0.1:2/")
        .bind(None::<String>)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(add)
        .bind("varnish")
        .bind("v-3")
        .bind("http://127.0.0.1:3/")
        .bind(None::<String>)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM targets WHERE name = 'v-3'").execute(&pool).await.unwrap();
    assert!(sqlx::query(add)
        .bind("cloudflare")
        .bind("cf")
        .bind("x")
        .bind(None::<String>)
        .execute(&pool)
        .await
        .is_err());
    for f in &after {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
    }
    type Row = (i64, String, String, Option<String>, String, Option<String>);
    let rows: Vec<Row> =
        sqlx::query_as("SELECT id, kind, name, secret, settings, credentials FROM targets ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            (1, "edge".into(), "edge-1".into(), Some("s".into()), "{}".into(), None),
            (2, "varnish".into(), "v-2".into(), None, "{}".into(), None),
        ]
    );
    let version = "SELECT setup_version FROM projects WHERE id = 1";
    let mut last: i64 = sqlx::query_scalar(version).fetch_one(&pool).await.unwrap();
    let cf_url = "https://api.cloudflare.com/client/v4";
    for change in [
        format!("INSERT INTO targets (project_id, kind, name, url, created_ms) VALUES (1, 'cloudflare', 'cf', '{cf_url}', 0)"),
        "UPDATE targets SET url = 'x' WHERE id = 2".to_owned(),
        "DELETE FROM targets WHERE id = 1".to_owned(),
    ] {
        sqlx::query(&change).execute(&pool).await.unwrap();
        let now: i64 = sqlx::query_scalar(version).fetch_one(&pool).await.unwrap();
        assert!(now > last, "{change} bumps the setup version ({last} → {now})");
        last = now;
    }
    let id: i64 = sqlx::query_scalar("SELECT id FROM targets WHERE name = 'cf'").fetch_one(&pool).await.unwrap();
    assert_eq!(id, 4, "AUTOINCREMENT: the removed target's ID is never reused");
}

/// The migration files of `dialect` named below (`true`) or from (`false`) `name`.
fn migration_files(dialect: &str, name: &str, below: bool) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.retain(|p| (p.file_name().unwrap().to_str().unwrap() < name) == below);
    files
}

const EVENT: &str =
    "INSERT INTO invalidation_events (invalidation_id, status, attempt, at_ms) VALUES ($1, 'DONE', 1, 0)";
const SCOPES: &str = "SELECT scope FROM invalidations ORDER BY scope";

/// Migration 0019 lets `scope` be `tag`: invalidations stored before keep
/// their scope and their history (nothing cascades), anything else is still
/// refused.
#[tokio::test]
async fn sqlite_tag_scope_keeps_invalidations_and_their_history() {
    let db = TestDb::create(Db::Sqlite).await.unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions =
        db.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true).foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    for f in migration_files("sqlite", "0019", true) {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
    }
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    sqlx::query(INVALIDATION).bind(a).bind(PATHS_JSON).execute(&pool).await.unwrap();
    sqlx::query(&INVALIDATION.replace("'original'", "'all'")).bind(b).bind("[]").execute(&pool).await.unwrap();
    sqlx::query(EVENT).bind(a).execute(&pool).await.unwrap();
    let tag = INVALIDATION.replace("'original'", "'tag'");
    assert!(sqlx::query(&tag).bind(uuid::Uuid::now_v7()).bind("[]").execute(&pool).await.is_err());
    let mut tx = pool.begin().await.unwrap();
    for f in migration_files("sqlite", "0019", false) {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query(&tag).bind(uuid::Uuid::now_v7()).bind(r#"["products"]"#).execute(&pool).await.unwrap();
    let scopes: Vec<String> = sqlx::query_scalar(SCOPES).fetch_all(&pool).await.unwrap();
    assert_eq!(scopes, ["all", "original", "tag"]);
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invalidation_events").fetch_one(&pool).await.unwrap();
    assert_eq!(events, 1, "the history is kept");
    let bad = INVALIDATION.replace("'original'", "'everything'");
    assert!(sqlx::query(&bad).bind(uuid::Uuid::now_v7()).bind("[]").execute(&pool).await.is_err());
    let check: String =
        sqlx::query_scalar("PRAGMA foreign_key_check").fetch_optional(&pool).await.unwrap().unwrap_or_default();
    assert_eq!(check, "");
}

#[tokio::test]
async fn postgres_tag_scope_keeps_invalidations() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for f in migration_files("postgres", "0019", true) {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
    }
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    sqlx::query(INVALIDATION).bind(uuid::Uuid::now_v7()).bind(PATHS_JSON).execute(&pool).await.unwrap();
    for f in migration_files("postgres", "0019", false) {
        sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
    }
    let tag = INVALIDATION.replace("'original'", "'tag'");
    sqlx::query(&tag).bind(uuid::Uuid::now_v7()).bind(r#"["products"]"#).execute(&pool).await.unwrap();
    let scopes: Vec<String> = sqlx::query_scalar(SCOPES).fetch_all(&pool).await.unwrap();
    assert_eq!(scopes, ["original", "tag"]);
    let bad = INVALIDATION.replace("'original'", "'everything'");
    assert!(sqlx::query(&bad).bind(uuid::Uuid::now_v7()).bind("[]").execute(&pool).await.is_err());
    pool.close().await;
}

/// Applies one dialect's migrations named below `upto` (e.g. `"0020"`), then
/// answers the rest, for a test to run after inserting its rows.
fn split_migrations(dialect: &str, upto: &str) -> (Vec<String>, Vec<String>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (before, after): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|p| p.file_name().unwrap().to_str().unwrap() < upto);
    let read = |v: Vec<std::path::PathBuf>| v.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    (read(before), read(after))
}

const KEY: &str =
    "INSERT INTO api_keys (project_id, name, prefix, secret_hash, role, created_ms) VALUES (1, $1, $1, 'h', $2, 0)";
const KEYED: &str = "INSERT INTO invalidations (id, project_id, scope, paths, status, submitted_by, \
     created_ms, updated_ms, next_run_ms, api_key_id) VALUES ($1, 1, 'original', '[]', 'DONE', 'x', 0, 0, 0, 1)";

/// Migration 0020 lets keys be admins. SQLite rebuilds `api_keys`: the
/// invalidations a key submitted stay linked to it (dropping the old table
/// would set their link to NULL), and a revoked key's ID is never reused.
#[tokio::test]
async fn sqlite_admin_keys_keep_their_invalidations() {
    let db = TestDb::create(Db::Sqlite).await.unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions =
        db.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let (before, after) = split_migrations("sqlite", "0020");
    for sql in &before {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    sqlx::query(KEY).bind("ci").bind("editor").execute(&pool).await.unwrap();
    sqlx::query(KEY).bind("old").bind("support").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM api_keys WHERE name = 'old'").execute(&pool).await.unwrap();
    assert!(sqlx::query(KEY).bind("root").bind("admin").execute(&pool).await.is_err(), "refused before");
    let id = uuid::Uuid::now_v7();
    sqlx::query(KEYED).bind(id).execute(&pool).await.unwrap();
    for sql in &after {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    let link: Option<i64> = sqlx::query_scalar("SELECT api_key_id FROM invalidations WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(link, Some(1), "the invalidation still names its key");
    sqlx::query(KEY).bind("root").bind("admin").execute(&pool).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM api_keys ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(ids, [1, 3], "the revoked key's ID 2 is not reused");
    assert!(sqlx::query(KEY).bind("x").bind("owner").execute(&pool).await.is_err(), "still checked");
    sqlx::query("DELETE FROM api_keys WHERE id = 1").execute(&pool).await.unwrap();
    let link: Option<i64> = sqlx::query_scalar("SELECT api_key_id FROM invalidations WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(link, None, "the foreign key still holds on the rebuilt table");
}

#[tokio::test]
async fn postgres_admin_keys() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (before, after) = split_migrations("postgres", "0020");
    for sql in &before {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    sqlx::query(PROJECT).execute(&pool).await.unwrap();
    assert!(sqlx::query(KEY).bind("root").bind("admin").execute(&pool).await.is_err(), "refused before");
    for sql in &after {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    sqlx::query(KEY).bind("root").bind("admin").execute(&pool).await.unwrap();
    assert!(sqlx::query(KEY).bind("x").bind("owner").execute(&pool).await.is_err(), "still checked");
    pool.close().await;
}
