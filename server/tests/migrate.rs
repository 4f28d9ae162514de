//! `server migrate`: a database two migrations behind lists them as
//! pending, `--dry-run` changes nothing, and the command applies them; a
//! database this build cannot run on is refused. SQLite and PostgreSQL.

mod common;

use std::borrow::Cow;

use common::binary::{env_for, ok, refused};
use common::{Db, TestDb};
use imgflush::backend::store::maintenance::migrator;
use sqlx::migrate::Migrator;

const COUNT: &str = "SELECT COUNT(*) FROM _sqlx_migrations";
const TABLES_SQLITE: &str = "SELECT COUNT(*) FROM sqlite_master";
const TABLES_PG: &str = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public'";

/// The database's migration count and a figure of its schema.
async fn shape(url: &str) -> (i64, i64) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let shape = (
            sqlx::query_scalar(COUNT).fetch_one(&pool).await.unwrap(),
            sqlx::query_scalar(TABLES_PG).fetch_one(&pool).await.unwrap(),
        );
        pool.close().await;
        shape
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let shape = (
            sqlx::query_scalar(COUNT).fetch_one(&pool).await.unwrap(),
            sqlx::query_scalar(TABLES_SQLITE).fetch_one(&pool).await.unwrap(),
        );
        pool.close().await;
        shape
    }
}

/// Applies all but this build's last two migrations, as an older version did.
async fn two_behind(url: &str) {
    let all = migrator(url);
    let older =
        Migrator { migrations: Cow::Owned(all.migrations[..all.migrations.len() - 2].to_vec()), ..Migrator::DEFAULT };
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        older.run(&pool).await.unwrap();
        pool.close().await;
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap();
        older.run(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn scenario(db: Db) {
    let Some(test_db) = TestDb::create(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(&test_db.url, dir.path());
    let all = migrator(&test_db.url);
    let n = all.migrations.len();
    let last_two: Vec<String> =
        all.migrations[n - 2..].iter().map(|m| format!("{:04} {}", m.version, m.description)).collect();

    let empty = ok(&["migrate", "--dry-run"], &env, dir.path());
    assert!(empty.contains(&format!("{n} pending; nothing applied")), "{empty}");

    two_behind(&test_db.url).await;
    let before = shape(&test_db.url).await;
    assert_eq!(before.0, n as i64 - 2);
    let dry = ok(&["migrate", "--dry-run"], &env, dir.path());
    println!("{db:?} --dry-run:\n{dry}");
    for m in &last_two {
        assert!(dry.contains(&format!("pending  {m}")), "{m} pending:\n{dry}");
    }
    assert!(dry.contains("applied  0001 init") && dry.contains("2 pending; nothing applied"), "{dry}");
    assert_eq!(shape(&test_db.url).await, before, "--dry-run changed nothing");
    // The same for scripts.
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&["migrate", "--dry-run", "--json"], &env, dir.path())).unwrap();
    let versions = |key: &str| -> Vec<i64> {
        doc[key].as_array().unwrap().iter().map(|m| m["version"].as_i64().unwrap()).collect()
    };
    assert_eq!(versions("pending"), all.migrations[n - 2..].iter().map(|m| m.version).collect::<Vec<_>>());
    assert_eq!(versions("applied").len(), n - 2);
    assert!(doc["problem"].is_null() && doc["database_exists"] == true, "{doc}");
    assert_eq!(shape(&test_db.url).await, before, "--dry-run --json changed nothing");

    let applied = ok(&["migrate"], &env, dir.path());
    println!("{db:?} migrate:\n{applied}");
    for m in &last_two {
        assert!(applied.contains(&format!("applied  {m} in")), "{m} applied:\n{applied}");
    }
    assert!(applied.contains("applied 2 migrations"), "{applied}");
    assert_eq!(shape(&test_db.url).await.0, n as i64);
    let after = ok(&["migrate", "--dry-run"], &env, dir.path());
    assert!(after.contains("0 pending") && !after.contains("pending  "), "{after}");
    assert!(ok(&["migrate"], &env, dir.path()).contains("up to date"));

    // A newer version's migration: listed, and refused.
    let newer = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (9999, 'from the future', TRUE, $1, 1)";
    if db == Db::Postgres {
        let pool = sqlx::PgPool::connect(&test_db.url).await.unwrap();
        sqlx::query(newer).bind(vec![0u8; 48]).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&test_db.url).await.unwrap();
        sqlx::query(newer).bind(vec![0u8; 48]).execute(&pool).await.unwrap();
        pool.close().await;
    }
    let dry = refused(&["migrate", "--dry-run"], &env, dir.path());
    assert!(dry.contains("9999") && dry.contains("newer imgflush"), "{dry}");
    let run = refused(&["migrate"], &env, dir.path());
    assert!(run.contains("9999") && run.contains("newer imgflush"), "{run}");
}

#[tokio::test]
async fn sqlite_lists_applies_and_refuses() {
    common::within_limit(scenario(Db::Sqlite)).await;
}

#[tokio::test]
async fn postgres_lists_applies_and_refuses() {
    common::within_limit(scenario(Db::Postgres)).await;
}

#[tokio::test]
async fn a_file_that_is_not_an_imgflush_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("other.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&file).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql("CREATE TABLE things (a)").execute(&pool).await.unwrap();
    pool.close().await;
    let env = env_for(&format!("sqlite://{}", file.display()), dir.path());
    for args in [&["migrate", "--dry-run"][..], &["migrate"][..]] {
        let err = refused(args, &env, dir.path());
        assert!(err.contains("not an imgflush database"), "{args:?}: {err}");
    }
    let missing = env_for(&format!("sqlite://{}/none/imgflush.db", dir.path().display()), dir.path());
    let dry = ok(&["migrate", "--dry-run"], &missing, dir.path());
    assert!(dry.contains("no database file yet") && !dir.path().join("none").exists(), "{dry}");
}
