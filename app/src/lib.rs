//! The console: Leptos components (SSR + hydrate) and the server functions
//! they call. Server-only helpers live in the one gated module `ssr`.

pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod platform;
pub mod serverfns;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::NotFound;
use pages::{
    account::{AccountPage, InvitePage},
    api_docs::ApiDocsPage,
    audit::{InstanceAuditPage, ProjectAuditPage},
    detail::DetailPage,
    home::HomePage,
    hooks::HooksPage,
    invalidation::InvalidationPage,
    keys::KeysPage,
    login::LoginPage,
    lookup::LookupPage,
    members::MembersPage,
    projects::ProjectsPage,
    settings::SettingsPage,
    users::UsersPage,
};

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
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                <Route path=path!("/docs/api") view=ApiDocsPage />
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                <Route path=path!("/projects") view=ProjectsPage ssr=SsrMode::Async />
                <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async />
                <Route path=path!("/lookup") view=LookupPage ssr=SsrMode::Async />
                // Async: data loads before the headers go out, so a foreign or
                // unknown project answers with a real 404 status.
                <Route path=path!("/p/:token/invalidation") view=InvalidationPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/invalidation/:id") view=DetailPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/api-keys") view=KeysPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/settings") view=SettingsPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/members") view=MembersPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/audit") view=ProjectAuditPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token/notifications") view=HooksPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=InstanceAuditPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Browser tests wait for this: clicks before hydration do nothing.
    platform::mark_hydrated();
}
