use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use imgflush::domain::preview::{bytes_text, thousands, Count, Preview};
use imgflush::domain::tag::{split_tags, validate_tags, CONSOLE_MAX_TAGS};
use imgflush::domain::{parse_path_list, Scope, CONSOLE_MAX_PATHS};

use crate::components::{ErrorNotice, SessionEnded};
use crate::error::AppError;
use crate::serverfns::{typed_form_path, PreviewInvalidation, SubmitInvalidation};

use super::hosts::foreign_hosts;

/// Scope, URLs or tags with live validation (the same parsers the server
/// uses), Preview and Submit. Without JavaScript the server's answer is
/// shown after the round trip (Preview needs JavaScript).
#[component]
pub fn InvalidationForm(
    token: Signal<String>,
    submit: ServerAction<SubmitInvalidation>,
    /// "Copy to new": the scope and paths (or tags) to start with.
    initial: Option<(Scope, Vec<String>)>,
    /// The project's large-purge thresholds (objects, MB), when it has some.
    confirm_above: Option<(Option<u64>, Option<u64>)>,
    /// The project's origin hosts: a path under another host is never cached.
    origin_hosts: Vec<String>,
) -> impl IntoView {
    let (initial_scope, initial_text) = match initial {
        Some((scope, items)) => (scope, items.join("\n")),
        None => (Scope::Original, String::new()),
    };
    let (initial_paths, initial_tags) = match initial_scope {
        Scope::Tag => (String::new(), initial_text),
        _ => (initial_text, String::new()),
    };
    let text = RwSignal::new(initial_paths.clone());
    let tags_text = RwSignal::new(initial_tags.clone());
    let scope = RwSignal::new(initial_scope);
    let confirmed = RwSignal::new(false);
    let large_ok = RwSignal::new(false);
    let when = RwSignal::new(String::new());
    // Hydrated: the offset of the user's time zone on the chosen date;
    // without JavaScript the field is read as UTC (the label says so).
    let offset = Memo::new(move |_| when.with(|w| crate::platform::timezone_offset_at(w)));
    let preview = ServerAction::<PreviewInvalidation>::new();
    // Until hydrated the button stays enabled, so the form works without JavaScript.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let parsed = Memo::new(move |_| parse_path_list(&text.get()));
    let tags = Memo::new(move |_| validate_tags(&split_tags(&tags_text.get()), CONSOLE_MAX_TAGS, "tags"));
    let count = move || parsed.with(|p| p.paths.len());
    let over = move || count() > CONSOLE_MAX_PATHS;
    let blocked = move || match scope.get() {
        Scope::All => !confirmed.get(),
        Scope::Tag => tags.with(Result::is_err),
        Scope::Original => parsed.with(|p| !p.errors.is_empty() || p.paths.is_empty()) || over(),
    };
    let result = submit.value();
    Effect::new(move |_| {
        if let Some(Ok(_)) = result.get() {
            text.set(String::new());
            tags_text.set(String::new());
            when.set(String::new());
            confirmed.set(false);
            large_ok.set(false);
            preview.value().set(None);
        }
    });
    // A preview describes the form as it was: any edit makes it stale.
    Effect::new(move |_| {
        text.track();
        tags_text.track();
        scope.track();
        preview.value().set(None);
    });
    let radio = move |value: Scope, id: &'static str, label: &'static str| {
        view! {
            <label>
                <input type="radio" name="scope" value=value.as_str() id=id checked=initial_scope == value
                    on:change=move |_| scope.set(value) />
                {label}
            </label>
        }
    };
    view! {
        <section class="card" aria-labelledby="new-invalidation">
            <h2 id="new-invalidation">"New invalidation"</h2>
            // A plain form (it posts to the server function without JavaScript);
            // hydrated, it dispatches from the signals. `ActionForm` would parse
            // the form data with serde_qs, which the first load would then carry.
            <form method="post" action=SubmitInvalidation::url() on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                submit.dispatch(SubmitInvalidation {
                    project: token.get_untracked(),
                    scope: scope.get_untracked().as_str().to_owned(),
                    urls: Some(text.get_untracked()),
                    tags: Some(tags_text.get_untracked()),
                    confirm_all: confirmed.get_untracked().then(|| "yes".to_owned()),
                    confirm_large: large_ok.get_untracked().then(|| "yes".to_owned()),
                    not_before: Some(when.get_untracked()),
                    tz_offset: offset.get_untracked().map(|o| o.to_string()),
                });
            }>
                <input type="hidden" name="project" value=token />
                <fieldset class="scope">
                    <legend>"Scope"</legend>
                    {radio(Scope::Original, "scope-original", " Original — specific images")}
                    {radio(Scope::Tag, "scope-tag", " Tag — every image carrying a cache tag")}
                    {radio(Scope::All, "scope-all", " All — the whole cache of the token")}
                </fieldset>
                <div class="original-only">
                    <label for="urls">"URLs (up to 10, separated by commas or line breaks)"</label>
                    <textarea id="urls" name="urls" rows="6" spellcheck="false"
                        placeholder="/sample.li/flat1.jpg"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))>{initial_paths}</textarea>
                    <p class="counter" class:over=over data-testid="counter" aria-live="polite">
                        {move || format!("{} / {}", count(), CONSOLE_MAX_PATHS)}
                        {move || over().then_some(" — too many: submit at most 10 per invalidation")}
                        {move || {
                            let blank = text.with(|t| t.lines().filter(|l| l.trim().is_empty()).count());
                            parsed.with(|p| not_counted(p.duplicates, blank))
                        }}
                    </p>
                    <ul class="field-errors" aria-live="polite" data-testid="live-errors">
                        {move || parsed.with(|p| p.errors.iter().map(|e| {
                            let fix = e.suggestion.clone().map(|s| (e.entry.clone(), s));
                            view! {
                                <li>
                                    <code>{e.entry.clone()}</code> ": " {e.message()}
                                    {fix.map(|(entry, s)| {
                                        let label = format!("Use {s}");
                                        let with = s.clone();
                                        view! {
                                            " Try " <code class="suggestion">{s}</code> " "
                                            <button type="button" class="fix" data-testid="use-suggestion"
                                                on:click=move |_| text.update(|t| *t = t.replacen(&entry, &with, 1))>
                                                {label}
                                            </button>
                                        }
                                    })}
                                </li>
                            }
                        }).collect_view())}
                    </ul>
                    {move || {
                        // Pasted full image URLs (a CDN host, a query): shorten them all at once.
                        let fixes: Vec<(String, String)> = parsed.with(|p| p.errors.iter()
                            .filter_map(|e| e.suggestion.clone().map(|s| (e.entry.clone(), s))).collect());
                        (fixes.len() > 1).then(|| {
                            let label = format!("Shorten all {} URLs to their paths", fixes.len());
                            view! {
                                <button type="button" data-testid="shorten-all"
                                    on:click=move |_| text.update(|t| for (entry, with) in &fixes {
                                        *t = t.replacen(entry.as_str(), with, 1);
                                    })>
                                    {label}
                                </button>
                            }
                        })
                    }}
                    {move || parsed.with(|p| {
                        let foreign = foreign_hosts(p.paths.iter().map(|p| p.as_str()), &origin_hosts);
                        (!foreign.is_empty()).then(|| {
                            let hosts = origin_hosts.join(", ");
                            let settings = format!("/p/{}/settings", token.get_untracked());
                            view! {
                                <p class="warning" data-testid="host-warning">
                                    {format!(
                                        "{} {} not among this project's origin hosts ({hosts}): the edge never fetches or caches \
                                         images from {}, so there is nothing to flush. Check the path, or add the host in ",
                                        foreign.join(", "),
                                        if foreign.len() == 1 { "is" } else { "are" },
                                        if foreign.len() == 1 { "it" } else { "them" },
                                    )}
                                    <a href=settings>"Settings"</a> "."
                                </p>
                            }
                        })
                    })}
                    {move || parsed.with(|p| {
                        let prefixes: Vec<String> = p.paths.iter().map(|p| p.as_str()).filter(|p| p.ends_with("/*"))
                            .map(|p| p.trim_end_matches('*').to_owned()).collect();
                        (!prefixes.is_empty()).then(|| view! {
                            <p class="muted" data-testid="prefix-note">
                                {match prefixes.len() {
                                    1 => "A path ending in /* empties a whole prefix: every image under ".to_owned(),
                                    _ => "Paths ending in /* empty whole prefixes: every image under ".to_owned(),
                                }}
                                {prefixes.join(", ")}
                                "."
                            </p>
                        })
                    })}
                </div>
                <div class="tag-only">
                    <label for="tags">"Cache tags (up to 10, separated by spaces, commas or line breaks)"</label>
                    <textarea id="tags" name="tags" rows="3" spellcheck="false"
                        placeholder="products"
                        prop:value=move || tags_text.get()
                        on:input=move |ev| tags_text.set(event_target_value(&ev))>{initial_tags}</textarea>
                    <p class="muted">"Every image the origin labelled with one of these tags (its Surrogate-Key, Cache-Tag or xkey header, as Settings names them) or a tag rule gave its path, on the edges, the Varnish nodes and every CDN."</p>
                    <ul class="field-errors" aria-live="polite" data-testid="tag-errors">
                        {move || tags.with(|t| match t {
                            Ok(_) => Vec::new(),
                            Err(errors) => errors.iter().filter(|_| !tags_text.with(|s| s.trim().is_empty()))
                                .map(|e| view! { <li>{e.entry.clone().map(|en| view! { <code>{en}</code> ": " })}{e.message.clone()}</li> })
                                .collect(),
                        }).collect_view()}
                    </ul>
                </div>
                <div class="all-only">
                    <p class="warning">
                        "All erases every cached image of token " <code>{move || token.get()}</code>
                        " on the resizing servers and on every CDN node. The whole cache must then be rebuilt, "
                        "so the first requests for every image will be slower."
                    </p>
                    <label>
                        <input type="checkbox" name="confirm_all" value="yes"
                            prop:checked=move || confirmed.get()
                            on:change=move |ev| confirmed.set(event_target_checked(&ev)) />
                        " I understand: flush the whole cache of this token and rebuild it"
                    </label>
                </div>
                {confirm_above.map(|limits| view! {
                    <label class="confirm-large">
                        <input type="checkbox" name="confirm_large" value="yes" data-testid="confirm-large"
                            prop:checked=move || large_ok.get()
                            on:change=move |ev| large_ok.set(event_target_checked(&ev)) />
                        {format!(" Go ahead even above this project's large-purge limit ({})", limits_text(limits))}
                    </label>
                })}
                <label class="schedule">
                    {move || if hydrated.get() { "Run at (optional, your time zone) " } else { "Run at (optional, UTC) " }}
                    <input type="datetime-local" name="not_before" data-testid="not-before"
                        prop:value=move || when.get()
                        on:input=move |ev| when.set(event_target_value(&ev)) />
                </label>
                <input type="hidden" name="tz_offset" prop:value=move || offset.get().map(|o| o.to_string()).unwrap_or_default() />
                <div class="buttons">
                    <button type="button" data-testid="preview" hidden=move || !hydrated.get()
                        disabled=move || blocked() && scope.get() != Scope::All
                        on:click=move |_| {
                            preview.dispatch(PreviewInvalidation {
                                project: token.get_untracked(),
                                scope: scope.get_untracked().as_str().to_owned(),
                                urls: Some(text.get_untracked()),
                                tags: Some(tags_text.get_untracked()),
                            });
                        }>
                        {move || if preview.pending().get() { "Counting…" } else { "Preview" }}
                    </button>
                    <button type="submit" class="primary" disabled=move || hydrated.get() && blocked()>
                        {move || if submit.pending().get() { "Submitting…" } else { "Submit" }}
                    </button>
                </div>
            </form>
            {move || preview.value().get().map(|r| match r {
                Ok(p) => view! { <PreviewTable preview=p /> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            {move || result.get().and_then(Result::err).map(|e| match e {
                // Signed out meanwhile: sign in again, then back here with the text kept.
                AppError::Unauthorized => {
                    let typed = if scope.get_untracked() == Scope::Tag { tags_text.get_untracked() } else { text.get_untracked() };
                    let next = typed_form_path(&token.get_untracked(), scope.get_untracked(), &typed);
                    view! { <SessionEnded next kept=true /> }.into_any()
                }
                e => view! { <ErrorNotice error=e /> }.into_any(),
            })}
        </section>
    }
}

/// The dry run's answer: the total, then each target's figures.
#[component]
fn PreviewTable(preview: Preview) -> impl IntoView {
    let summary = preview.summary();
    view! {
        <div class="preview" data-testid="preview-result" aria-live="polite">
            <p><strong>"Preview: "</strong>{summary}" (nothing was purged)"</p>
            <ul>
                {preview.targets.into_iter().map(|t| {
                    let line = match t.count {
                        Count::Counted { objects, bytes } => format!("would remove {} objects ({}) on {}", thousands(objects), bytes_text(bytes), t.name),
                        Count::NotCountable => format!("{}: not countable ({} cannot say what it holds)", t.name, t.kind.label()),
                        Count::Failed { reason } => format!("{}: no answer ({reason})", t.name),
                    };
                    view! { <li data-target=t.name.clone()>{line}</li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// What the counter leaves out, e.g. " (1 duplicate, 2 empty lines ignored)".
fn not_counted(duplicates: usize, blank_lines: usize) -> Option<String> {
    let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    let mut parts = Vec::new();
    if duplicates > 0 {
        parts.push(plural(duplicates, "duplicate"));
    }
    if blank_lines > 0 {
        parts.push(plural(blank_lines, "empty line"));
    }
    (!parts.is_empty()).then(|| format!(" ({} ignored)", parts.join(", ")))
}

fn limits_text((objects, mb): (Option<u64>, Option<u64>)) -> String {
    match (objects, mb) {
        (Some(o), Some(m)) => format!("{} objects or {m} MB", thousands(o)),
        (Some(o), None) => format!("{} objects", thousands(o)),
        (None, Some(m)) => format!("{m} MB"),
        (None, None) => "none".to_owned(),
    }
}
