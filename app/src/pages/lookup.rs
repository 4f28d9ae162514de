use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::components::{or_error, Layout};
use crate::serverfns::locate_invalidation;

/// The header's lookup box lands here (`/lookup?q=…`, a plain GET form):
/// redirects to the details page of the Invalidation ID in `q`, in whichever
/// project holds it, or answers the same "not found" as an unknown ID.
#[component]
pub fn LookupPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let found = Resource::new(q, locate_invalidation);
    view! {
        <Title text="Find an invalidation" />
        <Layout token="">
            <Suspense fallback=|| view! { <p>"Looking it up…"</p> }>
                {move || Suspend::new(async move {
                    or_error(found.await, |path| view! {
                        <p>"Found: " <a href=path.clone()>{path.clone()}</a></p>
                        <Redirect path=path />
                    })
                })}
            </Suspense>
        </Layout>
    }
}
