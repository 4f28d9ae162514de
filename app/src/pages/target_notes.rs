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

/// What a Settings post did, one wording with or without JavaScript: the
/// action's value with it, the `settings_answer` flash after a plain post.
/// `what` is `target_added`, `target_saved`, `settings_saved` or
/// `retention:{days}`; focused, since the table or form is drawn again.
#[component]
pub(super) fn SettingsAnswer(what: String) -> impl IntoView {
    if let Some(days) = what.strip_prefix("retention:") {
        let text = format!("Invalidations are now kept for {days} days.");
        return view! { <Announce testid="retention-saved">{text}</Announce> }.into_any();
    }
    match what.as_str() {
        "target_added" => {
            view! { <Announce testid="target-added">"Target added. Test it to check that it answers."</Announce> }
                .into_any()
        }
        "target_saved" => view! { <Announce testid="target-saved">"Target saved."</Announce> }.into_any(),
        "settings_saved" => view! {
            <Announce testid="settings-saved">"Settings saved. Edges pick them up within a few seconds."</Announce>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

/// The retention form's answer: the days now kept, or why not.
#[component]
pub(super) fn RetentionAnswer(answer: Result<i64, crate::error::AppError>) -> impl IntoView {
    match answer {
        Ok(days) => view! { <SettingsAnswer what=format!("retention:{days}") /> }.into_any(),
        Err(error) => view! { <crate::components::ErrorNotice error /> }.into_any(),
    }
}
