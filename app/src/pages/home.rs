use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::or_error;
use crate::serverfns::get_me;

/// Lists the user's projects (the server redirects `/` to the first one on a full load).
#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <Title text="Projects" />
        <main class="page">
            <h1>"Your projects"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(me.await, |me| view! {
                        <ul class="projects">
                            {me.projects.into_iter().map(|p| {
                                let href = format!("/p/{}/invalidation", p.token);
                                view! { <li><a href=href>{p.name}</a> " " <code>{p.token}</code> " · " {p.role.label()}</li> }
                            }).collect_view()}
                        </ul>
                    })
                })}
            </Suspense>
        </main>
    }
}
