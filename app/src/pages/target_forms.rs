//! The purge targets' forms on Settings: add (per kind), edit, and the
//! field errors beside each field.

use std::collections::BTreeMap;

use leptos::prelude::*;

use imgflush::domain::target::Check;
use imgflush::domain::TargetKind;

use crate::error::{AppError, FieldError};
use crate::model::TargetView;
use crate::serverfns::{AddTarget, EditTarget};

/// The target forms' state, owned by the island.
#[derive(Clone, Copy)]
pub(super) struct TargetForms {
    /// The kind chosen in "Add a target".
    pub(super) kind: RwSignal<TargetKind>,
    /// Set once the island runs in the browser: without JavaScript every
    /// kind's fields stay visible.
    pub(super) hydrated: RwSignal<bool>,
    /// The target whose Edit form was submitted last (with JavaScript).
    pub(super) editing: RwSignal<Option<i64>>,
    /// The add whose answer last reset "Add a target" (its action
    /// version): the form is drawn again after every action, and only a new
    /// add may reset it.
    pub(super) reset_after: StoredValue<usize>,
}

/// The errors of a refused form post, by field.
pub(super) fn field_errors(result: Option<Result<(), AppError>>) -> Vec<FieldError> {
    match result {
        Some(Err(e)) => e.field_errors().to_vec(),
        _ => Vec::new(),
    }
}

/// What is wrong with `field`, beside it.
#[component]
pub(super) fn FieldMessage(errors: Signal<Vec<FieldError>>, field: &'static str) -> impl IntoView {
    move || {
        let messages: Vec<String> =
            errors.with(|all| all.iter().filter(|e| e.field == field).map(|e| e.message.clone()).collect());
        (!messages.is_empty())
            .then(|| view! { <span class="field-error" data-error-for=field>{messages.join(" ")}</span> })
    }
}

/// A target's public settings in a few words, e.g. `zone 023e…, plan free, dedicated`.
pub(super) fn settings_summary(t: &TargetView) -> AnyView {
    let mut parts = t.settings_summary();
    if let Some(n) = t.paths_this_month {
        parts.push(("paths_this_month", format!("{n} paths sent this month (AWS charges past 1,000 a month)")));
    }
    if parts.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(i, (key, text))| view! { {(i > 0).then_some(", ")} <span data-setting=key>{text}</span> })
        .collect_view()
        .into_any()
}

/// Whether the target has its secret or credentials, never their values.
pub(super) fn credentials_state(t: &TargetView) -> &'static str {
    match (t.kind.spec().bearer_secret, t.has_secret, t.has_credentials) {
        (true, true, _) => "secret set",
        (true, false, _) => "none",
        (false, _, true) => "credentials set",
        (false, _, false) => "none",
    }
}

/// The URL field's example for `kind`: its public API, or the example of its help.
pub(super) fn url_placeholder(kind: TargetKind) -> &'static str {
    let spec = kind.spec();
    spec.default_url.unwrap_or_else(|| spec.url_help.split_once("e.g. ").map_or("", |(_, e)| e))
}

/// The Name field's example for `kind` (a name says what and where).
pub(super) fn name_placeholder(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Edge => "edge-fra-1",
        TargetKind::Varnish => "varnish-fra-1",
        TargetKind::Webhook => "purge-hook",
        TargetKind::Cloudflare => "cloudflare-images-zone",
        TargetKind::Fastly => "fastly-images",
        TargetKind::Cloudfront => "cloudfront-images",
        TargetKind::Akamai => "akamai-images",
        TargetKind::Bunny => "bunny-pull-zone",
    }
}

/// "Add a target": the kind, name, URL, the bearer secret of nodes and hooks,
/// and each provider kind's own fields. Without JavaScript every kind's
/// fields are shown (only the chosen kind's are used); with it, the chosen one's.
#[component]
pub(super) fn AddTargetForm(
    token: Signal<String>,
    add: ServerAction<AddTarget>,
    forms: TargetForms,
    /// The kind of a refused post without JavaScript.
    refused: Option<TargetKind>,
) -> impl IntoView {
    let TargetForms { kind, hydrated, reset_after, .. } = forms;
    let errors = Signal::derive(move || field_errors(add.value().get()));
    // Which kind's fields the errors belong to: the chosen one; without
    // JavaScript the one posted (every kind's, when that is unknown).
    let errors_of = move |k: TargetKind| {
        Signal::derive(move || {
            let posted = (hydrated.get() || refused.is_some()).then(|| kind.get());
            if posted.is_none_or(|p| p == k) {
                errors.get()
            } else {
                Vec::new()
            }
        })
    };
    // With JavaScript another kind's fieldset is hidden and disabled (not posted).
    let other_kind = move |k: TargetKind| hydrated.get() && kind.get() != k;
    let no_secret = move || hydrated.get() && !kind.get().spec().bearer_secret;
    let initial = kind.get_untracked();
    // A target added: the form is ready for the next (its kind, flags and
    // secrets back to their first state, nothing left over from this one).
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        let (version, added) = (add.version().get(), matches!(add.value().get(), Some(Ok(_))));
        if added && version > reset_after.get_value() {
            reset_after.set_value(version);
            if let Some(form) = form.get_untracked() {
                form.reset();
                kind.set(initial);
            }
        }
    });
    view! {
        <h3>"Add a target"</h3>
        <ActionForm action=add node_ref=form attr:data-testid="add-target">
            <input type="hidden" name="project" value=token />
            <div class="row">
                <label>"Kind "
                    <select name="kind" on:change=move |ev| {
                        kind.set(TargetKind::parse(&event_target_value(&ev)).unwrap_or(TargetKind::Edge))
                    }>
                        {TargetKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=*k == initial>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Name " <input name="name" required maxlength="64"
                    placeholder=move || if hydrated.get() { name_placeholder(kind.get()) } else { name_placeholder(initial) } /></label>
            </div>
            <FieldMessage errors field="kind" />
            <FieldMessage errors field="name" />
            <label>"Purge URL "
                <input name="url" type="url" aria-describedby="add-url-hint"
                    required=move || hydrated.get() && kind.get().spec().default_url.is_none()
                    placeholder=move || if hydrated.get() { url_placeholder(kind.get()) } else { "http://127.0.0.1:6081/" } />
            </label>
            <small class="muted hint" id="add-url-hint">{move || if hydrated.get() {
                kind.get().spec().url_help.to_owned()
            } else {
                "An edge's, node's or hook's address; a CDN provider's may stay empty (its public API): see its fields below.".to_owned()
            }}</small>
            <FieldMessage errors field="url" />
            <label hidden=no_secret>{move || if hydrated.get() { "Shared secret (optional) " } else { "Shared secret (optional; Edge, Varnish and Webhook only) " }}
                <input name="secret" type="password" autocomplete="off" disabled=no_secret />
            </label>
            <FieldMessage errors field="secret" />
            {TargetKind::ALL.into_iter().filter(|k| !k.spec().settings.is_empty()).map(|k| {
                let spec = k.spec();
                view! {
                    <fieldset class="kind-settings" data-kind=k.as_str() hidden=move || other_kind(k) disabled=move || other_kind(k)>
                        <legend>{format!("{} settings", spec.label)}</legend>
                        <p class="muted hint">{format!("Purge URL: {}", spec.url_help)}</p>
                        <KindFields kind=k form="add".to_owned() values=BTreeMap::new() editing=false errors=errors_of(k) />
                    </fieldset>
                }
            }).collect_view()}
            <FieldMessage errors field="settings" />
            <p class="muted" hidden=move || hydrated.get() && kind.get() != TargetKind::Edge>
                "An edge: its admin listener's URL (e.g. http://edge:8082/_purge) and this project's secret on it, which "
                <code>{move || format!("server edge secret --token {}", token.get())}</code> " prints."
            </p>
            <button type="submit" class="primary">"Add target"</button>
        </ActionForm>
    }
}

/// A target's Edit disclosure (admins): every field but the kind, its public
/// settings filled in, its secret and credentials empty (kept unless given).
#[component]
pub(super) fn EditTargetRow(
    t: TargetView,
    token: Signal<String>,
    edit: ServerAction<EditTarget>,
    /// The target whose form was submitted last, with JavaScript.
    editing: RwSignal<Option<i64>>,
    /// The target whose edit was refused, without JavaScript.
    refused: Option<i64>,
) -> impl IntoView {
    let id = t.id;
    let kind = t.kind;
    let spec = kind.spec();
    let errors = Signal::derive(move || {
        if editing.get().or(refused) == Some(id) {
            field_errors(edit.value().get())
        } else {
            Vec::new()
        }
    });
    let url_hint = format!("edit-{id}-url-hint");
    let secret_hint = if t.has_secret { "leave empty to keep the current one" } else { "optional" };
    let summary = format!("Edit {}", t.name);
    let TargetView { name, url, settings, .. } = t;
    let row = name.clone();
    view! {
        <tr class="target-edit" data-edit-target=row>
            <td colspan="6">
                <details class="edit" open=move || !errors.get().is_empty()>
                    <summary>{summary}</summary>
                    <ActionForm action=edit attr:data-testid="edit-target">
                        <input type="hidden" name="project" value=token />
                        <input type="hidden" name="target_id" value=id />
                        <input type="hidden" name="kind" value=kind.as_str() />
                        <p class="muted">{format!("Kind: {} (a target keeps its kind)", spec.label)}</p>
                        <FieldMessage errors field="kind" />
                        <label>"Name " <input name="name" required maxlength="64" value=name /></label>
                        <FieldMessage errors field="name" />
                        <label>"Purge URL "
                            <input name="url" type="url" value=url required=spec.default_url.is_none()
                                placeholder=url_placeholder(kind) aria-describedby=url_hint.clone() />
                        </label>
                        <small class="muted hint" id=url_hint>{spec.url_help}</small>
                        <FieldMessage errors field="url" />
                        {spec.bearer_secret.then(|| view! {
                            <label>"Shared secret "
                                <input name="secret" type="password" autocomplete="off" placeholder=secret_hint />
                            </label>
                            <FieldMessage errors field="secret" />
                        })}
                        <KindFields kind=kind form=format!("edit-{id}") values=settings editing=true errors=errors />
                        <FieldMessage errors field="settings" />
                        <button type="submit" class="primary" on:click=move |_| editing.set(Some(id))>"Save target"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}

/// A kind's own fields, named `settings[<kind>][<key>]` (a nested map the
/// server function decodes): text inputs, a checkbox for a flag, a select for
/// a choice, a password input for a credential (never filled in).
#[component]
pub(super) fn KindFields(
    kind: TargetKind,
    /// Unique among the page's forms (`add`, `edit-7`), for the hints' ids.
    form: String,
    /// Current public values (editing), by key.
    values: BTreeMap<String, String>,
    /// Credentials left empty are kept.
    editing: bool,
    errors: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let kind_name = kind.as_str();
    kind.spec()
        .settings
        .iter()
        .map(|spec| {
            let field = format!("settings[{kind_name}][{}]", spec.key);
            let hint_id = format!("{form}-{kind_name}-{}-hint", spec.key);
            let value = if spec.secret { None } else { values.get(spec.key).cloned() };
            let label = match (spec.required, spec.secret && editing) {
                (_, true) => format!("{} (leave empty to keep) ", spec.label),
                (true, false) => format!("{} ", spec.label),
                (false, false) => format!("{} (optional) ", spec.label),
            };
            let input = match spec.check {
                Check::Flag => {
                    let checked = value.as_deref().or(spec.default) == Some("on");
                    view! {
                        <label class="check">
                            <input type="checkbox" name=field value="on" checked=checked aria-describedby=hint_id.clone() />
                            {format!(" {}", spec.label)}
                        </label>
                    }
                    .into_any()
                }
                Check::Choice(words) => {
                    let current = value.or(spec.default.map(str::to_owned)).unwrap_or_default();
                    view! {
                        <label>{label}
                            <select name=field aria-describedby=hint_id.clone()>
                                {spec.default.is_none().then(|| view! { <option value="">"—"</option> })}
                                {words.iter().map(|w| view! { <option value=*w selected=*w == current>{*w}</option> }).collect_view()}
                            </select>
                        </label>
                    }
                    .into_any()
                }
                _ if spec.secret => view! {
                    <label>{label}
                        <input type="password" name=field autocomplete="off" aria-describedby=hint_id.clone()
                            placeholder=editing.then_some("leave empty to keep") />
                    </label>
                }
                .into_any(),
                check => view! {
                    <label>{label}
                        <input name=field value=value.unwrap_or_default() placeholder=spec.default
                            inputmode=matches!(check, Check::Number(..)).then_some("numeric")
                            aria-describedby=hint_id.clone() />
                    </label>
                }
                .into_any(),
            };
            view! {
                <div class="setting" data-setting=spec.key>
                    {input}
                    <small class="muted hint" id=hint_id>{spec.help}</small>
                    <FieldMessage errors field=spec.key />
                </div>
            }
        })
        .collect_view()
}
