//! Which migrations a database has and which this build would apply, read
//! without applying any; and applying them (`server migrate`).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::Connection;

use super::error::DataError;
use super::file;
use super::status::{applied, MigrationStatus, POSTGRES, RECORDED, SQLITE};
use super::url::{is_postgres, sqlite_file};

const HAS_TABLE_PG: &str = "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";
const TABLES_PG: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()";

/// The migrations of the database `url` names, compared with this build's;
/// applies nothing and (SQLite) creates no file.
pub async fn migration_status(url: &str) -> Result<MigrationStatus, DataError> {
    if is_postgres(url) {
        let pool = pg_pool(url).await?;
        let read = DataError::db("reading _sqlx_migrations");
        let has: bool = sqlx::query_scalar(HAS_TABLE_PG).fetch_one(&pool).await.map_err(read)?;
        let tables: i64 =
            sqlx::query_scalar(TABLES_PG).fetch_one(&pool).await.map_err(DataError::db("listing tables"))?;
        let recorded = if has {
            let rows: Vec<(i64, String, bool, Vec<u8>, i64)> =
                sqlx::query_as(RECORDED).fetch_all(&pool).await.map_err(DataError::db("reading _sqlx_migrations"))?;
            Some(rows.into_iter().map(applied).collect())
        } else {
            None
        };
        pool.close().await;
        return Ok(MigrationStatus::new("postgres", recorded, tables - i64::from(has), &POSTGRES));
    }
    let path = sqlite_file(url)?;
    if !path.exists() {
        let mut status = MigrationStatus::new("sqlite", None, 0, &SQLITE);
        status.exists = false;
        return Ok(status);
    }
    let read = move || {
        let conn = file::open_read_only(&path)?;
        let (recorded, tables) = file::recorded(&conn, &path)?;
        Ok(MigrationStatus::new("sqlite", recorded, tables, &SQLITE))
    };
    tokio::task::spawn_blocking(read).await.map_err(DataError::db("reading the migrations"))?
}

/// Applies this build's pending migrations (creating the SQLite file if
/// need be), as the console does when it starts; answers the status before
/// and after. Refused when [`MigrationStatus::problem`] finds one.
pub async fn apply_migrations(url: &str) -> Result<(MigrationStatus, MigrationStatus), DataError> {
    let before = migration_status(url).await?;
    if let Some(problem) = before.problem() {
        return Err(DataError::Refused(format!("the database cannot be migrated: {problem}")));
    }
    let failed = DataError::db("applying the migrations");
    if is_postgres(url) {
        let pool = pg_pool(url).await?;
        POSTGRES.run(&pool).await.map_err(failed)?;
        pool.close().await;
    } else {
        let options = super::super::sqlite::connect_options(url).map_err(DataError::db("database.url"))?;
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.map_err(DataError::db("opening"))?;
        SQLITE.run(&mut conn).await.map_err(failed)?;
        conn.close().await.map_err(DataError::db("closing"))?;
    }
    Ok((before, migration_status(url).await?))
}

async fn pg_pool(url: &str) -> Result<sqlx::PgPool, DataError> {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(DataError::db("connecting to the PostgreSQL database of database.url"))
}
