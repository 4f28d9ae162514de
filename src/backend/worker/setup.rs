//! What a job needs of its project (its settings, its purge targets, whether
//! it has a notification hook), kept between jobs. Every change to any of
//! them bumps the project's setup version (database triggers), and every
//! claim returns the version: a worker reads a project's setup once per
//! version, so a steady stream of invalidations costs no setup reads, and a
//! job claimed after a change always sees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::backend::model::{Project, Target};

/// Projects whose setup a worker keeps; past it the worker starts over (each
/// project's next job reads its setup again).
const KEPT_PROJECTS: usize = 1024;

pub(super) struct Setup {
    pub(super) project: Project,
    pub(super) targets: Vec<Target>,
    /// Whether the project has a notification hook: without one, a job
    /// counts as notified as it ends (one write less per job).
    pub(super) hooks: bool,
}

/// One claimed batch's setup per project (its jobs were claimed in one
/// statement, so at the same version). `None`: the project is gone.
pub(super) type SetupCell = tokio::sync::OnceCell<Option<Arc<Setup>>>;

/// The setups read so far, by project, with the version each was read at
/// (or after: a read that follows the claim sees that version or a newer one).
#[derive(Default)]
pub(super) struct SetupCache {
    kept: Mutex<HashMap<i64, (i64, Arc<Setup>)>>,
}

impl SetupCache {
    pub(super) fn get(&self, project_id: i64, version: i64) -> Option<Arc<Setup>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&project_id).filter(|(v, _)| *v == version).map(|(_, setup)| setup.clone())
    }

    pub(super) fn keep(&self, project_id: i64, version: i64, setup: Arc<Setup>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT_PROJECTS && !kept.contains_key(&project_id) {
            kept.clear();
        }
        // A slower read at an older version must not replace a newer one.
        if kept.get(&project_id).is_none_or(|(v, _)| *v <= version) {
            kept.insert(project_id, (version, setup));
        }
    }

    pub(super) fn forget(&self, project_id: i64) {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).remove(&project_id);
    }
}
