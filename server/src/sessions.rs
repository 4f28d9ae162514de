//! tower-sessions on the same database as everything else, whichever it is.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use imgflush::backend::store::SessionDb;

#[derive(Clone, Debug)]
pub enum AnySessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnySessionStore {
    pub async fn open(pool: SessionDb) -> anyhow::Result<Self> {
        Ok(match pool {
            SessionDb::Sqlite(p) => {
                let s = SqliteStore::new(p);
                s.migrate().await?;
                AnySessionStore::Sqlite(s)
            }
            SessionDb::Postgres(p) => {
                let s = PostgresStore::new(p);
                s.migrate().await?;
                AnySessionStore::Postgres(s)
            }
        })
    }

    /// Deletes expired sessions every `period` until the task is dropped.
    pub fn spawn_cleanup(&self, period: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let result = match store {
                AnySessionStore::Sqlite(s) => s.continuously_delete_expired(period).await,
                AnySessionStore::Postgres(s) => s.continuously_delete_expired(period).await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "expired-session cleanup stopped");
            }
        })
    }
}

#[async_trait]
impl SessionStore for AnySessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.create(record).await,
            AnySessionStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.save(record).await,
            AnySessionStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AnySessionStore::Sqlite(s) => s.load(id).await,
            AnySessionStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.delete(id).await,
            AnySessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}
