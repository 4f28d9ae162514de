//! "Is this URL fresh?": the invalidations that covered an image, and what
//! the caches' probes say of it against the last completed one.

use chrono::{DateTime, Utc};

use super::service::InvalidationService;
use crate::backend::store::{Invalidation, ListQuery};
use crate::backend::{Actor, ServiceError};
use crate::domain::probe::{Probe, ProbeResult};
use crate::domain::{OriginPath, Role, Scope, Status};

/// One image's freshness: what covered it, when the newest DONE of those
/// finished, and each probe with whether its copy is older than that.
#[derive(Debug, Clone)]
pub struct Freshness {
    pub covering: Vec<Invalidation>,
    pub last_done: Option<DateTime<Utc>>,
    /// After *Check now*: each target's answer, and whether it holds a copy
    /// stored before the last DONE purge that covered it.
    pub probes: Option<Vec<(ProbeResult, bool)>>,
}

impl InvalidationService {
    /// The project's newest invalidations (at most 20) that cover the image
    /// at `origin`: scope All, or Original naming it or a prefix of it; and
    /// those of scope Tag naming one of `tags` (the object's tags, as an
    /// edge reported them).
    pub async fn covering(
        &self,
        actor: &Actor,
        origin: &crate::domain::OriginPath,
        tags: &[String],
    ) -> Result<Vec<Invalidation>, ServiceError> {
        actor.require(Role::can_read)?;
        let mut found = self.store.covering_invalidations(actor.project.id, origin.as_str(), 20).await?;
        for tag in tags.iter().take(crate::domain::tag::MAX_TAGS_PER_OBJECT) {
            let q = ListQuery { search: Some(tag.clone()), limit: 20, ..Default::default() };
            found.extend(
                self.store
                    .list_invalidations(actor.project.id, &q)
                    .await?
                    .into_iter()
                    .filter(|i| i.scope == Scope::Tag),
            );
        }
        found.sort_by_key(|b| std::cmp::Reverse(b.id.0));
        found.dedup_by(|a, b| a.id == b.id);
        found.truncate(20);
        Ok(found)
    }

    /// The image at `origin` against the caches' `probes` (if asked): the
    /// covering invalidations, its tags' included once an edge named them.
    pub async fn freshness(
        &self,
        actor: &Actor,
        origin: &OriginPath,
        probes: Option<Vec<ProbeResult>>,
    ) -> Result<Freshness, ServiceError> {
        let mut tags: Vec<String> = Vec::new();
        for p in probes.iter().flatten() {
            if let Probe::Cached { tags: held, .. } = &p.state {
                tags.extend(held.iter().filter(|t| !tags.contains(t)).cloned().collect::<Vec<_>>());
            }
        }
        let covering = self.covering(actor, origin, &tags).await?;
        let last_done = covering.iter().filter(|r| r.status == Status::Done).filter_map(|r| r.finished).max();
        let purged_secs_ago = last_done.map(|t| (Utc::now() - t).num_seconds().max(0) as u64);
        let probes = probes.map(|list| {
            list.into_iter()
                .map(|p| {
                    let older = purged_secs_ago.is_some_and(|ago| p.older_than(ago));
                    (p, older)
                })
                .collect()
        });
        Ok(Freshness { covering, last_done, probes })
    }
}
