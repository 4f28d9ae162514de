pub mod account;
pub mod api_docs;
pub mod audit;
pub mod detail;
pub mod home;
pub mod hooks;
pub mod invalidation;
pub mod keys;
pub mod login;
pub mod lookup;
pub mod members;
pub mod projects;
pub mod settings;
pub mod users;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:token` route parameter.
pub fn token_param() -> Signal<String> {
    let params = use_params_map();
    Signal::derive(move || params.read().get("token").unwrap_or_default())
}
