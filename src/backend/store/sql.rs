//! The SQL shared by both dialects, expanded once per dialect by `sql_store!`.

use sqlx::FromRow;
use uuid::Uuid;

use super::model::*;
use super::StoreError;
use crate::domain::{InvalidationId, Role, Scope, Status, TargetKind};

pub(super) const INVALIDATION_COLS: &str = "id, project_id, scope, paths, status, attempt, \
    submitted_by, error, created_ms, updated_ms, finished_ms, request_hash";
pub(super) const IN_FLIGHT: &str = "('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS')";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[derive(FromRow)]
pub(super) struct UserRow {
    id: i64,
    email: String,
    password_hash: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User { id: r.id, email: r.email, password_hash: r.password_hash }
    }
}

#[derive(FromRow)]
pub(super) struct ProjectRow {
    id: i64,
    token: String,
    name: String,
    origin_hosts: String,
    max_age_secs: i64,
    s_maxage_secs: i64,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: r.id,
            token: r.token,
            name: r.name,
            origin_hosts: serde_json::from_str(&r.origin_hosts).map_err(corrupt)?,
            max_age_secs: r.max_age_secs,
            s_maxage_secs: r.s_maxage_secs,
        })
    }
}

#[derive(FromRow)]
pub(super) struct MembershipRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    role: String,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership { role: Role::parse(&r.role).map_err(corrupt)?, project: r.project.try_into()? })
    }
}

#[derive(FromRow)]
pub(super) struct TargetRow {
    id: i64,
    project_id: i64,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
}

impl TryFrom<TargetRow> for Target {
    type Error = StoreError;
    fn try_from(r: TargetRow) -> Result<Self, StoreError> {
        Ok(Target {
            id: r.id,
            project_id: r.project_id,
            kind: TargetKind::parse(&r.kind).map_err(corrupt)?,
            name: r.name,
            url: r.url,
            secret: r.secret,
        })
    }
}

#[derive(FromRow)]
pub(super) struct ApiKeyRow {
    id: i64,
    project_id: i64,
    name: String,
    prefix: String,
    secret_hash: String,
    role: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
    revoked_ms: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            prefix: r.prefix,
            secret_hash: r.secret_hash,
            role: Role::parse(&r.role).map_err(corrupt)?,
            created: from_ms(r.created_ms),
            last_used: r.last_used_ms.map(from_ms),
            revoked: r.revoked_ms.map(from_ms),
        })
    }
}

#[derive(FromRow)]
pub(super) struct InvalidationRow {
    id: Uuid,
    project_id: i64,
    scope: String,
    paths: String,
    status: String,
    attempt: i32,
    submitted_by: String,
    error: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    finished_ms: Option<i64>,
    request_hash: Option<String>,
}

impl TryFrom<InvalidationRow> for Invalidation {
    type Error = StoreError;
    fn try_from(r: InvalidationRow) -> Result<Self, StoreError> {
        Ok(Invalidation {
            id: InvalidationId(r.id),
            project_id: r.project_id,
            scope: Scope::parse(&r.scope).map_err(corrupt)?,
            paths: serde_json::from_str(&r.paths).map_err(corrupt)?,
            status: Status::parse(&r.status).map_err(corrupt)?,
            attempt: r.attempt,
            submitted_by: r.submitted_by,
            error: r.error,
            created: from_ms(r.created_ms),
            updated: from_ms(r.updated_ms),
            finished: r.finished_ms.map(from_ms),
            request_hash: r.request_hash,
        })
    }
}

#[derive(FromRow)]
pub(super) struct EventRow {
    status: String,
    attempt: i32,
    note: Option<String>,
    at_ms: i64,
}

impl TryFrom<EventRow> for StatusEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(StatusEvent {
            status: Status::parse(&r.status).map_err(corrupt)?,
            attempt: r.attempt,
            note: r.note,
            at: from_ms(r.at_ms),
        })
    }
}

#[derive(FromRow)]
pub(super) struct TargetResultRow {
    target_id: i64,
    kind: String,
    name: String,
    state: String,
    attempts: i32,
    detail: Option<String>,
    duration_ms: Option<i64>,
    updated_ms: i64,
}

impl TryFrom<TargetResultRow> for TargetResult {
    type Error = StoreError;
    fn try_from(r: TargetResultRow) -> Result<Self, StoreError> {
        Ok(TargetResult {
            target_id: r.target_id,
            kind: TargetKind::parse(&r.kind).map_err(corrupt)?,
            name: r.name,
            state: TargetState::parse(&r.state).ok_or_else(|| corrupt(&r.state))?,
            attempts: r.attempts,
            detail: r.detail,
            duration_ms: r.duration_ms,
            updated: from_ms(r.updated_ms),
        })
    }
}

pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(super) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Implements [`super::Store`] for a struct with a `pool` field of the given
/// sqlx pool type. `skip_locked` is appended to the claim's inner SELECT, and
/// `extra` holds the trait methods that differ between dialects.
macro_rules! sql_store {
    ($store:ty, $db:ty, skip_locked = $skip:expr, { $($extra:tt)* }) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::Store for $store {
            $($extra)*

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User> {
                let row: UserRow = sqlx::query_as(
                    "INSERT INTO users (email, password_hash, created_ms) VALUES ($1, $2, $3) \
                     RETURNING id, email, password_hash",
                )
                .bind(email)
                .bind(password_hash)
                .bind(now_ms())
                .fetch_one(&self.pool)
                .await?;
                Ok(row.into())
            }

            async fn user_by_email(&self, email: &str) -> StoreResult<User> {
                let row: UserRow =
                    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email = $1")
                        .bind(email)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(row.into())
            }

            async fn user_by_id(&self, id: i64) -> StoreResult<User> {
                let row: UserRow =
                    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(row.into())
            }

            async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
                let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                one_row(done.rows_affected())
            }

            async fn count_users(&self) -> StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn create_project(&self, new: &NewProject) -> StoreResult<Project> {
                let hosts = serde_json::to_string(&new.origin_hosts).expect("strings serialise");
                let row: ProjectRow = sqlx::query_as(
                    "INSERT INTO projects (token, name, origin_hosts, created_ms) \
                     VALUES ($1, $2, $3, $4) \
                     RETURNING id, token, name, origin_hosts, max_age_secs, s_maxage_secs",
                )
                .bind(&new.token)
                .bind(&new.name)
                .bind(hosts)
                .bind(now_ms())
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn project_by_token(&self, token: &str) -> StoreResult<Project> {
                let row: ProjectRow = sqlx::query_as(
                    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs \
                     FROM projects WHERE token = $1",
                )
                .bind(token)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn project_by_id(&self, id: i64) -> StoreResult<Project> {
                let row: ProjectRow = sqlx::query_as(
                    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs \
                     FROM projects WHERE id = $1",
                )
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn list_projects(&self) -> StoreResult<Vec<Project>> {
                let rows: Vec<ProjectRow> = sqlx::query_as(
                    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs \
                     FROM projects ORDER BY token",
                )
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn set_membership(&self, user_id: i64, project_id: i64, role: Role) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role",
                )
                .bind(user_id)
                .bind(project_id)
                .bind(role.as_str())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn memberships_of(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
                let rows: Vec<MembershipRow> = sqlx::query_as(
                    "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, m.role \
                     FROM memberships m JOIN projects p ON p.id = m.project_id \
                     WHERE m.user_id = $1 ORDER BY p.token",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn membership(&self, user_id: i64, token: &str) -> StoreResult<Membership> {
                let row: MembershipRow = sqlx::query_as(
                    "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, m.role \
                     FROM memberships m JOIN projects p ON p.id = m.project_id \
                     WHERE m.user_id = $1 AND p.token = $2",
                )
                .bind(user_id)
                .bind(token)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn add_target(&self, project_id: i64, new: &NewTarget) -> StoreResult<Target> {
                let row: TargetRow = sqlx::query_as(
                    "INSERT INTO targets (project_id, kind, name, url, secret, created_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, project_id, kind, name, url, secret",
                )
                .bind(project_id)
                .bind(new.kind.as_str())
                .bind(&new.name)
                .bind(&new.url)
                .bind(&new.secret)
                .bind(now_ms())
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>> {
                let rows: Vec<TargetRow> = sqlx::query_as(
                    "SELECT id, project_id, kind, name, url, secret FROM targets \
                     WHERE project_id = $1 ORDER BY id",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target> {
                let row: TargetRow = sqlx::query_as(
                    "SELECT id, project_id, kind, name, url, secret FROM targets \
                     WHERE project_id = $1 AND id = $2",
                )
                .bind(project_id)
                .bind(target_id)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()> {
                let done = sqlx::query("UPDATE targets SET url = $1 WHERE project_id = $2 AND id = $3")
                    .bind(url)
                    .bind(project_id)
                    .bind(target_id)
                    .execute(&self.pool)
                    .await?;
                one_row(done.rows_affected())
            }

            async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM targets WHERE project_id = $1 AND id = $2")
                    .bind(project_id)
                    .bind(target_id)
                    .execute(&self.pool)
                    .await?;
                one_row(done.rows_affected())
            }

            async fn add_api_key(&self, project_id: i64, new: &NewApiKey) -> StoreResult<ApiKey> {
                let row: ApiKeyRow = sqlx::query_as(
                    "INSERT INTO api_keys (project_id, name, prefix, secret_hash, role, created_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, project_id, name, prefix, \
                     secret_hash, role, created_ms, last_used_ms, revoked_ms",
                )
                .bind(project_id)
                .bind(&new.name)
                .bind(&new.prefix)
                .bind(&new.secret_hash)
                .bind(new.role.as_str())
                .bind(now_ms())
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn list_api_keys(&self, project_id: i64) -> StoreResult<Vec<ApiKey>> {
                let rows: Vec<ApiKeyRow> = sqlx::query_as(
                    "SELECT id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, \
                     revoked_ms FROM api_keys WHERE project_id = $1 ORDER BY id",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<ApiKey> {
                let row: ApiKeyRow = sqlx::query_as(
                    "SELECT id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, \
                     revoked_ms FROM api_keys WHERE prefix = $1",
                )
                .bind(prefix)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn touch_api_key(&self, key_id: i64, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE api_keys SET last_used_ms = $1 WHERE id = $2")
                    .bind(now)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_api_key(&self, project_id: i64, key_id: i64, now: i64) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, $1) \
                     WHERE project_id = $2 AND id = $3",
                )
                .bind(now)
                .bind(project_id)
                .bind(key_id)
                .execute(&self.pool)
                .await?;
                one_row(done.rows_affected())
            }

            async fn insert_invalidation(&self, new: &NewInvalidation) -> StoreResult<Invalidation> {
                let (user_id, key_id) = match &new.submitter {
                    Submitter::User { id, .. } => (Some(*id), None),
                    Submitter::ApiKey { id, .. } => (None, Some(*id)),
                };
                let paths = serde_json::to_string(&new.paths).expect("strings serialise");
                let mut tx = self.pool.begin().await?;
                let row: InvalidationRow = sqlx::query_as(&format!(
                    "INSERT INTO invalidations (id, project_id, scope, paths, status, attempt, \
                     submitted_by, user_id, api_key_id, created_ms, updated_ms, next_run_ms, \
                     idempotency_key, request_hash) \
                     VALUES ($1, $2, $3, $4, 'RECEIVED', 1, $5, $6, $7, $8, $8, $8, $9, $10) \
                     RETURNING {INVALIDATION_COLS}"
                ))
                .bind(new.id.0)
                .bind(new.project_id)
                .bind(new.scope.as_str())
                .bind(paths)
                .bind(new.submitter.label())
                .bind(user_id)
                .bind(key_id)
                .bind(new.now_ms)
                .bind(&new.idempotency_key)
                .bind(&new.request_hash)
                .fetch_one(&mut *tx)
                .await?;
                insert_event(&mut *tx, new.id, Status::Received, 1, Some(&format!("submitted by {}", new.submitter.label())), new.now_ms).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn invalidation(&self, project_id: i64, id: InvalidationId) -> StoreResult<Invalidation> {
                let row: InvalidationRow = sqlx::query_as(&format!(
                    "SELECT {INVALIDATION_COLS} FROM invalidations WHERE project_id = $1 AND id = $2"
                ))
                .bind(project_id)
                .bind(id.0)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn invalidation_by_idempotency_key(&self, project_id: i64, key: &str) -> StoreResult<Invalidation> {
                let row: InvalidationRow = sqlx::query_as(&format!(
                    "SELECT {INVALIDATION_COLS} FROM invalidations \
                     WHERE project_id = $1 AND idempotency_key = $2"
                ))
                .bind(project_id)
                .bind(key)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn list_invalidations(&self, project_id: i64, q: &ListQuery) -> StoreResult<Vec<Invalidation>> {
                let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
                let search_id = search.and_then(|s| InvalidationId::parse(s).ok()).map(|id| id.0);
                let rows: Vec<InvalidationRow> = sqlx::query_as(&format!(
                    "SELECT {INVALIDATION_COLS} FROM invalidations WHERE project_id = $1 \
                     AND ($2 IS NULL OR id < $2) \
                     AND ($3 IS NULL OR status = $3) \
                     AND ($4 IS NULL OR id = $5 OR paths LIKE $4 ESCAPE '\\') \
                     ORDER BY id DESC LIMIT $6"
                ))
                .bind(project_id)
                .bind(q.before.map(|id| id.0))
                .bind(q.status.map(|s| s.code()))
                .bind(search.map(like_pattern))
                .bind(search_id)
                .bind(q.limit)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn events(&self, id: InvalidationId) -> StoreResult<Vec<StatusEvent>> {
                let rows: Vec<EventRow> = sqlx::query_as(
                    "SELECT status, attempt, note, at_ms FROM invalidation_events \
                     WHERE invalidation_id = $1 ORDER BY id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn target_results(&self, id: InvalidationId) -> StoreResult<Vec<TargetResult>> {
                let rows: Vec<TargetResultRow> = sqlx::query_as(
                    "SELECT target_id, kind, name, state, attempts, detail, duration_ms, updated_ms \
                     FROM invalidation_targets WHERE invalidation_id = $1 ORDER BY target_id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                convert(rows)
            }

            async fn requeue_for_retry(&self, project_id: i64, id: InvalidationId, by: &str, now: i64) -> StoreResult<Invalidation> {
                let mut tx = self.pool.begin().await?;
                let row: Option<InvalidationRow> = sqlx::query_as(&format!(
                    "UPDATE invalidations SET status = 'RECEIVED', attempt = attempt + 1, error = NULL, \
                     finished_ms = NULL, next_run_ms = $1, updated_ms = $1, lease_owner = NULL, \
                     lease_until_ms = NULL \
                     WHERE project_id = $2 AND id = $3 AND status IN ('ERROR', 'ERROR_CDN_NODE') \
                     RETURNING {INVALIDATION_COLS}"
                ))
                .bind(now)
                .bind(project_id)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    drop(tx);
                    self.invalidation(project_id, id).await?;
                    return Err(StoreError::Conflict("only errored invalidations can be retried"));
                };
                let inv: Invalidation = row.try_into()?;
                insert_event(&mut *tx, id, Status::Received, inv.attempt, Some(&format!("retry requested by {by}")), now).await?;
                tx.commit().await?;
                Ok(inv)
            }

            async fn claim(&self, owner: &str, now: i64, lease_ms: i64) -> StoreResult<Option<Invalidation>> {
                let row: Option<InvalidationRow> = sqlx::query_as(&format!(
                    "UPDATE invalidations SET lease_owner = $1, lease_until_ms = $2 \
                     WHERE id = (SELECT id FROM invalidations WHERE status IN {IN_FLIGHT} \
                        AND next_run_ms <= $3 AND (lease_until_ms IS NULL OR lease_until_ms < $3) \
                        ORDER BY next_run_ms, id LIMIT 1 {}) \
                     AND (lease_until_ms IS NULL OR lease_until_ms < $3) \
                     RETURNING {INVALIDATION_COLS}",
                    $skip
                ))
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(Invalidation::try_from).transpose()
            }

            async fn extend_lease(&self, id: InvalidationId, owner: &str, until: i64) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE invalidations SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3",
                )
                .bind(until)
                .bind(id.0)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                leased(done.rows_affected())
            }

            async fn transition(&self, id: InvalidationId, owner: &str, status: Status, note: Option<&str>, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let (attempt,): (i32,) = sqlx::query_as(
                    "UPDATE invalidations SET status = $1, updated_ms = $2 \
                     WHERE id = $3 AND lease_owner = $4 RETURNING attempt",
                )
                .bind(status.code())
                .bind(now)
                .bind(id.0)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::LeaseLost)?;
                insert_event(&mut *tx, id, status, attempt, note, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn resolve_targets(&self, id: InvalidationId, owner: &str, targets: &[Target], now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let held = sqlx::query("UPDATE invalidations SET updated_ms = $1 WHERE id = $2 AND lease_owner = $3")
                    .bind(now)
                    .bind(id.0)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                leased(held.rows_affected())?;
                let (existing,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM invalidation_targets WHERE invalidation_id = $1")
                        .bind(id.0)
                        .fetch_one(&mut *tx)
                        .await?;
                if existing == 0 {
                    for t in targets {
                        sqlx::query(
                            "INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(id.0)
                        .bind(t.id)
                        .bind(t.kind.as_str())
                        .bind(&t.name)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn record_target_result(&self, id: InvalidationId, owner: &str, o: &TargetOutcome, now: i64) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE invalidation_targets SET state = $1, attempts = attempts + $2, detail = $3, \
                     duration_ms = $4, updated_ms = $5 \
                     WHERE invalidation_id = $6 AND target_id = $7 AND EXISTS \
                     (SELECT 1 FROM invalidations WHERE id = $6 AND lease_owner = $8)",
                )
                .bind(o.state.as_str())
                .bind(o.attempts)
                .bind(&o.detail)
                .bind(o.duration_ms)
                .bind(now)
                .bind(id.0)
                .bind(o.target_id)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                leased(done.rows_affected())
            }

            async fn finish(&self, id: InvalidationId, owner: &str, status: Status, error: Option<&str>, note: Option<&str>, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let (attempt,): (i32,) = sqlx::query_as(
                    "UPDATE invalidations SET status = $1, error = $2, finished_ms = $3, updated_ms = $3, \
                     lease_owner = NULL, lease_until_ms = NULL \
                     WHERE id = $4 AND lease_owner = $5 RETURNING attempt",
                )
                .bind(status.code())
                .bind(error)
                .bind(now)
                .bind(id.0)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::LeaseLost)?;
                insert_event(&mut *tx, id, status, attempt, error.or(note), now).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        async fn insert_event<'e, E>(
            exec: E,
            id: InvalidationId,
            status: Status,
            attempt: i32,
            note: Option<&str>,
            at: i64,
        ) -> StoreResult<()>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            sqlx::query(
                "INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.0)
            .bind(status.code())
            .bind(attempt)
            .bind(note)
            .bind(at)
            .execute(exec)
            .await?;
            Ok(())
        }
    };
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn one_row(affected: u64) -> Result<(), StoreError> {
    if affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn leased(affected: u64) -> Result<(), StoreError> {
    if affected == 0 {
        Err(StoreError::LeaseLost)
    } else {
        Ok(())
    }
}
