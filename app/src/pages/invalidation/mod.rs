mod form;
mod hosts;
mod log;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{CopyButton, Layout};
use crate::pages::token_param;
use crate::serverfns::{invalidation_form, RetryInvalidation, SubmitInvalidation};
use imgflush::domain::Scope;

use log::LogFilter;

/// The Invalidation page: the form (for admins and editors) and the log.
/// The server reads the route and the query; the island gets them as props.
#[component]
pub fn InvalidationPage() -> impl IntoView {
    let token = token_param();
    let query = use_query_map();
    let param = move |k: &str| query.read_untracked().get(k).filter(|v| !v.is_empty());
    let filter = LogFilter { status: param("status"), q: param("q"), before: param("before") };
    view! {
        <Title text="Invalidation" />
        <Layout token=token>
            <h1>"Invalidation"</h1>
            <p class="muted">
                "Flush origin images from the resizing servers and every CDN node. Enter the "
                <code>"origin_image_url"</code> " part only: for "
                <code>"doc.cloudimg.io/sample.li/flat1.jpg?w=500"</code> " enter "
                <code>"/sample.li/flat1.jpg"</code> "."
            </p>
            <InvalidationBody token=token.get_untracked() created=param("created") copy=param("copy")
                typed=param("urls").map(|urls| (param("scope").unwrap_or_default(), urls)) filter />
        </Layout>
    }
}

/// The page's interactive part: the form with its live validation, the new
/// Invalidation ID, and the live log. An island in the main WASM: the one
/// page whose code the first load carries.
#[island]
fn InvalidationBody(
    token: String,
    /// The Invalidation ID just created (`?created=`, after a post without JavaScript).
    created: Option<String>,
    /// "Copy to new" (`?copy=`): the form starts with this invalidation's scope and paths.
    copy: Option<String>,
    /// What was typed before the session ended (`?scope=&urls=`): the form
    /// starts with it after signing in again.
    typed: Option<(String, String)>,
    filter: LogFilter,
) -> impl IntoView {
    let token = Signal::stored(token);
    crate::platform::island_ready();
    let start = Resource::new(|| (), move |_| invalidation_form(token.get_untracked(), copy.clone()));
    let submit = ServerAction::<SubmitInvalidation>::new();
    let retry = ServerAction::<RetryInvalidation>::new();
    let created = RwSignal::new(created);
    let filter = RwSignal::new(filter);
    // Submitted with JavaScript: the address shows the new ID as after a
    // plain post (`?created=`, in place of the page's entry), and the page
    // shows it without a reload.
    let banner = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(Ok(id)) = submit.value().get() {
            crate::platform::show_address(&format!("/p/{}/invalidation?created={id}", token.get_untracked()));
            created.set(Some(id));
            // The banner sits right above the log: brought to the top of the
            // window with the new row under it, and focused (keyboard and
            // screen-reader users land on the answer, not on the page body).
            request_animation_frame(move || {
                if let Some(el) = banner.get_untracked() {
                    el.scroll_into_view();
                    let _ = el.focus();
                }
            });
            // The log shows the new row unfiltered; a set that changes
            // nothing would reload it a second time (the submit already does).
            if filter.with_untracked(|f| *f != LogFilter::default()) {
                filter.set(LogFilter::default());
            }
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let typed = typed.clone();
                Suspend::new(async move {
                    // Not a member: nothing here (the log below says "Not found").
                    match start.await {
                        Ok(s) if s.role.can_submit() => {
                            let typed = typed.map(|(scope, text)| {
                                let entries = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty());
                                (Scope::parse(&scope).unwrap_or(Scope::Original), entries.map(str::to_owned).collect())
                            });
                            let initial = s.initial.or(typed);
                            view! { <form::InvalidationForm token=token submit=submit initial confirm_above=s.confirm_above origin_hosts=s.origin_hosts /> }.into_any()
                        }
                        Ok(_) => view! {
                            <p class="notice" data-testid="read-only">"Your role is read-only: you can inspect the log but not submit invalidations."</p>
                        }.into_any(),
                        Err(_) => ().into_any(),
                    }
                })
            }}
        </Suspense>
        {move || created.get().map(|id| {
            let details = format!("/p/{}/invalidation/{id}", token.get_untracked());
            view! {
                <div class="notice notice-ok" role="status" id="created" data-testid="created" tabindex="-1" node_ref=banner>
                    "Your invalidation request has been received. Invalidation ID: "
                    <a href=details><code data-testid="created-id">{id.clone()}</code></a> " "
                    <CopyButton text=id label="Copy the new Invalidation ID" />
                </div>
            }
        })}
        <log::InvalidationLog token=token retry=retry submit=submit filter=filter created=created.into() />
    }
}
