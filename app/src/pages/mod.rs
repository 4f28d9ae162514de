pub mod account;
pub mod api_docs;
pub mod audit;
pub mod detail;
pub mod home;
pub mod hooks;
pub mod invalidation;
pub mod keys;
pub mod login;
pub mod login_sso;
pub mod lookup;
pub mod members;
pub mod passkeys;
pub mod projects;
pub mod settings;
pub mod sso;
mod target_forms;
mod target_notes;
pub mod two_step;
pub mod users;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:token` route parameter.
pub fn token_param() -> Signal<String> {
    let params = use_params_map();
    Signal::derive(move || params.read().get("token").unwrap_or_default())
}

/// A project page whose interactive part is one island taking the project's
/// token: the title, the layout with the project's tabs, and `island(token)`.
/// (The island answers "Not found" for a project the user cannot open. Kept
/// out of a `Suspense` here: an island inside one no longer hydrates.)
pub fn project_page<V: IntoView + 'static>(
    title: &'static str,
    island: impl FnOnce(String) -> V + Send + 'static,
) -> impl IntoView {
    let token = token_param();
    view! {
        <leptos_meta::Title text=title />
        <crate::components::Layout token=token>{island(token.get_untracked())}</crate::components::Layout>
    }
}

/// An instance page (no project tabs): the title, the layout, and `island`.
pub fn instance_page<V: IntoView + 'static>(
    title: &'static str,
    island: impl FnOnce() -> V + Send + 'static,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title />
        <crate::components::Layout token="">{island()}</crate::components::Layout>
    }
}
