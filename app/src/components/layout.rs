use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::model::Me;
use crate::serverfns::get_me;

/// Header (project switcher, user, sign out), navigation, and the page.
#[component]
pub fn Layout(#[prop(into)] token: Signal<String>, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <header class="topbar">
            <a class="brand" href="/">"imgflush"</a>
            <form method="get" action="/lookup" class="lookup" role="search">
                <label for="lookup-q" class="sr-only">"Invalidation ID or URL"</label>
                <input id="lookup-q" name="q" type="search" placeholder="Invalidation ID or URL" required maxlength="2048" />
                <button type="submit">"Find"</button>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await.ok().map(|me| view! { <Switcher me=me token=token /> })
                })}
            </Transition>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let me = me.await.ok();
                (!token.get().is_empty()).then(|| view! { <Tabs me=me token=token /> })
            })}
        </Transition>
        <main class="page" id="main" tabindex="-1">{children()}</main>
    }
}

/// The project's pages; the admin pages only for its admins and the operator's staff.
#[component]
fn Tabs(me: Option<Me>, token: Signal<String>) -> impl IntoView {
    let location = use_location();
    let role = me.as_ref().and_then(|m| m.project(&token.get_untracked()).map(|p| p.role));
    let admin = role.is_some_and(|r| r.can_manage());
    let staff = me.as_ref().is_some_and(|m| m.instance_role == Some(imgflush::domain::InstanceRole::Staff));
    let link = move |suffix: &'static str, label: &'static str, shown: bool| {
        let href = move || format!("/p/{}/{suffix}", token.get());
        let current = move || location.pathname.get() == href();
        shown.then(|| view! { <a href=href aria-current=move || current().then_some("page")>{label}</a> })
    };
    view! {
        <nav class="tabs" aria-label="Project">
            {link("invalidation", "Invalidation", true)}
            {link("members", "Members", admin || staff)}
            {link("api-keys", "API keys", admin)}
            {link("settings", "Settings", true)}
            {link("notifications", "Notifications", admin || staff)}
            {link("audit", "Audit", admin || staff)}
            <a href=move || format!("/docs/api?project={}", token.get())>"API reference"</a>
        </nav>
    }
}

#[component]
fn Switcher(me: Me, token: Signal<String>) -> impl IntoView {
    let current = me.project(&token.get_untracked()).map(|p| format!("{} ({})", p.name, p.token));
    let projects = me.projects.clone();
    view! {
        <details class="switcher">
            <summary><span class="sr-only">"Switch project: "</span>{current.unwrap_or_else(|| "Projects".into())}</summary>
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
        // On a phone the account links fold behind "Menu" (a checkbox and its
        // label: it works without JavaScript); on a wide screen they show.
        <input type="checkbox" id="menu-toggle" class="menu-toggle sr-only" />
        <label for="menu-toggle" class="menu-button">"Menu"</label>
        <div class="user">
            <a class="email" href="/account" data-testid="user-email">{me.email}</a>
            {me.instance_role.map(|r| view! {
                <span class="badge" data-testid="instance-role">{r.label()}</span>
                <a href="/projects">"All projects"</a>
                <a href="/users">"Users"</a>
                {(r == imgflush::domain::InstanceRole::Owner).then(|| view! { <a href="/audit">"Audit"</a> })}
                {(r == imgflush::domain::InstanceRole::Owner).then(|| view! { <a href="/sso">"Single sign-on"</a> })}
            })}
            <form method="post" action="/logout" rel="external">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </div>
    }
}
