mod form;
mod log;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{CopyButton, Layout};
use crate::pages::token_param;
use crate::serverfns::{get_me, invalidation_copy, RetryInvalidation, SubmitInvalidation};

/// The Invalidation page: the form (for admins and editors) and the log.
#[component]
pub fn InvalidationPage() -> impl IntoView {
    let token = token_param();
    let query = use_query_map();
    let submit = ServerAction::<SubmitInvalidation>::new();
    let retry = ServerAction::<RetryInvalidation>::new();
    let me = Resource::new(move || token.get(), |_| get_me());
    let created = move || query.read().get("created");
    // "Copy to new": the form starts with an earlier invalidation's scope and paths.
    let copy = Resource::new(
        move || (token.get(), query.read().get("copy")),
        |(token, copy)| async move {
            match copy {
                Some(id) => invalidation_copy(token, id).await.ok(),
                None => None,
            }
        },
    );
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
            {move || created().map(|id| view! {
                <div class="notice notice-ok" role="status" data-testid="created">
                    "Your invalidation request has been received. Invalidation ID: "
                    <code data-testid="created-id">{id.clone()}</code> " "
                    <CopyButton text=id label="Copy the new Invalidation ID" />
                </div>
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let role = me.await.ok().and_then(|me| me.project(&token.get_untracked()).map(|p| p.role));
                    let initial = copy.await;
                    match role {
                        Some(r) if r.can_submit() => view! { <form::InvalidationForm token=token submit=submit initial=initial /> }.into_any(),
                        Some(_) => view! {
                            <p class="notice" data-testid="read-only">"Your role is read-only: you can inspect the log but not submit invalidations."</p>
                        }.into_any(),
                        None => ().into_any(),
                    }
                })}
            </Suspense>
            <log::InvalidationLog token=token retry=retry submit=submit />
        </Layout>
    }
}
