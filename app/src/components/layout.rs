use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::model::Me;
use crate::serverfns::get_me;

/// Header (project switcher, user, sign out), navigation, and the page.
#[component]
pub fn Layout(#[prop(into)] token: Signal<String>, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    let location = use_location();
    let nav_link = move |suffix: &'static str, label: &'static str| {
        let href = move || format!("/p/{}/{suffix}", token.get());
        let current = move || location.pathname.get() == href();
        view! {
            <a href=href aria-current=move || current().then_some("page")>
                {label}
            </a>
        }
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"imgflush"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await.ok().map(|me| view! { <Switcher me=me token=token /> })
                })}
            </Transition>
        </header>
        <nav class="tabs" aria-label="Project">
            {nav_link("invalidation", "Invalidation")}
            {nav_link("api-keys", "API keys")}
            {nav_link("settings", "Settings")}
            <a href="/docs/api">"API reference"</a>
        </nav>
        <main class="page">{children()}</main>
    }
}

#[component]
fn Switcher(me: Me, token: Signal<String>) -> impl IntoView {
    let current = me.project(&token.get_untracked()).map(|p| format!("{} ({})", p.name, p.token));
    let projects = me.projects.clone();
    view! {
        <details class="switcher">
            <summary aria-label="Switch project">{current.unwrap_or_else(|| "Projects".into())}</summary>
            <ul>
                {projects
                    .into_iter()
                    .map(|p| {
                        let href = format!("/p/{}/invalidation", p.token);
                        view! {
                            <li>
                                <a href=href>{p.name} " " <small>{p.token} " · " {p.role.label()}</small></a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </details>
        <div class="user">
            <span class="email" data-testid="user-email">{me.email}</span>
            <form method="post" action="/logout" rel="external">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </div>
    }
}
