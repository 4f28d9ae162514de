//! Service results mapped to the views the pages render (what each role may see).

use imgflush::backend::store::{ApiKey, Invalidation, Member, Target, TargetState};
use imgflush::backend::{invalidations::Detail, targets::url_for, Actor};
use imgflush::domain::advice::next_step;
use imgflush::domain::Role;

use crate::model::{DetailView, EventView, KeyView, LogRow, MemberView, TargetResultView, TargetView};

impl From<Invalidation> for LogRow {
    fn from(inv: Invalidation) -> Self {
        LogRow {
            id: inv.id.to_string(),
            status: inv.status,
            scope: inv.scope,
            created: inv.created.into(),
            paths: inv.paths,
            submitted_by: inv.submitted_by,
            attempt: inv.attempt,
            not_before: inv.not_before.map(Into::into),
            why: inv.status.is_error().then(|| first_failure(inv.error.as_deref())).flatten(),
        }
    }
}

/// The log's short reason from an errored invalidation's error, e.g. `CDN
/// node purge failed: node-a (HTTP 503); node-b (timed out)` gives
/// `node-a (HTTP 503) and 1 more`; any other error is shown as it is.
fn first_failure(error: Option<&str>) -> Option<String> {
    let error = error?.trim();
    let Some((_, list)) = error.split_once(" purge failed: ") else {
        return (!error.is_empty()).then(|| error.to_owned());
    };
    // Failed targets are `name (reason)` (a name has no spaces); a note after them is prose.
    let failed: Vec<&str> = list
        .split("; ")
        .filter(|t| t.ends_with(')') && t.split_once(" (").is_some_and(|(name, _)| !name.contains(' ')))
        .collect();
    let first = failed.first()?;
    Some(match failed.len() {
        1 => (*first).to_owned(),
        n => format!("{first} and {} more", n - 1),
    })
}

impl DetailView {
    pub fn new(d: Detail, actor: &Actor) -> Self {
        DetailView {
            error: d.invalidation.error.clone(),
            finished: d.invalidation.finished.map(Into::into),
            events: d
                .events
                .into_iter()
                .map(|e| EventView { status: e.status, attempt: e.attempt, note: e.note, at: e.at.into() })
                .collect(),
            targets: d
                .targets
                .into_iter()
                .map(|t| TargetResultView {
                    next_step: (t.state == TargetState::Error)
                        .then(|| next_step(t.kind, t.detail.as_deref().unwrap_or_default())),
                    name: t.name,
                    kind: t.kind,
                    state: t.state.as_str().to_owned(),
                    attempts: t.attempts,
                    detail: t.detail,
                    duration_ms: t.duration_ms,
                    updated: t.updated.into(),
                    verified: t.verified,
                    verify_note: t.verify_note,
                })
                .collect(),
            row: d.invalidation.into(),
            role: actor.role,
            token: actor.project.token.clone(),
            base_url: String::new(),
            admins: Vec::new(),
        }
    }
}

impl TargetView {
    /// The target as `role` may see it: see [`url_for`].
    pub fn new(t: Target, role: Role) -> Self {
        TargetView {
            id: t.id,
            kind: t.kind,
            url: url_for(&t.url, role),
            name: t.name,
            has_secret: t.secret.is_some(),
            // Public values only: credentials are sealed apart and never sent.
            settings: t.settings.0,
            has_credentials: t.credentials.is_some(),
            paths_this_month: None,
        }
    }
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        let now = chrono::Utc::now();
        let state = k.state_at(now, imgflush::backend::key_rules::NOTICE_BEFORE);
        KeyView {
            expires: k.expires.map(Into::into),
            allowed_ips: k.allowed_ips,
            last_used_addr: k.last_used_addr,
            state,
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: k.role,
            created: k.created.into(),
            last_used: k.last_used.map(Into::into),
            revoked: k.revoked.map(Into::into),
            limits: k.limits,
        }
    }
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            user_id: m.user_id,
            email: m.email,
            role: m.role,
            last_sign_in: m.last_sign_in.map(Into::into),
            invited: m.invited,
        }
    }
}

/// The lookup of one image URL: the invalidations that covered it (its tags'
/// too, once an edge said which it carries) and, after *Check now*, what
/// each target holds.
pub async fn lookup_view(
    services: &imgflush::backend::Services,
    actor: &Actor,
    located: imgflush::domain::image_url::LocatedUrl,
    probes: Option<Vec<imgflush::domain::probe::ProbeResult>>,
) -> Result<crate::model::UrlLookupView, imgflush::backend::ServiceError> {
    use imgflush::domain::probe::Probe;

    let fresh = services.invalidations.freshness(actor, &located.origin, probes).await?;
    let probes = fresh.probes.map(|list| {
        list.into_iter()
            .map(|(p, older_than_purge)| crate::model::ProbeView {
                older_than_purge,
                text: match &p.state {
                    Probe::Cached { age_secs, stale, .. } => {
                        format!("holds it, stored {age_secs} s ago{}", if *stale { " (stale: refetching)" } else { "" })
                    }
                    Probe::NotCached => "does not hold it (the next request fetches it fresh)".to_owned(),
                    Probe::NotProbeable => format!("cannot be asked ({} targets do not say)", p.kind.label()),
                    Probe::Failed { reason } => format!("did not answer: {reason}"),
                },
                name: p.name,
                kind: p.kind,
            })
            .collect()
    });
    Ok(crate::model::UrlLookupView {
        token: located.token,
        origin: located.origin.as_str().to_owned(),
        query: located.query,
        rows: fresh.covering.into_iter().map(Into::into).collect(),
        last_done: fresh.last_done.map(Into::into),
        probes,
    })
}

#[cfg(test)]
mod tests {
    use super::first_failure;

    #[test]
    fn an_errored_rows_reason_is_its_first_failed_target() {
        assert_eq!(first_failure(Some("CDN node purge failed: node-a (HTTP 503)")).unwrap(), "node-a (HTTP 503)");
        assert_eq!(
            first_failure(Some("resizing server purge failed: edge-1 (timed out); edge-2 (HTTP 500)")).unwrap(),
            "edge-1 (timed out) and 1 more"
        );
        let shielded = "resizing server purge failed: shield (HTTP 502); 2 edges of later tiers not called yet \
                        (they would fetch the old copy back from a shield above them)";
        assert_eq!(first_failure(Some(shielded)).unwrap(), "shield (HTTP 502)");
        assert_eq!(first_failure(Some("the project no longer exists")).unwrap(), "the project no longer exists");
        assert_eq!(first_failure(None), None);
    }
}
