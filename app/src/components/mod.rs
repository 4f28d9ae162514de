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
        Ok(attempt) => {
            view! { <Announce testid="retry-queued">{format!("Retry queued as attempt {attempt}.")}</Announce> }
                .into_any()
        }
        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
    }
}

/// Retry's answer after a form posted without JavaScript (kept for the page
/// the browser comes back to).
#[component]
pub fn KeptRetryAnswer() -> impl IntoView {
    let kept = flash("retry_queued");
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                kept.await.and_then(|a| a.parse().ok()).map(|attempt: i32| view! { <RetryAnswer answer=Ok(attempt) /> })
            })}
        </Suspense>
    }
}

/// The answer to an action (removed, revoked, changed…), focused when it
/// appears: the button that was pressed may be gone, and keyboard and
/// screen-reader users land on what happened instead of the page body.
#[component]
pub fn Announce(#[prop(into)] testid: String, children: Children) -> impl IntoView {
    let el = NodeRef::<leptos::html::P>::new();
    Effect::new(move |_| {
        if let Some(el) = el.get() {
            let _ = el.focus();
        }
    });
    view! { <p class="notice notice-ok" role="status" tabindex="-1" data-testid=testid node_ref=el>{children()}</p> }
}

/// A destructive action behind a question that says what it does: a
/// disclosure (`open` is its button), then the consequence and the action's
/// form (`children`). Works without JavaScript.
#[component]
pub fn Confirm(#[prop(into)] open: String, #[prop(into)] consequence: String, children: Children) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="danger">{open}</summary>
            <div class="confirm-body">
                <p>{consequence}</p>
                {children()}
            </div>
        </details>
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
        Err(AppError::Unauthorized) => {
            view! { <SessionEnded next=crate::platform::current_path().unwrap_or_else(|| "/".to_owned()) /> }.into_any()
        }
        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
    }
}

/// The session ended while the page was open: a link that signs in again
/// and comes back to `next` (a path on this console).
#[component]
pub fn SessionEnded(next: String, #[prop(optional)] kept: bool) -> impl IntoView {
    let href = format!("/login?error=expired&next={}", query_value(&next));
    view! {
        <div class="notice notice-error" role="alert" data-testid="session-ended">
            <p>
                "Your session has ended. " <a href=href>"Sign in again"</a>
                {if kept { " and come back here with what you typed." } else { " to come back to this page." }}
            </p>
        </div>
    }
}

/// The answer for an unknown project, invalidation or ID inside a page,
/// and for another project's data alike (404): a user who is not a member
/// learns nothing about what exists, so the text covers both.
#[component]
pub fn NotFound() -> impl IntoView {
    crate::platform::set_response_status(404);
    view! {
        <div class="notice" role="alert" data-testid="not-found">
            // Inside a page that has its own h1 (the page's name).
            <h2>"Not found"</h2>
            <p>"No project or invalidation you can open answers to this address."</p>
            <p>"Check the address, or look the Invalidation ID up in the box above."</p>
            <p><a href="/">"Back to your projects"</a></p>
        </div>
    }
}

/// A whole page that answers 404 for an unknown project or a malformed
/// ID: the layout without project tabs, a title, and `NotFound`.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Not found" />
        <Layout token="">
            <h1>"Not found"</h1>
            <NotFound />
        </Layout>
    }
}

/// Any address the console has no page for: the layout, the lookup box,
/// and what was asked for.
#[component]
pub fn NoSuchPage() -> impl IntoView {
    crate::platform::set_response_status(404);
    let path = leptos_router::hooks::use_location().pathname.get_untracked();
    view! {
        <leptos_meta::Title text="Page not found" />
        <Layout token="">
            <div class="notice" role="alert" data-testid="not-found">
                <h1>"Page not found"</h1>
                <p>"There is no page at " <code>{path}</code> "."</p>
                <p>"Looking for an invalidation? Paste its ID (or its first 8 characters) in the box above."</p>
                <p><a href="/">"Back to your projects"</a></p>
            </div>
        </Layout>
    }
}
