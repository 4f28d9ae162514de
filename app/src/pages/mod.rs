pub mod api_docs;
pub mod detail;
pub mod home;
pub mod invalidation;
pub mod keys;
pub mod login;
pub mod settings;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="notice" role="alert">
            <h1>"Not found"</h1>
            <p>"There is nothing here, or it belongs to a project you are not a member of."</p>
            <p><a href="/">"Back to your projects"</a></p>
        </div>
    }
}

/// The `:token` route parameter.
pub fn token_param() -> Signal<String> {
    let params = use_params_map();
    Signal::derive(move || params.read().get("token").unwrap_or_default())
}
