use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use imgflush::domain::url::query_value;

use crate::components::{or_error, Layout, LocalTime};
use crate::model::AuditPage;
use crate::pages::token_param;
use crate::serverfns::{instance_audit, project_audit};

/// The query's `action`, `actor` and `before`, empty ones dropped.
fn filters() -> impl Fn() -> (Option<String>, Option<String>, Option<String>) + Copy + Send + Sync {
    let query = use_query_map();
    move || {
        let q = query.read();
        let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        (get("action"), get("actor"), get("before"))
    }
}

/// Who changed what in one project (admins, staff, owners).
#[component]
pub fn ProjectAuditPage() -> impl IntoView {
    let token = token_param();
    let f = filters();
    let page = Resource::new(
        move || (token.get(), f()),
        |(t, (action, actor, before))| project_audit(t, action, actor, before),
    );
    view! {
        <Title text="Audit trail" />
        <Layout token=token>
            <h1>"Audit trail"</h1>
            <AuditFilters />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move { or_error(page.await, |p| view! { <AuditTable page=p /> }) })}
            </Transition>
        </Layout>
    }
}

/// Every project's trail and the instance's own events, sign-ins included (owners).
#[component]
pub fn InstanceAuditPage() -> impl IntoView {
    let f = filters();
    let page = Resource::new(f, |(action, actor, before)| instance_audit(action, actor, before));
    view! {
        <Title text="Instance audit trail" />
        <Layout token="">
            <h1>"Instance audit trail"</h1>
            <AuditFilters />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move { or_error(page.await, |p| view! { <AuditTable page=p /> }) })}
            </Transition>
        </Layout>
    }
}

#[component]
fn AuditFilters() -> impl IntoView {
    let query = use_query_map();
    let value = move |k: &str| query.read().get(k).unwrap_or_default();
    view! {
        <Form method="GET" action="" attr:class="filters">
            <label>"Action " <input name="action" maxlength="64" placeholder="member.added" prop:value=move || value("action") /></label>
            <label>"Who " <input name="actor" maxlength="254" placeholder="ann@example.com" prop:value=move || value("actor") /></label>
            <button type="submit">"Filter"</button>
        </Form>
    }
}

#[component]
fn AuditTable(page: AuditPage) -> impl IntoView {
    let query = use_query_map();
    let older = page.next.map(|next| {
        let q = query.read_untracked();
        let mut parts: Vec<String> = ["action", "actor"]
            .into_iter()
            .filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| format!("{k}={}", query_value(&v))))
            .collect();
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
