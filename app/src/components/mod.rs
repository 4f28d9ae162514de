//! Small pieces shared by the pages.

mod layout;
mod time;

pub use crate::timestamp::{iso_millis, utc_text};
pub use layout::Layout;
pub use time::LocalTime;

use leptos::prelude::*;

use crate::error::AppError;
use imgflush::domain::url::query_value;
use imgflush::domain::Status;

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! {
        <span class=status.css_class() data-status=status.code() title=status.code()>
            {status.label()}
        </span>
    }
}

/// What a Retry answered: the attempt it queued, or why it was refused
/// (the log and the details page both show it).
#[component]
pub fn RetryAnswer(answer: Result<i32, AppError>) -> impl IntoView {
    match answer {
        Ok(attempt) => view! {
            <p class="notice notice-ok" role="status" data-testid="retry-queued">{format!("Retry queued as attempt {attempt}.")}</p>
        }
        .into_any(),
        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
    }
}

/// An error from a server function, with per-field details when there are any.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let fields = error.field_errors().to_vec();
    let summary = if fields.is_empty() { error.to_string() } else { "Please fix the following:".to_owned() };
    view! {
        <div class="notice notice-error" role="alert">
            <p>{summary}</p>
            <ul class="field-errors">
                {fields
                    .into_iter()
                    .map(|f| {
                        let suggestion = f.suggestion.clone();
                        view! {
                            <li data-field=f.field.clone()>
                                {f.message.clone()}
                                {suggestion.map(|s| view! { " " <code class="suggestion">{s}</code> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// Copies `text` to the clipboard (with JavaScript); the text itself stays selectable.
#[component]
pub fn CopyButton(text: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        if crate::platform::copy_to_clipboard(&text) {
            copied.set(true);
        }
    };
    view! {
        <button type="button" class="copy" aria-label=label on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// `key=value` for each filter that is set, the value escaped for a query
/// string: the log's and the audit trail's links keep their filters with it.
pub fn query_parts(filters: &[(&str, Option<&str>)]) -> Vec<String> {
    filters.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={}", query_value(v)))).collect()
}

/// What a form posted without JavaScript left for this page to show once
/// (read during the server render; see `take_flash`).
pub fn flash(key: &'static str) -> Resource<Option<String>> {
    Resource::new(|| (), move |_| async move { crate::serverfns::take_flash(key.to_owned()).await.ok().flatten() })
}

/// Renders a `Result` from a resource: the value through `ok`, or the error.
pub fn or_error<T, V: IntoView + 'static>(result: Result<T, AppError>, ok: impl FnOnce(T) -> V) -> AnyView {
    match result {
        Ok(v) => ok(v).into_any(),
        Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
        Err(AppError::Unauthorized) => view! {
            <div class="notice notice-error" role="alert">
                <p>"Your session has ended. " <a href="/login">"Sign in again"</a></p>
            </div>
        }
        .into_any(),
        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
    }
}

/// The answer for an unknown page, and for another project's data alike (404).
#[component]
pub fn NotFound() -> impl IntoView {
    crate::platform::set_response_status(404);
    view! {
        <div class="notice" role="alert">
            <h1>"Not found"</h1>
            <p>"There is nothing here, or it belongs to a project you are not a member of."</p>
            <p><a href="/">"Back to your projects"</a></p>
        </div>
    }
}
