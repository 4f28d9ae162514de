use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{or_error, Layout};
use crate::serverfns::get_me;

/// Lists the user's projects (the server redirects `/` to the first one on
/// a full load); an account in no project is told so, and what to do.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <Title text="Projects" />
        <Layout token="">
            <h1>"Your projects"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(me.await, |me| {
                        if me.projects.is_empty() {
                            let text = if me.instance_role.is_some() {
                                "There are no projects yet. Create the first one under “All projects”."
                            } else {
                                "Your account is not a member of any project yet, or no longer is. Ask a project's \
                                 admin to add you: they send you an invitation link, which you accept with this \
                                 account's password."
                            };
                            return view! { <p class="notice" data-testid="no-projects">{text}</p> }.into_any();
                        }
                        view! {
                            <ul class="projects">
                                {me.projects.into_iter().map(|p| {
                                    let href = format!("/p/{}/invalidation", p.token);
                                    view! { <li><a href=href>{p.name}</a> " " <code>{p.token}</code> " · " {p.role.label()}</li> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    })
                })}
            </Suspense>
        </Layout>
    }
}
