use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{or_error, query_parts, Layout, LocalTime};
use crate::model::AuditPage;
use crate::pages::token_param;
use crate::serverfns::{instance_audit, project_audit};

/// The query's `action`, `actor` and `before`, empty ones dropped: read on
/// the server, handed to the island.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AuditFilter {
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
}

fn filters() -> AuditFilter {
    let query = use_query_map();
    let q = query.read_untracked();
    let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
    AuditFilter { action: get("action"), actor: get("actor"), before: get("before") }
}

/// Who changed what in one project (admins, staff, owners).
#[component]
pub fn ProjectAuditPage() -> impl IntoView {
    let token = token_param();
    let f = filters();
    view! {
        <Title text="Audit trail" />
        <Layout token=token>
            <h1>"Audit trail"</h1>
            <AuditFilters f=f.clone() />
            <AuditBody token=Some(token.get_untracked()) f=f />
        </Layout>
    }
}

/// Every project's trail and the instance's own events, sign-ins included (owners).
#[component]
pub fn InstanceAuditPage() -> impl IntoView {
    let f = filters();
    view! {
        <Title text="Instance audit trail" />
        <Layout token="">
            <h1>"Instance audit trail"</h1>
            <AuditFilters f=f.clone() />
            <AuditBody token=None f=f />
        </Layout>
    }
}

/// The trail (its times in the browser's zone): an island, its code a lazily
/// loaded chunk. A project's with `token`, else the instance's.
#[island(lazy)]
fn AuditBody(token: Option<String>, f: AuditFilter) -> impl IntoView {
    crate::platform::island_ready();
    let shown = f.clone();
    let page = Resource::new(
        || (),
        move |_| {
            let (token, f) = (token.clone(), f.clone());
            async move {
                match token {
                    Some(t) => project_audit(t, f.action, f.actor, f.before).await,
                    None => instance_audit(f.action, f.actor, f.before).await,
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let f = shown.clone();
                Suspend::new(async move { or_error(page.await, move |p| view! { <AuditTable page=p f=f /> }) })
            }}
        </Transition>
    }
}

/// A plain GET form: filtering loads the page anew.
#[component]
fn AuditFilters(f: AuditFilter) -> impl IntoView {
    view! {
        <form method="GET" action="" class="filters">
            <label>"Action " <input name="action" maxlength="64" placeholder="member.added" value=f.action /></label>
            <label>"Who " <input name="actor" maxlength="254" placeholder="ann@example.com" value=f.actor /></label>
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
fn AuditTable(page: AuditPage, f: AuditFilter) -> impl IntoView {
    let older = page.next.map(|next| {
        let mut parts = query_parts(&[("action", f.action.as_deref()), ("actor", f.actor.as_deref())]);
        parts.push(format!("before={next}"));
        format!("?{}", parts.join("&"))
    });
    if page.rows.is_empty() {
        return view! { <p data-testid="audit-empty">"Nothing recorded for these filters."</p> }.into_any();
    }
    view! {
        <table class="audit" data-testid="audit">
            <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"What changed"</th><th>"Project"</th><th>"Address"</th><th>"User agent"</th></tr></thead>
            <tbody>
                {page.rows.into_iter().map(|r| { let action = r.action.clone(); view! {
                    <tr data-action=action>
                        <td><LocalTime at=r.at /></td>
                        <td>{r.actor}</td>
                        <td><code>{r.action}</code></td>
                        <td>{r.detail}</td>
                        <td>{r.project.unwrap_or_default()}</td>
                        <td>{r.ip.unwrap_or_default()}</td>
                        <td class="muted">{r.user_agent.unwrap_or_default()}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        {older.map(|href| view! { <p><a href=href>"Older entries"</a></p> })}
    }.into_any()
}
