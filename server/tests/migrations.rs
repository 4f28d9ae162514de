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
