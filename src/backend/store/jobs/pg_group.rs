//! PostgreSQL: a job's whole group of changes in one statement.
//!
//! The worker stores its changes in groups (claimed → the first purge step;
//! the results → the final status). Change by change that is a round trip per
//! status, per event, per target, plus BEGIN and COMMIT. Here a group is one
//! statement: the invalidation row takes the group's last status (and the
//! final fields when the group ends with Finish), every status change gets
//! its event row in order with its own time, and the target rows are added or
//! updated, all only while the lease holds and every result has its row. A
//! group this cannot express (Finish before other changes, new target rows
//! and results together, one target twice) goes change by change.

use std::collections::HashSet;

use sqlx::PgConnection;

use crate::backend::store::{JobChange, StoreError, StoreResult};
use crate::domain::InvalidationId;

/// `$1` id, `$2` lease, `$3` last status (NULL: unchanged), `$4` last time
/// the row changed (NULL: unchanged), `$5` the group ends with Finish, `$6`
/// its error, `$7`–`$9` the events, `$10`–`$13` new target rows, `$14`–`$21`
/// target results, `$22` the Finish marks it notified. Nothing is written
/// unless the lease holds and every result has its row (as change by change,
/// where a missing row fails the group). Answers (1 if it was written,
/// results stored).
const GROUP: &str = "WITH inv AS ( \
        UPDATE invalidations SET status = COALESCE($3, status), updated_ms = COALESCE($4, updated_ms), \
        error = CASE WHEN $5 THEN $6 ELSE error END, \
        finished_ms = CASE WHEN $5 THEN $4 ELSE finished_ms END, \
        lease_owner = CASE WHEN $5 THEN NULL ELSE lease_owner END, \
        lease_token = CASE WHEN $5 THEN NULL ELSE lease_token END, \
        lease_until_ms = CASE WHEN $5 THEN NULL ELSE lease_until_ms END, \
        notified_ms = CASE WHEN $5 AND $22 THEN $4 ELSE notified_ms END \
        WHERE id = $1 AND lease_token = $2 \
        AND cardinality($14::bigint[]) = (SELECT count(*) FROM invalidation_targets \
            WHERE invalidation_id = $1 AND target_id = ANY($14::bigint[])) \
        RETURNING attempt), \
     ev AS ( \
        INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
        SELECT $1, e.status, inv.attempt, e.note, e.at_ms \
        FROM inv, UNNEST($7::text[], $8::text[], $9::bigint[]) WITH ORDINALITY AS e(status, note, at_ms, n) \
        ORDER BY e.n), \
     added AS ( \
        INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
        SELECT $1, t.target_id, t.kind, t.name, t.at_ms \
        FROM inv, UNNEST($10::bigint[], $11::text[], $12::text[], $13::bigint[]) AS t(target_id, kind, name, at_ms) \
        ON CONFLICT (invalidation_id, target_id) DO NOTHING), \
     results AS ( \
        UPDATE invalidation_targets it SET state = r.state, attempts = it.attempts + r.attempts, \
        detail = r.detail, duration_ms = r.duration_ms, updated_ms = r.at_ms, verified = r.verified, \
        verify_note = r.verify_note \
        FROM inv, UNNEST($14::bigint[], $15::text[], $16::int[], $17::text[], $18::bigint[], $19::bigint[], \
            $20::bool[], $21::text[]) AS r(target_id, state, attempts, detail, duration_ms, at_ms, verified, verify_note) \
        WHERE it.invalidation_id = $1 AND it.target_id = r.target_id RETURNING 1) \
     SELECT (SELECT count(*) FROM inv), (SELECT count(*) FROM results)";

/// The group as [`GROUP`]'s arrays.
#[derive(Default)]
struct Group<'a> {
    last_status: Option<&'static str>,
    last_ms: Option<i64>,
    finish: bool,
    notified: bool,
    error: Option<&'a str>,
    ev_status: Vec<&'static str>,
    ev_note: Vec<Option<&'a str>>,
    ev_at: Vec<i64>,
    t_id: Vec<i64>,
    t_kind: Vec<&'static str>,
    t_name: Vec<&'a str>,
    t_at: Vec<i64>,
    r_target: Vec<i64>,
    r_state: Vec<&'static str>,
    r_attempts: Vec<i32>,
    r_detail: Vec<Option<&'a str>>,
    r_duration: Vec<i64>,
    r_at: Vec<i64>,
    r_verified: Vec<Option<bool>>,
    r_note: Vec<Option<&'a str>>,
}

impl<'a> Group<'a> {
    /// `None` when the group must go change by change.
    fn of(changes: &'a [JobChange]) -> Option<Self> {
        let mut g = Group::default();
        let mut results_for = HashSet::new();
        for change in changes {
            if g.finish {
                return None;
            }
            match change {
                JobChange::Status { status, note, at_ms } => {
                    g.event(status.code(), note.as_deref(), *at_ms);
                }
                JobChange::Finish { status, error, note, at_ms, notified } => {
                    g.event(status.code(), error.as_deref().or(note.as_deref()), *at_ms);
                    g.finish = true;
                    g.notified = *notified;
                    g.error = error.as_deref();
                }
                JobChange::Targets { targets, at_ms } => {
                    g.last_ms = Some(*at_ms);
                    for t in targets {
                        g.t_id.push(t.id);
                        g.t_kind.push(t.kind.as_str());
                        g.t_name.push(&t.name);
                        g.t_at.push(*at_ms);
                    }
                }
                JobChange::Target { outcome: o, at_ms } => {
                    if !results_for.insert(o.target_id) {
                        return None;
                    }
                    g.r_target.push(o.target_id);
                    g.r_state.push(o.state.as_str());
                    g.r_attempts.push(o.attempts);
                    g.r_detail.push(o.detail.as_deref());
                    g.r_duration.push(o.duration_ms);
                    g.r_at.push(*at_ms);
                    g.r_verified.push(o.verified);
                    g.r_note.push(o.verify_note.as_deref());
                }
            }
        }
        // A result for a row the same statement adds would not see it.
        if !g.t_id.is_empty() && !g.r_target.is_empty() {
            return None;
        }
        Some(g)
    }

    fn event(&mut self, status: &'static str, note: Option<&'a str>, at_ms: i64) {
        self.last_status = Some(status);
        self.last_ms = Some(at_ms);
        self.ev_status.push(status);
        self.ev_note.push(note);
        self.ev_at.push(at_ms);
    }
}

/// Stores `changes` in one statement; `Ok(false)` when the group must go
/// change by change (nothing was written then).
pub(super) async fn apply_group(
    c: &mut PgConnection,
    id: InvalidationId,
    lease: &str,
    changes: &[JobChange],
) -> StoreResult<bool> {
    let Some(g) = Group::of(changes) else { return Ok(false) };
    let (held, stored): (i64, i64) = sqlx::query_as(GROUP)
        .bind(id.0)
        .bind(lease)
        .bind(g.last_status)
        .bind(g.last_ms)
        .bind(g.finish)
        .bind(g.error)
        .bind(&g.ev_status)
        .bind(&g.ev_note)
        .bind(&g.ev_at)
        .bind(&g.t_id)
        .bind(&g.t_kind)
        .bind(&g.t_name)
        .bind(&g.t_at)
        .bind(&g.r_target)
        .bind(&g.r_state)
        .bind(&g.r_attempts)
        .bind(&g.r_detail)
        .bind(&g.r_duration)
        .bind(&g.r_at)
        .bind(&g.r_verified)
        .bind(&g.r_note)
        .bind(g.notified)
        .fetch_one(&mut *c)
        .await?;
    if held == 0 || stored != g.r_target.len() as i64 {
        return Err(StoreError::LeaseLost);
    }
    Ok(true)
}
