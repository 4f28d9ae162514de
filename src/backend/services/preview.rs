//! The dry run: what a purge would remove on each target, asked before it
//! is submitted (the Invalidation page's Preview, `?dry_run=true`, and the
//! large-purge guard). Edges count exactly, from their index, removing
//! nothing; other kinds are "not countable".

use std::time::Duration;

use futures::future::join_all;

use super::targets::TargetService;
use crate::backend::purge::PurgeCall;
use crate::backend::{Actor, ServiceError};
use crate::domain::preview::{Count, Preview, TargetPreview};
use crate::domain::{PurgeRequest, Role, Scope};

impl TargetService {
    /// Asks every target of the project what a purge of `scope` and `items`
    /// (canonical paths, or tags; already validated) would remove, all at
    /// once (members who may submit).
    pub async fn preview(&self, actor: &Actor, scope: Scope, items: &[String]) -> Result<Preview, ServiceError> {
        actor.require(Role::can_submit)?;
        let targets = self.store.list_targets(actor.project.id).await?;
        let request = PurgeRequest { dry_run: true, ..PurgeRequest::new(None, &actor.project.token, scope, items) };
        let call = PurgeCall::one_off(request, actor.project.origin_hosts.clone());
        let counts = join_all(targets.iter().map(|t| async {
            let count = match tokio::time::timeout(PREVIEW_TIMEOUT, self.purger.count(t, &call)).await {
                Ok(Ok(Some((objects, bytes)))) => Count::Counted { objects, bytes },
                Ok(Ok(None)) => Count::NotCountable,
                Ok(Err(e)) => Count::Failed { reason: crate::backend::purge::public_detail(&e.to_string()) },
                Err(_) => Count::Failed { reason: "timed out".into() },
            };
            TargetPreview { name: t.name.clone(), kind: t.kind, count }
        }))
        .await;
        let (mut objects, mut bytes) = (0, 0);
        for t in &counts {
            if let Count::Counted { objects: o, bytes: b } = t.count {
                objects += o;
                bytes += b;
            }
        }
        Ok(Preview { scope, items: items.to_vec(), targets: counts, objects, bytes })
    }
}

/// A preview waits this long for the slowest edge.
const PREVIEW_TIMEOUT: Duration = Duration::from_secs(5);

impl TargetService {
    /// "Check now": asks every edge and Varnish node, from its cache only,
    /// whether it holds the variant `located` names and since when (members
    /// who may read: it changes nothing).
    pub async fn probe(
        &self,
        actor: &Actor,
        located: &crate::domain::image_url::LocatedUrl,
    ) -> Result<Vec<crate::domain::probe::ProbeResult>, ServiceError> {
        use crate::domain::probe::{Probe, ProbeRequest, ProbeResult};

        actor.require(Role::can_read)?;
        let targets = self.store.list_targets(actor.project.id).await?;
        let req = ProbeRequest {
            token: actor.project.token.clone(),
            path: located.origin.as_str().to_owned(),
            query: located.query.clone(),
        };
        Ok(join_all(targets.iter().map(|t| async {
            let state = match tokio::time::timeout(PREVIEW_TIMEOUT, self.purger.probe(t, &req)).await {
                Ok(Ok(Some(answer))) => Probe::from(answer),
                Ok(Ok(None)) => Probe::NotProbeable,
                Ok(Err(e)) => Probe::Failed { reason: crate::backend::purge::public_detail(&e.to_string()) },
                Err(_) => Probe::Failed { reason: "timed out".into() },
            };
            ProbeResult { name: t.name.clone(), kind: t.kind, state }
        }))
        .await)
    }
}
