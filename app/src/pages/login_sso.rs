//! The sign-in page's single sign-on part: a plain link per identity
//! provider (it works without JavaScript) and what each refusal says.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::serverfns::sso_choices;
use imgflush::domain::url::query_value;

/// What the sign-in page says for `error=sso_{reason}`.
pub fn message(code: &str) -> &'static str {
    match code {
        "sso_required" => "This console requires single sign-on: use a “Sign in with …” button below.",
        "sso_state" => "That single sign-on attempt expired or was already used. Please start again.",
        "sso_provider" => "The identity provider refused the sign-in or could not be reached.",
        "sso_token" => "The identity provider's answer could not be verified (invalid or expired). Please try again.",
        "sso_domain" => "Your e-mail domain is not allowed to sign in here.",
        "sso_unverified" => "Your identity provider has not verified your e-mail address.",
        _ => "Single sign-on failed on our side. Please try again.",
    }
}

/// "Sign in with {name}" for each configured provider; nothing when none is.
#[component]
pub fn SsoChoices() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_owned());
    let choices = Resource::new(|| (), |_| sso_choices());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = choices.await.unwrap_or_default();
                let next = query_value(&next());
                (!list.is_empty()).then(|| view! {
                    <nav class="card sso" aria-label="Single sign-on" data-testid="sso-choices">
                        {list.into_iter().map(|c| {
                            let href = format!("/login/sso/{}?next={next}", c.id);
                            view! { <a class="button primary" href=href rel="external">{format!("Sign in with {}", c.name)}</a> }
                        }).collect_view()}
                    </nav>
                })
            })}
        </Suspense>
    }
}
