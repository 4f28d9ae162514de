use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use imgflush::domain::InvalidationId;

use crate::components::{or_error, Layout, LocalTime, StatusBadge};
use crate::error::AppError;
use crate::model::{IdPrefixMatches, UrlLookupView};
use crate::serverfns::{locate_invalidation, lookup_id_prefix, lookup_url};

/// The header's lookup box lands here (`/lookup?q=…`, a plain GET form).
/// An Invalidation ID (or text holding one) redirects to its details page,
/// in whichever project holds it; an image URL as a customer pasted it
/// shows the project and origin path it maps to, the invalidations that
/// covered it and, with *Check now* (`&check=1`), what every edge and
/// Varnish node holds. Otherwise the same "not found" as an unknown ID.
#[component]
pub fn LookupPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let check = move || query.read().get("check").is_some_and(|c| c == "1");
    let by_id = move || InvalidationId::find_in(&q()).is_some();
    let by_prefix = move || !by_id() && InvalidationId::prefix_range(&q()).is_some();
    let found = Resource::new(q, locate_invalidation);
    let prefixed = Resource::new(q, lookup_id_prefix);
    let url = Resource::new(move || (q(), check()), |(q, check)| lookup_url(q, check));
    view! {
        <Title text="Lookup" />
        <Layout token="">
            <Suspense fallback=|| view! { <p>"Looking it up…"</p> }>
                {move || if by_id() {
                    Suspend::new(async move {
                        match found.await {
                            Err(AppError::NotFound) => view! { <IdNotFound q=q() /> }.into_any(),
                            other => or_error(other, |path| view! {
                                <p>"Found: " <a href=path.clone()>{path.clone()}</a></p>
                                <Redirect path=path />
                            }),
                        }
                    }).into_any()
                } else if by_prefix() {
                    Suspend::new(async move {
                        let q = q();
                        or_error(prefixed.await, move |m| view! { <PrefixMatches m=m q=q /> })
                    }).into_any()
                } else {
                    Suspend::new(async move {
                        let q = q();
                        or_error(url.await, move |v| view! { <UrlLookup v=v q=q /> })
                    }).into_any()
                }}
            </Suspense>
        </Layout>
    }
}

/// An Invalidation ID no project the user can open holds: the ID said back.
#[component]
fn IdNotFound(q: String) -> impl IntoView {
    crate::platform::set_response_status(404);
    let id = InvalidationId::find_in(&q).map(|id| id.to_string()).unwrap_or(q);
    view! {
        <h1>"Not found"</h1>
        <p data-testid="id-none">"No invalidation you can open has the ID " <code>{id}</code> "."</p>
        <p class="muted">"Check the ID with whoever sent it, or search its project's Invalidation log."</p>
    }
}

/// The start of an Invalidation ID: one match opens it, several are listed,
/// none says so with the query as typed.
#[component]
fn PrefixMatches(m: IdPrefixMatches, q: String) -> impl IntoView {
    if let [only] = m.rows.as_slice() {
        let path = format!("/p/{}/invalidation/{}", only.token, only.id);
        return view! {
            <p>"Found: " <a href=path.clone()>{path.clone()}</a></p>
            <Redirect path=path />
        }
        .into_any();
    }
    if m.rows.is_empty() {
        let whose = if m.sees_all { "No invalidation" } else { "No invalidation in your projects" };
        crate::platform::set_response_status(404);
        return view! {
            <h1>"Not found"</h1>
            <p data-testid="prefix-none">{whose} " has an ID starting with " <code>{q.trim().to_owned()}</code> "."</p>
        }
        .into_any();
    }
    let n = m.rows.len();
    view! {
        <h1>"Invalidation IDs starting with " <code>{q.trim().to_owned()}</code></h1>
        <p class="muted">{format!("{n} matches, newest first; type more of the ID to narrow them down.")}</p>
        <ul class="prefix-matches" data-testid="prefix-matches">
            {m.rows.into_iter().map(|r| {
                let href = format!("/p/{}/invalidation/{}", r.token, r.id);
                let what = match r.paths.as_slice() {
                    [] => String::new(),
                    [one] => one.clone(),
                    [first, rest @ ..] => format!("{first} and {} more", rest.len()),
                };
                view! {
                    <li data-id=r.id.clone()>
                        <a href=href><code>{r.id.clone()}</code></a> " "
                        <StatusBadge status=r.status /> " " <code>{r.token}</code> " · " <LocalTime at=r.created />
                        " " <span class="muted">{what}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "Is this URL fresh?" for support staff.
#[component]
fn UrlLookup(v: UrlLookupView, q: String) -> impl IntoView {
    let variant = v.query.clone().map_or("the original (no query)".to_owned(), |q| format!("?{q}"));
    let log = format!("/p/{}/invalidation", v.token);
    let checked = v.probes.is_some();
    view! {
        <h1>"Is this URL fresh?"</h1>
        <dl class="summary" data-testid="url-lookup">
            <dt>"URL"</dt><dd><code>{q.clone()}</code></dd>
            <dt>"Project"</dt><dd><a href=log.clone()><code>{v.token.clone()}</code></a></dd>
            <dt>"Origin path"</dt><dd><code data-testid="origin-path">{v.origin.clone()}</code></dd>
            <dt>"Variant"</dt><dd><code>{variant}</code></dd>
            <dt>"Last completed purge of it"</dt><dd data-testid="last-done">{match v.last_done {
                Some(at) => view! { <LocalTime at=at /> }.into_any(),
                None => "none".into_any(),
            }}</dd>
        </dl>
        <form method="get" action="/lookup" class="inline">
            <input type="hidden" name="q" value=q />
            <input type="hidden" name="check" value="1" />
            <button type="submit" class="primary" data-testid="check-now">{if checked { "Check again" } else { "Check now" }}</button>
            <span class="muted">" asks every edge and Varnish node whether it holds this variant, from its cache only (nothing is fetched or filled)"</span>
        </form>
        {v.probes.map(|probes| view! {
            <h2>"What the caches hold"</h2>
            <ul class="probes" data-testid="probes">
                {probes.into_iter().map(|p| {
                    let warn = p.older_than_purge;
                    let name = p.name.clone();
                    view! {
                        <li data-target=name class:warning=warn>
                            <strong>{p.name}</strong> " (" {p.kind.label()} "): " {p.text}
                            {warn.then_some(" — older than the last completed purge: this copy should not be there; invalidate it again or check the node")}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        <h2>"Invalidations that covered it"</h2>
        {if v.rows.is_empty() {
            view! { <p data-testid="no-covering">"None: no invalidation of this project named this path, a prefix of it, one of its tags, or everything."</p> }.into_any()
        } else {
            view! {
                <table class="log" data-testid="covering">
                    <thead><tr><th>"Status"</th><th>"Scope"</th><th>"Date"</th><th>"Invalidation ID"</th><th>"Paths or tags"</th></tr></thead>
                    <tbody>
                        {v.rows.into_iter().map(|r| {
                            let href = format!("{log}/{}", r.id);
                            view! {
                                <tr data-id=r.id.clone()>
                                    <td><StatusBadge status=r.status /></td>
                                    <td>{r.scope.label()}</td>
                                    <td><LocalTime at=r.created /></td>
                                    <td><a href=href><code>{r.id.clone()}</code></a></td>
                                    <td>{if r.paths.is_empty() { "everything".to_owned() } else { r.paths.join(", ") }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
