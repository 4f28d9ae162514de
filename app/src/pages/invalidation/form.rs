use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use imgflush::domain::{parse_path_list, Scope, CONSOLE_MAX_PATHS};

use crate::components::ErrorNotice;
use crate::serverfns::SubmitInvalidation;

/// Scope, URLs with live validation (the same parser the server uses), Submit.
/// Without JavaScript the server's answer is shown after the round trip.
#[component]
pub fn InvalidationForm(
    token: Signal<String>,
    submit: ServerAction<SubmitInvalidation>,
    /// "Copy to new": the scope and paths to start with.
    initial: Option<(Scope, Vec<String>)>,
) -> impl IntoView {
    let (initial_all, initial_text) = match initial {
        Some((scope, paths)) => (scope == Scope::All, paths.join("\n")),
        None => (false, String::new()),
    };
    let text = RwSignal::new(initial_text.clone());
    let all = RwSignal::new(initial_all);
    let confirmed = RwSignal::new(false);
    // Until hydrated the button stays enabled, so the form works without JavaScript.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let parsed = Memo::new(move |_| parse_path_list(&text.get()));
    let count = move || parsed.with(|p| p.paths.len());
    let over = move || count() > CONSOLE_MAX_PATHS;
    let blocked = move || {
        if all.get() {
            !confirmed.get()
        } else {
            parsed.with(|p| !p.errors.is_empty() || p.paths.is_empty()) || over()
        }
    };
    let result = submit.value();
    Effect::new(move |_| {
        if let Some(Ok(_)) = result.get() {
            text.set(String::new());
            confirmed.set(false);
        }
    });
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
                    scope: if all.get_untracked() { "all" } else { "original" }.to_owned(),
                    urls: Some(text.get_untracked()),
                    confirm_all: confirmed.get_untracked().then(|| "yes".to_owned()),
                });
            }>
                <input type="hidden" name="project" value=token />
                <fieldset class="scope">
                    <legend>"Scope"</legend>
                    <label>
                        <input type="radio" name="scope" value="original" id="scope-original" checked=!initial_all
                            on:change=move |_| all.set(false) />
                        " Original — specific images"
                    </label>
                    <label>
                        <input type="radio" name="scope" value="all" id="scope-all" checked=initial_all
                            on:change=move |_| all.set(true) />
                        " All — the whole cache of the token"
                    </label>
                </fieldset>
                <div class="original-only">
                    <label for="urls">"URLs (up to 10, separated by commas or line breaks)"</label>
                    <textarea id="urls" name="urls" rows="6" spellcheck="false"
                        placeholder="/sample.li/flat1.jpg"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))>{initial_text}</textarea>
                    <p class="counter" class:over=over data-testid="counter" aria-live="polite">
                        {move || format!("{} / {}", count(), CONSOLE_MAX_PATHS)}
                        {move || over().then_some(" — too many: submit at most 10 per invalidation")}
                        {move || parsed.with(|p| (p.duplicates > 0).then(|| format!(" ({} duplicate(s) ignored)", p.duplicates)))}
                    </p>
                    <ul class="field-errors" aria-live="polite" data-testid="live-errors">
                        {move || parsed.with(|p| p.errors.iter().map(|e| {
                            let suggestion = e.suggestion.clone();
                            view! {
                                <li>
                                    <code>{e.entry.clone()}</code> ": " {e.reason.message()}
                                    {suggestion.map(|s| view! { " Try " <code class="suggestion">{s}</code> })}
                                </li>
                            }
                        }).collect_view())}
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
                <button type="submit" class="primary" disabled=move || hydrated.get() && blocked()>
                    {move || if submit.pending().get() { "Submitting…" } else { "Submit" }}
                </button>
            </form>
            {move || result.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        </section>
    }
}
