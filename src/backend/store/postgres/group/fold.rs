//! One job's group of changes as the arrays of one statement (`GROUPS` in
//! `mod.rs`), or `None` when the group cannot be written that way and must
//! go change by change.

use std::collections::HashSet;

use crate::backend::store::JobChange;

/// One job's group as arrays (`Batch` in `mod.rs` lays many end to end).
#[derive(Default)]
pub(super) struct Group<'a> {
    pub(super) last_status: Option<&'static str>,
    pub(super) last_ms: Option<i64>,
    pub(super) finish: bool,
    pub(super) notified: bool,
    pub(super) error: Option<&'a str>,
    pub(super) ev_status: Vec<&'static str>,
    pub(super) ev_note: Vec<Option<&'a str>>,
    pub(super) ev_at: Vec<i64>,
    pub(super) t_id: Vec<i64>,
    pub(super) t_kind: Vec<&'static str>,
    pub(super) t_name: Vec<&'a str>,
    pub(super) t_at: Vec<i64>,
    pub(super) r_target: Vec<i64>,
    pub(super) r_state: Vec<&'static str>,
    pub(super) r_attempts: Vec<i32>,
    pub(super) r_detail: Vec<Option<&'a str>>,
    pub(super) r_duration: Vec<i64>,
    pub(super) r_at: Vec<i64>,
    pub(super) r_verified: Vec<Option<bool>>,
    pub(super) r_note: Vec<Option<&'a str>>,
}

impl<'a> Group<'a> {
    /// `None` when the group must go change by change.
    pub(super) fn of(changes: &'a [JobChange]) -> Option<Self> {
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
