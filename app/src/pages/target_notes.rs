//! The purge targets' table, around its rows: Remove's question and answer,
//! and the warnings and figures the Settings page shows.

use leptos::prelude::*;

use crate::components::{Announce, Confirm};
use crate::serverfns::RemoveTarget;

/// After Remove: what happened to the target and its history.
#[component]
pub(super) fn RemovedNotice(name: String) -> impl IntoView {
    view! {
        <Announce testid="target-removed">
            {format!("Removed the target {name}. Invalidations no longer purge it; its past results stay in the log.")}
        </Announce>
    }
}

/// Remove, behind a confirmation that says what removing does.
#[component]
pub(super) fn ConfirmRemove(
    id: i64,
    name: String,
    token: Signal<String>,
    remove: ServerAction<RemoveTarget>,
) -> impl IntoView {
    view! {
        <Confirm open="Remove" consequence=format!("Invalidations will stop purging {name}. Its past results stay in the log.")>
            <ActionForm action=remove attr:class="inline">
                <input type="hidden" name="project" value=token />
                <input type="hidden" name="target_id" value=id />
                <button type="submit" class="danger">{format!("Remove {name}")}</button>
            </ActionForm>
        </Confirm>
    }
}

/// Automatic format with a CDN not set up for it: that CDN may hand one
/// browser's AVIF to a browser that cannot decode it.
pub(super) fn format_warning(names: Vec<&str>) -> Option<impl IntoView> {
    (!names.is_empty()).then(|| {
        let text = format!(
            "Automatic format is on, but {} not marked “Configured for automatic format”: until the CDN keeps \
             AVIF, WebP and the source format apart (README: “Automatic format behind a CDN”), it may serve AVIF \
             to a browser that cannot show it. Set the CDN up, then tick the box in the target's settings, or turn \
             automatic format off.",
            names.join(", ") + if names.len() == 1 { " is" } else { " are" }
        );
        view! { <p class="warning" role="alert" data-testid="format-warning">{text}</p> }
    })
}

/// The large-purge thresholds as the summary shows them.
pub(super) fn confirm_above(objects: Option<u64>, mb: Option<u64>) -> String {
    match (objects, mb) {
        (None, None) => "no limit".to_owned(),
        (Some(o), None) => format!("{o} objects"),
        (None, Some(m)) => format!("{m} MB"),
        (Some(o), Some(m)) => format!("{o} objects or {m} MB"),
    }
}
