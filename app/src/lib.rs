//! The console: Leptos pages rendered on the server, the islands the browser
//! hydrates (one per page, see `hydrate`), and the server functions they call.
//! Server-only helpers live in the gated modules `ssr` and `shell`.

pub mod answers;
pub mod codec;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod platform;
pub mod serverfns;
pub mod sso_views;
#[cfg(feature = "ssr")]
pub mod ssr;
mod support_text;
pub mod timestamp;
pub mod webauthn;

#[cfg(feature = "ssr")]
pub use shell::{shell, App};

/// The document and its routes: rendered on the server only (islands).
#[cfg(feature = "ssr")]
mod shell {
    use leptos::prelude::*;
    use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
    use leptos_router::components::{FlatRoutes, Route, Router};
    use leptos_router::{path, SsrMode};

    use crate::components::NoSuchPage;
    use crate::pages::account::{AccountPage, InvitePage};
    use crate::pages::api_docs::ApiDocsPage;
    use crate::pages::audit::{InstanceAuditPage, ProjectAuditPage};
    use crate::pages::detail::DetailPage;
    use crate::pages::home::HomePage;
    use crate::pages::hooks::HooksPage;
    use crate::pages::invalidation::InvalidationPage;
    use crate::pages::keys::KeysPage;
    use crate::pages::login::LoginPage;
    use crate::pages::lookup::LookupPage;
    use crate::pages::members::MembersPage;
    use crate::pages::projects::ProjectsPage;
    use crate::pages::settings::SettingsPage;
    use crate::pages::sso::SsoPage;
    use crate::pages::two_step::{LoginCodePage, TwoStepSetupPage};
    use crate::pages::users::UsersPage;

    pub fn shell(options: LeptosOptions) -> impl IntoView {
        view! {
            <!DOCTYPE html>
            <html lang="en">
                <head>
                    <meta charset="utf-8" />
                    <meta name="viewport" content="width=device-width, initial-scale=1" />
                    <link rel="icon" href="data:," />
                    <HydrationScripts options islands=true />
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
                <FlatRoutes fallback=NoSuchPage>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/code") view=LoginCodePage ssr=SsrMode::Async />
                    <Route path=path!("/account/two-step") view=TwoStepSetupPage ssr=SsrMode::Async />
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/docs/api") view=ApiDocsPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/projects") view=ProjectsPage ssr=SsrMode::Async />
                    <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/sso") view=SsoPage ssr=SsrMode::Async />
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
                </FlatRoutes>
            </Router>
        }
    }
}

/// Islands: the pages render on the server only; what is interactive on a
/// page is an `#[island]` the browser hydrates on its own. The Invalidation
/// page's island is in the main WASM; every other page's is `lazy`, a chunk
/// of its own (`cargo leptos build --split`) loaded when that page is shown.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Browser tests wait for `data-hydrated`; a page with islands sets it
    // once they hydrated (`platform::island_ready`).
    if !platform::has_islands() {
        platform::mark_hydrated();
    }
}
