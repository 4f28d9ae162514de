//! Every page but the Invalidation page is a lazy route. Built with
//! `cargo leptos build --split`, each one's code is a WASM chunk of its own
//! that the browser fetches when the page is first shown (a full load of the
//! page preloads it from the server's hint), so the first load of the
//! Invalidation page carries none of it.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages::account::{AccountPage, InvitePage};
use crate::pages::api_docs::ApiDocsPage;
use crate::pages::audit::{InstanceAuditPage, ProjectAuditPage};
use crate::pages::detail::DetailPage;
use crate::pages::home::HomePage;
use crate::pages::hooks::HooksPage;
use crate::pages::keys::KeysPage;
use crate::pages::login::LoginPage;
use crate::pages::lookup::LookupPage;
use crate::pages::members::MembersPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::settings::SettingsPage;
use crate::pages::users::UsersPage;

/// `Route => Page`: a route type whose view, the page, is loaded lazily.
/// The pages load their data themselves, so a route carries none.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident,)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    Login => LoginPage,
    Home => HomePage,
    ApiDocs => ApiDocsPage,
    Account => AccountPage,
    Invite => InvitePage,
    Projects => ProjectsPage,
    Users => UsersPage,
    Lookup => LookupPage,
    Detail => DetailPage,
    Keys => KeysPage,
    Settings => SettingsPage,
    Members => MembersPage,
    ProjectAudit => ProjectAuditPage,
    Hooks => HooksPage,
    InstanceAudit => InstanceAuditPage,
}
