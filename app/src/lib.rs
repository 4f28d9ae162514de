//! The console: Leptos components (SSR + hydrate) and the server functions
//! they call. Server-only helpers live in the one gated module `ssr`.

pub mod codec;
pub mod components;
pub mod error;
pub mod lazy;
pub mod model;
pub mod pages;
pub mod platform;
pub mod serverfns;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{path, Lazy, SsrMode};

use components::NotFound;
use pages::invalidation::InvalidationPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/imgflush.css" />
        <Title formatter=|t: String| if t.is_empty() { "imgflush".to_owned() } else { format!("{t} · imgflush") } />
        <Router>
            <FlatRoutes fallback=NotFound>
                <Route path=path!("/login") view={Lazy::<lazy::Login>::new()} />
                <Route path=path!("/") view={Lazy::<lazy::Home>::new()} ssr=SsrMode::Async />
                <Route path=path!("/docs/api") view={Lazy::<lazy::ApiDocs>::new()} />
                <Route path=path!("/account") view={Lazy::<lazy::Account>::new()} ssr=SsrMode::Async />
                <Route path=path!("/projects") view={Lazy::<lazy::Projects>::new()} ssr=SsrMode::Async />
                <Route path=path!("/users") view={Lazy::<lazy::Users>::new()} ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view={Lazy::<lazy::Invite>::new()} ssr=SsrMode::Async />
                <Route path=path!("/lookup") view={Lazy::<lazy::Lookup>::new()} ssr=SsrMode::Async />
                // Async: data loads before the headers go out, so a foreign or
                // unknown project answers with a real 404 status.
                // The one page whose code is in the main bundle (see `lazy`).
                <Route path=path!("/p/:token/invalidation") view=InvalidationPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/invalidation/:id") view={Lazy::<lazy::Detail>::new()} ssr=SsrMode::Async />
                <Route path=path!("/p/:token/api-keys") view={Lazy::<lazy::Keys>::new()} ssr=SsrMode::Async />
                <Route path=path!("/p/:token/settings") view={Lazy::<lazy::Settings>::new()} ssr=SsrMode::Async />
                <Route path=path!("/p/:token/members") view={Lazy::<lazy::Members>::new()} ssr=SsrMode::Async />
                <Route path=path!("/p/:token/audit") view={Lazy::<lazy::ProjectAudit>::new()} ssr=SsrMode::Async />
                <Route path=path!("/p/:token/notifications") view={Lazy::<lazy::Hooks>::new()} ssr=SsrMode::Async />
                <Route path=path!("/audit") view={Lazy::<lazy::InstanceAudit>::new()} ssr=SsrMode::Async />
            </FlatRoutes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Async: the lazy route being shown loads its chunk before it hydrates.
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), App).await.forget();
        // Browser tests wait for this: clicks before hydration do nothing.
        platform::mark_hydrated();
    });
}
