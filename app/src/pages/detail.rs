use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{or_error, CopyButton, ErrorNotice, Layout, LocalTime, RetryAnswer, StatusBadge};
use crate::model::{DetailView, Timestamp};
use crate::pages::token_param;
use crate::serverfns::{invalidation_detail, CancelInvalidation, DecideApproval, RetryInvalidation};
use crate::timestamp::utc_text;

/// One Invalidation ID: status history, per-target results, errors.
#[component]
pub fn DetailPage() -> impl IntoView {
    let token = token_param();
    let params = use_params_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    // Not an Invalidation ID at all: nothing to look for.
    if imgflush::domain::InvalidationId::parse(&id).is_err() {
        return view! { <crate::components::NotFoundPage /> }.into_any();
    }
    // `?support`: "Copy for support" followed as a link (no JavaScript, or
    // no clipboard): the summary is shown open, ready to select.
    let show_support = use_query_map().read_untracked().get("support").is_some();
    view! {
        <Title text="Invalidation details" />
        <Layout token=token>
            <DetailBody token=token.get_untracked() id=id show_support=show_support />
        </Layout>
    }
    .into_any()
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn DetailBody(token: String, id: String, show_support: bool) -> impl IntoView {
    let token = Signal::stored(token);
    let id = Signal::stored(id);
    crate::platform::island_ready();
    let retry = ServerAction::<RetryInvalidation>::new();
    let cancel = ServerAction::<CancelInvalidation>::new();
    let decide = ServerAction::<DecideApproval>::new();
    let refresh = RwSignal::new(0u32);

    let detail = Resource::new(
        move || {
            (
                token.get(),
                id.get(),
                refresh.get(),
                retry.version().get(),
                cancel.version().get(),
                decide.version().get(),
            )
        },
        |(token, id, ..)| invalidation_detail(token, id),
    );
    // Live: this invalidation's status changes reload the details in place
    // (once they loaded: not for a project the user may not see).
    let visible = Memo::new(move |was: Option<&bool>| {
        detail.get().map(|r| r.is_ok()).unwrap_or_else(|| was.copied().unwrap_or(false))
    });
    Effect::new(move |_| {
        if visible.get() {
            let (url, id) = (format!("/p/{}/live", token.get()), id.get());
            crate::platform::watch_changes(&url, move |data| {
                if data.contains(&id) {
                    refresh.update(|n| *n += 1);
                }
            });
        }
    });
    view! {
        <p><a href=move || format!("/p/{}/invalidation", token.get())>"← Invalidation log"</a></p>
        <form method="get" on:submit=move |ev| {
            ev.prevent_default();
            refresh.update(|n| *n += 1);
        }>
            <button type="submit" class="refresh">"Refresh"</button>
        </form>
        {move || retry.value().get().map(|answer| view! { <RetryAnswer answer=answer /> })}
        <crate::components::KeptRetryAnswer />
        {move || cancel.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || decide.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(detail.await, move |d| view! { <Detail d=d token=token retry=retry cancel=cancel decide=decide show_support=show_support /> })
            })}
        </Transition>
    }
}

#[component]
fn Detail(
    d: DetailView,
    token: Signal<String>,
    retry: ServerAction<RetryInvalidation>,
    cancel: ServerAction<CancelInvalidation>,
    decide: ServerAction<DecideApproval>,
    show_support: bool,
) -> impl IntoView {
    let row = d.row.clone();
    let awaiting = row.status == imgflush::domain::Status::AwaitingApproval;
    let can_decide = awaiting && d.role.can_manage();
    let (approve_id, reject_id) = (row.id.clone(), row.id.clone());
    let show_cancel = d.role.can_submit() && row.status.allows_cancel();
    let cancel_id = row.id.clone();
    let copy_href = d.role.can_submit().then(|| format!("/p/{}/invalidation?copy={}", d.token, row.id));
    let permalink = d.permalink();
    // UTC from the server; the reader's own time zone once hydrated.
    let support = RwSignal::new(d.support_text(&utc_text));
    {
        let d = d.clone();
        Effect::new(move |_| {
            let local = |t: Timestamp| crate::platform::local_time(t.0 as f64).unwrap_or_else(|| utc_text(t));
            support.set(d.support_text(&local));
        });
    }
    let show_retry = d.role.can_retry() && row.status.allows_retry();
    let no_targets = d.targets.is_empty() && row.status.is_final();
    let settings = format!("/p/{}/settings", d.token);
    view! {
        <h1>"Invalidation " <code>{row.id.clone()}</code></h1>
        <dl class="summary">
            <dt>"Status"</dt><dd><StatusBadge status=row.status /></dd>
            <dt>"Scope"</dt><dd>{row.scope.label()}</dd>
            <dt>"Submitted"</dt><dd><LocalTime at=row.created /> " by " {row.submitted_by.clone()}</dd>
            <dt>"Attempt"</dt><dd data-testid="attempt">{row.attempt} " " <span class="muted">"(each Retry starts the next; a target's calls are counted below)"</span></dd>
            {row.not_before.map(|at| view! { <dt>"Scheduled for"</dt><dd data-testid="scheduled-for"><LocalTime at=at /></dd> })}
            {d.finished.map(|f| view! { <dt>"Finished"</dt><dd><LocalTime at=f /></dd> })}
            <dt>"Invalidation ID"</dt><dd><code>{row.id.clone()}</code> " " <CopyButton text=row.id.clone() label="Copy Invalidation ID" /></dd>
            <dt>"Permalink"</dt><dd><a href=permalink.clone() data-testid="permalink">{permalink.clone()}</a></dd>
        </dl>
        <p class="support-copy">
            <CopySupport text=support />
            " A summary for a support ticket: times in your time zone, every target, the next step."
        </p>
        <details class="support" id="support" open=show_support>
            <summary>"Show the summary"</summary>
            <pre id="support-text" data-testid="support-text" tabindex="0">{move || support.get()}</pre>
        </details>
        {d.error.clone().map(|e| view! { <p class="notice notice-error" role="alert" data-testid="detail-error">{e}</p> })}
        {show_retry.then(|| view! {
            <ActionForm action=retry>
                <input type="hidden" name="project" value=token />
                <input type="hidden" name="id" value=row.id.clone() />
                <button type="submit" class="retry">"Retry"</button>
            </ActionForm>
        })}
        {awaiting.then(|| view! {
            <p class="notice" data-testid="awaiting-approval">
                "Scope All waits for another admin of this project to approve it (the two-person rule); "
                "nothing is purged until then, and it is cancelled if nobody approves it in time."
            </p>
        })}
        {can_decide.then(|| view! {
            <div class="buttons">
                <ActionForm action=decide>
                    <input type="hidden" name="project" value=token />
                    <input type="hidden" name="id" value=approve_id.clone() />
                    <input type="hidden" name="decision" value="approve" />
                    <button type="submit" class="primary">"Approve"</button>
                </ActionForm>
                <ActionForm action=decide>
                    <input type="hidden" name="project" value=token />
                    <input type="hidden" name="id" value=reject_id.clone() />
                    <input type="hidden" name="decision" value="reject" />
                    <button type="submit" class="danger">"Reject"</button>
                </ActionForm>
            </div>
        })}
        {show_cancel.then(|| view! {
            <ActionForm action=cancel>
                <input type="hidden" name="project" value=token />
                <input type="hidden" name="id" value=cancel_id />
                <button type="submit" class="danger">"Cancel this invalidation"</button>
            </ActionForm>
        })}
        {copy_href.map(|href| view! { <p><a href=href data-testid="copy-to-new">"Copy to new"</a> " — a new invalidation with the same scope and paths"</p> })}
        <h2>{if row.scope == imgflush::domain::Scope::Tag { "Tags" } else { "Paths" }}</h2>
        {if row.scope == imgflush::domain::Scope::Tag {
            view! {
                <ul class="paths" data-testid="tags">{row.paths.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul>
                <p class="muted">"Every object carrying one of these tags: edges and Varnish nodes purge by the tag's key, as do Cloudflare, Fastly, Akamai and Bunny. CloudFront has no tag purge: it is sent the paths the edges reported for the tags (see its detail below)."</p>
            }.into_any()
        } else if row.paths.is_empty() {
            view! { <p>"Scope All: every cached object of the token."</p> }.into_any()
        } else {
            view! { <ul class="paths">{row.paths.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul> }.into_any()
        }}
        <h2>"Purge targets"</h2>
        {if no_targets {
            view! { <p class="notice" data-testid="no-targets">"No purge targets are configured for this project, so nothing was flushed. Add targets under " <a href=settings.clone()>"Settings"</a> "."</p> }.into_any()
        } else {
            view! {
                <table class="targets" data-testid="target-results">
                    <thead><tr><th>"Target"</th><th>"Kind"</th><th>"Result"</th><th><abbr title="Purge requests sent to this target for this invalidation, over all its attempts, automatic retries included">"Calls"</abbr></th><th>"Time taken"</th><th>"Last tried"</th><th>"Detail"</th><th>"Next step"</th></tr></thead>
                    <tbody>
                        {d.targets.into_iter().map(|t| { let name = t.name.clone(); let state = t.state.clone(); view! {
                            <tr data-target=name data-state=state>
                                <td>{t.name}</td>
                                <td>{t.kind.label()}</td>
                                <td><span class=format!("state state-{}", t.state)>{t.state.clone()}</span></td>
                                <td>{t.attempts}</td>
                                <td>{t.duration_ms.map(|ms| format!("{ms} ms"))}</td>
                                <td><LocalTime at=t.updated /></td>
                                <td>
                                    {t.detail}
                                    {t.verify_note.map(|n| {
                                        let class = match t.verified { Some(true) => "proof proof-ok", Some(false) => "proof proof-stale", None => "proof" };
                                        view! { <br /><span class=class data-testid="verified">{n}</span> }
                                    })}
                                </td>
                                <td class="next-step">{t.next_step.map(|step| view! { <NextStep step settings=settings.clone() /> })}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2>"Status history"</h2>
        <ol class="history" data-testid="history">
            {d.events.into_iter().map(|e| view! {
                <li data-status=e.status.code()>
                    <StatusBadge status=e.status /> " " <LocalTime at=e.at />
                    {(e.attempt > 1).then(|| format!(" · attempt {}", e.attempt))}
                    {e.note.map(|n| view! { " — " <span class="note">{n}</span> })}
                </li>
            }).collect_view()}
        </ol>
    }
}

/// "Copy for support": one click copies the summary. It is a link to this
/// page with the summary open, followed where nothing was copied (before
/// the page's script runs, without JavaScript): the text is then shown,
/// focused for selecting.
#[component]
fn CopySupport(text: RwSignal<String>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if crate::platform::copy_to_clipboard(&text.get_untracked()) {
            ev.prevent_default();
            copied.set(true);
        }
    };
    view! {
        <a href="?support=open#support-text" class="button copy-support" data-testid="copy-support" on:click=on_click>
            {move || if copied.get() { "Copied for support" } else { "Copy for support" }}
        </a>
    }
}

/// A next step; where it names the Settings page, that word links to it.
#[component]
fn NextStep(step: String, settings: String) -> impl IntoView {
    match step.split_once("Settings") {
        Some((before, after)) => {
            view! { {before.to_owned()} <a href=settings data-testid="next-step-settings">"Settings"</a> {after.to_owned()} }
                .into_any()
        }
        None => step.into_any(),
    }
}
