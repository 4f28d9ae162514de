//! Single sign-on: the configured identity providers and the policy row.

use async_trait::async_trait;
use sqlx::FromRow;

use super::{NewSsoProvider, Sealed, SsoPolicy, SsoProvider, StoreError, StoreResult};
use crate::domain::sso::{parse_domains, parse_group_map, GroupRule};

#[async_trait]
pub trait SsoStore {
    async fn add_sso_provider(&self, new: &NewSsoProvider, now_ms: i64) -> StoreResult<i64>;
    /// Every provider, in the order they were added.
    async fn sso_providers(&self) -> StoreResult<Vec<SsoProvider>>;
    /// `NotFound` when absent.
    async fn sso_provider(&self, id: i64) -> StoreResult<SsoProvider>;
    /// `NotFound` when absent.
    async fn remove_sso_provider(&self, id: i64) -> StoreResult<()>;
    /// The policy; the default (off) when never set.
    async fn sso_policy(&self) -> StoreResult<SsoPolicy>;
    async fn set_sso_policy(&self, policy: &SsoPolicy, now_ms: i64) -> StoreResult<()>;
    /// Every provider's sealed client secret (for the key check and rotation).
    async fn sso_sealed(&self) -> StoreResult<Vec<(i64, Sealed)>>;
    /// Replaces sealed client secrets, in one transaction.
    async fn reseal_sso(&self, resealed: &[(i64, Sealed)]) -> StoreResult<()>;
}

#[derive(FromRow)]
struct ProviderRow {
    id: i64,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    domains: String,
    groups_claim: Option<String>,
    group_map: String,
}

impl TryFrom<ProviderRow> for SsoProvider {
    type Error = StoreError;

    fn try_from(r: ProviderRow) -> StoreResult<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("sso provider {}: {what}", r.id));
        Ok(SsoProvider {
            domains: parse_domains(&r.domains).map_err(|_| corrupt("domains"))?,
            group_map: parse_group_map(&r.group_map).map_err(|_| corrupt("group map"))?,
            id: r.id,
            name: r.name,
            issuer: r.issuer,
            client_id: r.client_id,
            client_secret: Sealed(r.client_secret),
            groups_claim: r.groups_claim,
        })
    }
}

fn lines(rules: &[GroupRule]) -> String {
    rules.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

const COLUMNS: &str = "id, name, issuer, client_id, client_secret, domains, groups_claim, group_map";
const ADD: &str = "INSERT INTO sso_providers \
     (name, issuer, client_id, client_secret, domains, groups_claim, group_map, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
const SEALED: &str = "SELECT id, client_secret FROM sso_providers ORDER BY id";
const RESEAL: &str = "UPDATE sso_providers SET client_secret = $1 WHERE id = $2";
const REMOVE: &str = "DELETE FROM sso_providers WHERE id = $1";
const POLICY: &str = "SELECT required, break_glass_user_id FROM sso_policy WHERE id = 1";
const SET_POLICY: &str = "INSERT INTO sso_policy (id, required, break_glass_user_id, updated_ms) \
     VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET required = excluded.required, \
     break_glass_user_id = excluded.break_glass_user_id, updated_ms = excluded.updated_ms";

both_dialects! {
    #[async_trait]
    impl SsoStore for Db {
        async fn add_sso_provider(&self, new: &NewSsoProvider, now_ms: i64) -> StoreResult<i64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let (id,): (i64,) = sqlx::query_as(ADD)
                .bind(&new.name)
                .bind(&new.issuer)
                .bind(&new.client_id)
                .bind(&new.client_secret.0)
                .bind(new.domains.join("\n"))
                .bind(&new.groups_claim)
                .bind(lines(&new.group_map))
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
            Ok(id)
        }

        async fn sso_providers(&self) -> StoreResult<Vec<SsoProvider>> {
            let sql = format!("SELECT {COLUMNS} FROM sso_providers ORDER BY id");
            let rows: Vec<ProviderRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        async fn sso_provider(&self, id: i64) -> StoreResult<SsoProvider> {
            let sql = format!("SELECT {COLUMNS} FROM sso_providers WHERE id = $1");
            let row: Option<ProviderRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
            row.ok_or(StoreError::NotFound)?.try_into()
        }

        async fn remove_sso_provider(&self, id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE).bind(id).execute(&mut *conn).await?;
            super::error::one_row(done.rows_affected())
        }

        async fn sso_policy(&self) -> StoreResult<SsoPolicy> {
            let row: Option<(bool, Option<i64>)> = sqlx::query_as(POLICY).fetch_optional(&self.pool).await?;
            Ok(row.map(|(required, break_glass_user_id)| SsoPolicy { required, break_glass_user_id }).unwrap_or_default())
        }

        async fn set_sso_policy(&self, policy: &SsoPolicy, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(SET_POLICY).bind(policy.required).bind(policy.break_glass_user_id).bind(now_ms).execute(&mut *conn).await?;
            Ok(())
        }

        async fn sso_sealed(&self) -> StoreResult<Vec<(i64, Sealed)>> {
            let rows: Vec<(i64, String)> = sqlx::query_as(SEALED).fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(|(id, s)| (id, Sealed(s))).collect())
        }

        async fn reseal_sso(&self, resealed: &[(i64, Sealed)]) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for (id, sealed) in resealed {
                sqlx::query(RESEAL).bind(&sealed.0).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}
