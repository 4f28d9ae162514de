//! Opening the database a URL names, in its dialect.

use std::sync::Arc;

use super::dyn_store::DynStore;
use super::error::StoreResult;
use super::pool::PoolSize;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

/// The pool the session store shares with the [`Store`], in its dialect.
#[derive(Clone)]
pub enum SessionDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// An open database: the store and, beside it, the pool for sessions.
#[derive(Clone)]
pub struct Connected {
    pub store: DynStore,
    pub sessions: SessionDb,
}

/// Opens the store named by `url` (`sqlite:` or `postgres://`), applying migrations.
pub async fn connect(url: &str) -> StoreResult<Connected> {
    connect_sized(url, PoolSize::default()).await
}

/// [`connect`] with a pool sized for the worker that will use it.
pub async fn connect_sized(url: &str, size: PoolSize) -> StoreResult<Connected> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url, size).await?;
        Ok(Connected { sessions: SessionDb::Postgres(store.pool.clone()), store: Arc::new(store) })
    } else {
        let store = SqliteStore::connect(url, size).await?;
        Ok(Connected { sessions: SessionDb::Sqlite(store.pool.clone()), store: Arc::new(store) })
    }
}
