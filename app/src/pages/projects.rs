use leptos::prelude::*;

use crate::components::{flash, or_error, ErrorNotice, LocalTime};
use crate::model::ProjectSummaryView;
use crate::pages::instance_page;
use crate::serverfns::{projects_overview, CreateProject};

/// Every project at a glance; owners create new ones here.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    instance_page("Projects", || view! { <ProjectsBody /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn ProjectsBody() -> impl IntoView {
    crate::platform::island_ready();
    let create = ServerAction::<CreateProject>::new();
    let kept = flash("project_created");
    let projects = Resource::new(move || create.version().get(), |_| projects_overview());
    view! {
        <h1>"Projects"</h1>
        {move || create.value().get().map(|r| match r {
            Ok(token) => view! { <Created token=token /> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { kept.await.map(|token| view! { <Created token=token /> }) })}
        </Suspense>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(projects.await, |rows| view! { <ProjectTable rows=rows /> })
            })}
        </Transition>
        <section class="card">
            <h2>"New project"</h2>
            <ActionForm action=create>
                <label>"Token " <input name="token" required pattern="[a-z0-9][a-z0-9\\-]{1,31}" placeholder="shop" aria-describedby="token-help" /></label>
                <small id="token-help" class="muted">"2 to 32 lowercase letters, digits and dashes: the first label of the image host (shop.cdn.example)."</small>
                <label>"Name " <input name="name" required maxlength="100" placeholder="Shop images" /></label>
                <label>"Allowed origin hosts (one per line) " <textarea name="origin_hosts" rows="3" placeholder="img.shop.example"></textarea></label>
                <label>"max-age (s) " <input name="max_age_secs" inputmode="numeric" value="2592000" /></label>
                <label>"s-maxage (s) " <input name="s_maxage_secs" inputmode="numeric" value="31536000" /></label>
                <button type="submit" class="primary">"Create project"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Created(token: String) -> impl IntoView {
    view! {
        <p class="notice notice-ok" role="status" data-testid="project-created">
            "Project " <code>{token.clone()}</code> " created. "
            <a href=format!("/p/{token}/members")>"Add its members"</a>
        </p>
    }
}

#[component]
fn ProjectTable(rows: Vec<ProjectSummaryView>) -> impl IntoView {
    view! {
        <table class="projects" data-testid="projects">
            <thead><tr><th>"Project"</th><th>"Token"</th><th>"Origin hosts"</th><th>"Caching"</th><th>"Last invalidation"</th><th>"Invalidations"</th><th>"Errors"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|p| {
                    let href = format!("/p/{}/invalidation", p.token);
                    let token = p.token.clone();
                    view! {
                        <tr data-project=token>
                            <td><a href=href>{p.name}</a></td>
                            <td><code>{p.token}</code></td>
                            <td>{if p.origin_hosts.is_empty() { "any".to_owned() } else { p.origin_hosts.join(", ") }}</td>
                            <td>{format!("{} s / {} s", p.max_age_secs, p.s_maxage_secs)}</td>
                            <td>{match p.last_invalidation { Some(t) => view! { <LocalTime at=t /> }.into_any(), None => "none yet".into_any() }}</td>
                            <td>{p.invalidations}</td>
                            <td>{p.errors}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
