use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A plain HTML form posted to `/login` (an axum handler), so signing in works
/// the same with and without JavaScript.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|e| match e.as_str() {
            "throttled" => "Too many sign-in attempts. Wait a few minutes and try again.",
            "expired" => "Your session has ended. Please sign in again.",
            "expired_step" => "The sign-in took too long. Please sign in again.",
            "too_many_codes" => "Too many wrong codes. Sign in again with your password.",
            sso if sso.starts_with("sso_") => super::login_sso::message(sso),
            _ => "Wrong e-mail or password.",
        })
    };
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_owned());
    let next_now = next();
    view! {
        <Title text="Sign in" />
        <main class="login">
            <h1>"imgflush"</h1>
            <p class="muted">"Image CDN invalidation console"</p>
            <form method="post" action="/login" class="card">
                {move || error().map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
                <input type="hidden" name="next" value=next />
                <label>"E-mail" <input type="email" name="email" autocomplete="username" required /></label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <super::passkeys::PasskeySignIn second_step=false next=next_now />
            <super::login_sso::SsoChoices />
        </main>
    }
}
