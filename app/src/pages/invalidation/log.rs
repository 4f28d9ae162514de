use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use imgflush::domain::Status;

use crate::components::{or_error, query_parts, CopyButton, KeptRetryAnswer, LocalTime, RetryAnswer, StatusBadge};
use crate::model::{LogPage, LogRow};
use crate::serverfns::{list_invalidations, RetryInvalidation, SubmitInvalidation};

/// The log's filters and page, from the address's query.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogFilter {
    pub status: Option<String>,
    pub q: Option<String>,
    /// The keyset cursor of a page deep in the log.
    pub before: Option<String>,
}

impl LogFilter {
    /// The filters a link to another page of the log keeps (`key=value`).
    fn kept(&self) -> Vec<String> {
        query_parts(&[("status", self.status.as_deref()), ("q", self.q.as_deref())])
    }
}

/// The Invalidation log: filters, Refresh, the table and keyset pages.
#[component]
pub fn InvalidationLog(
    token: Signal<String>,
    retry: ServerAction<RetryInvalidation>,
    submit: ServerAction<SubmitInvalidation>,
    filter: RwSignal<LogFilter>,
    /// The invalidation just submitted: its row is highlighted.
    created: Signal<Option<String>>,
) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    // Which rows' See links are open: kept across reloads of the table (a
    // live update re-renders it while someone reads the links).
    let open_links = RwSignal::new(std::collections::HashSet::<String>::new());
    let status = move || filter.read().status.clone();
    let q = move || filter.read().q.clone();
    let before = move || filter.read().before.clone();
    let log = Resource::new(
        move || (token.get(), filter.get(), refresh.get(), retry.version().get(), submit.version().get()),
        |(token, f, ..)| list_invalidations(token, f.status, f.q, f.before),
    );
    // Live: any status change in the project (or a new invalidation, from
    // the API too) reloads the log in place, as Refresh does; only once the
    // log loaded (not for a project the user may not see).
    let visible = Memo::new(move |was: Option<&bool>| {
        log.get().map(|r| r.is_ok()).unwrap_or_else(|| was.copied().unwrap_or(false))
    });
    Effect::new(move |_| {
        if visible.get() {
            let url = format!("/p/{}/live", token.get());
            crate::platform::watch_changes(&url, move |_| refresh.update(|n| *n += 1));
        }
    });
    view! {
        <section aria-labelledby="log-title">
            <div class="log-head">
                <h2 id="log-title">"Invalidation log"</h2>
                // A plain GET form: filtering loads the page anew. The action
                // names the page: "" would keep a `#created` fragment, and a
                // second submission to the same URL would then only scroll.
                <form method="GET" action=move || format!("/p/{}/invalidation", token.get())>
                    <label>
                        "Status "
                        <select name="status" prop:value=move || status().unwrap_or_default()>
                            <option value="">"Any"</option>
                            {Status::ALL.iter().map(|s| view! { <option value=s.code()>{s.label()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Invalidation ID, path or path prefix "
                        <input type="search" name="q" maxlength="512" placeholder="Invalidation ID, path or path prefix"
                            prop:value=move || q().unwrap_or_default() />
                    </label>
                    <button type="submit">"Filter"</button>
                </form>
                <form method="get" action=move || format!("/p/{}/invalidation", token.get()) on:submit=move |ev| {
                    ev.prevent_default();
                    refresh.update(|n| *n += 1);
                }>
                    {move || status().map(|v| view! { <input type="hidden" name="status" value=v /> })}
                    {move || q().map(|v| view! { <input type="hidden" name="q" value=v /> })}
                    {move || before().map(|v| view! { <input type="hidden" name="before" value=v /> })}
                    <button type="submit" class="refresh">"Refresh"</button>
                </form>
                <a class="export" rel="external" data-testid="export-csv" href=move || {
                    let mut href = format!("/p/{}/invalidations.csv", token.get());
                    let filters = filter.read().kept();
                    if !filters.is_empty() {
                        href = format!("{href}?{}", filters.join("&"));
                    }
                    href
                }>"Export CSV"</a>
            </div>
            {move || retry.value().get().map(|answer| view! { <RetryAnswer answer=answer /> })}
            <KeptRetryAnswer />
            <Transition fallback=|| view! { <p>"Loading the log…"</p> }>
                {move || Suspend::new(async move {
                    or_error(log.await, move |page| view! { <LogTable page=page token=token retry=retry open_links=open_links filter=filter.get_untracked() created=created /> })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LogTable(
    page: LogPage,
    token: Signal<String>,
    retry: ServerAction<RetryInvalidation>,
    open_links: RwSignal<std::collections::HashSet<String>>,
    filter: LogFilter,
    created: Signal<Option<String>>,
) -> impl IntoView {
    let can_retry = page.role.can_retry();
    let filtered = filter.status.is_some() || filter.q.is_some();
    let keep = |before: Option<&str>| {
        let mut parts = filter.kept();
        if let Some(b) = before {
            parts.push(format!("before={b}"));
        }
        format!("?{}", parts.join("&"))
    };
    let older = page.next.as_deref().map(|n| keep(Some(n)));
    let newest = filter.before.is_some().then(|| keep(None));
    if page.rows.is_empty() {
        let msg = if filtered { "No invalidation matches these filters." } else { "No invalidations yet." };
        return view! { <p class="empty" data-testid="log-empty">{msg}</p> }.into_any();
    }
    view! {
        <table class="log" data-testid="log">
            <thead>
                <tr>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Scope"</th>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Invalidation ID"</th>
                    <th scope="col">"Invalidation path"</th>
                    <th scope="col">"Submitted by"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {page.rows.into_iter().map(|row| view! { <Row row=row token=token retry=retry can_retry=can_retry open_links=open_links created=created /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Log pages">
            {newest.map(|href| view! { <a href=href>"← Newest"</a> })}
            {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn Row(
    row: LogRow,
    token: Signal<String>,
    retry: ServerAction<RetryInvalidation>,
    can_retry: bool,
    open_links: RwSignal<std::collections::HashSet<String>>,
    created: Signal<Option<String>>,
) -> impl IntoView {
    let mine = row.id.clone();
    let just_created = move || created.with(|c| c.as_deref() == Some(mine.as_str()));
    let detail = format!("/p/{}/invalidation/{}", token.get_untracked(), row.id);
    let n = row.paths.len();
    let show_retry = can_retry && row.status.allows_retry();
    let id = row.id.clone();
    let links_open = open_links.with_untracked(|open| open.contains(&row.id));
    let key = row.id.clone();
    let on_toggle = move |ev: leptos::ev::Event| {
        let open = event_target::<leptos::web_sys::Element>(&ev).has_attribute("open");
        open_links.update(|set| {
            if open {
                set.insert(key.clone());
            } else {
                set.remove(&key);
            }
        });
    };
    view! {
        <tr data-id=row.id.clone() data-status=row.status.code() class:just-created=just_created>
            <td><StatusBadge status=row.status />
                {(row.attempt > 1).then(|| view! { <div class="attempt muted" data-testid="attempt">{format!("attempt {}", row.attempt)}</div> })}
                {row.why.clone().map(|why| view! { <div class="why" data-testid="why">{why}</div> })}
                {row.not_before.filter(|_| row.status == imgflush::domain::Status::Received).map(|at| view! {
                    <div class="scheduled" data-testid="scheduled">"scheduled for " <LocalTime at=at /></div>
                })}
            </td>
            <td data-label="Scope">{row.scope.label()}</td>
            <td data-label="Date"><LocalTime at=row.created /></td>
            <td class="id" data-label="ID">
                <a href=detail><code>{row.id.clone()}</code></a>
                " "
                <CopyButton text=row.id.clone() label="Copy Invalidation ID" />
            </td>
            <td>
                {if n == 0 {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else if n == 1 {
                    // One path (or tag): shown as it is, nothing to open.
                    view! { <code class="one-path" data-testid="one-path">{row.paths[0].clone()}</code> }.into_any()
                } else {
                    view! {
                        <details class="links" open=links_open on:toggle=on_toggle>
                            <summary>{if row.scope == imgflush::domain::Scope::Tag { format!("See tags ({n})") } else { format!("See links ({n})") }}</summary>
                            <ul>{row.paths.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul>
                        </details>
                    }.into_any()
                }}
            </td>
            <td class="who" data-label="By">{row.submitted_by}</td>
            <td>
                {show_retry.then(|| view! {
                    <form method="post" action=RetryInvalidation::url() on:submit={
                        let id = id.clone();
                        move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            retry.dispatch(RetryInvalidation { project: token.get_untracked(), id: id.clone() });
                        }
                    }>
                        <input type="hidden" name="project" value=token />
                        <input type="hidden" name="id" value=id.clone() />
                        <button type="submit" class="retry">"Retry"</button>
                    </form>
                })}
            </td>
        </tr>
    }
}
