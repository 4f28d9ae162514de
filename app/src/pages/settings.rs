use leptos::prelude::*;

use imgflush::domain::TargetKind;

use crate::components::{flash, or_error, ErrorNotice};
use crate::model::{SettingsView, TargetTestAnswer};
use crate::pages::project_page;
use crate::pages::target_forms::{credentials_state, settings_summary, AddTargetForm, EditTargetRow, TargetForms};
use crate::pages::target_notes::{
    confirm_above, format_warning, ConfirmRemove, RemovedNotice, RetentionAnswer, SettingsAnswer,
};
use crate::serverfns::{
    project_settings, AddTarget, EditTarget, RemoveTarget, SaveRetention, SaveSettings, TestTarget,
};

/// Project settings and purge targets (managed by admins).
#[component]
pub fn SettingsPage() -> impl IntoView {
    project_page("Settings", |token| view! { <SettingsBody token /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn SettingsBody(token: String) -> impl IntoView {
    let token = Signal::stored(token);
    crate::platform::island_ready();
    let add = ServerAction::<AddTarget>::new();
    let edit = ServerAction::<EditTarget>::new();
    let remove = ServerAction::<RemoveTarget>::new();
    let save = ServerAction::<SaveSettings>::new();
    let retention = ServerAction::<SaveRetention>::new();
    let test = ServerAction::<TestTarget>::new();
    // Without JavaScript: a Test's answer (shown beside its target) and a
    // removed target's name.
    let kept = flash("target_test");
    let removed = flash("target_removed");
    // Without JavaScript: what the last add, edit or save did.
    let answered = flash("settings_answer");
    // Without JavaScript: the kind of a refused new target, the id of a refused edit.
    let added = flash("target_add");
    let edited = flash("target_edit");
    // Kept across the re-renders that follow each post: a refused form shows
    // its errors beside the fields of the kind and target it was about.
    let forms = TargetForms {
        kind: RwSignal::new(TargetKind::Edge),
        hydrated: RwSignal::new(false),
        editing: RwSignal::new(None),
        reset_after: StoredValue::new(0),
    };
    Effect::new(move |_| forms.hydrated.set(true));
    let refused_kind_applied = StoredValue::new(false);
    let settings = Resource::new(
        move || {
            let versions = (add.version().get(), edit.version().get(), remove.version().get(), save.version().get());
            (token.get(), versions, retention.version().get())
        },
        |(token, ..)| project_settings(token),
    );
    view! {
        <h1>"Settings"</h1>
        {move || add.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || edit.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || save.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || test.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || remove.value().get().and_then(Result::ok).map(|r| view! { <RemovedNotice name=r.name /> })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { removed.await.map(|name| view! { <RemovedNotice name /> }) })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let kept = answered.await;
                // Until this page's own next action answers in its place.
                let none_since = move || {
                    add.value().with(Option::is_none)
                        && edit.value().with(Option::is_none)
                        && save.value().with(Option::is_none)
                        && retention.value().with(Option::is_none)
                };
                view! { {move || kept.clone().filter(|_| none_since()).map(|what| view! { <SettingsAnswer what /> })} }
            })}
        </Suspense>
        {move || retention.value().get().map(|answer| view! { <RetentionAnswer answer /> })}
        // The table is drawn again: the answer takes the focus the form had.
        {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! { <SettingsAnswer what="settings_saved".to_owned() /> })}
        {move || matches!(add.value().get(), Some(Ok(()))).then(|| view! { <SettingsAnswer what="target_added".to_owned() /> })}
        {move || matches!(edit.value().get(), Some(Ok(()))).then(|| view! { <SettingsAnswer what="target_saved".to_owned() /> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let refused = Refused {
                    kind: added.await.and_then(|k| TargetKind::parse(&k).ok()),
                    target: edited.await.and_then(|id| id.parse().ok()),
                };
                if let (Some(k), false) = (refused.kind, refused_kind_applied.get_value()) {
                    refused_kind_applied.set_value(true);
                    forms.kind.set(k);
                }
                let actions = TargetActions { add, edit, remove, test };
                let kept = kept.await.and_then(|json| serde_json::from_str::<TargetTestAnswer>(&json).ok());
                // The last Test's answer, beside the target it tested.
                let tested = Signal::derive(move || test.value().get().and_then(Result::ok).or_else(|| kept.clone()));
                or_error(settings.await, move |s| view! { <Settings s=s token=token actions=actions tested=tested forms=forms refused=refused save=save retention=retention /> })
            })}
        </Transition>
    }
}

/// The purge targets' forms.
#[derive(Clone, Copy)]
struct TargetActions {
    add: ServerAction<AddTarget>,
    edit: ServerAction<EditTarget>,
    remove: ServerAction<RemoveTarget>,
    test: ServerAction<TestTarget>,
}

/// Which target form a refused post came from, when posted without
/// JavaScript (the session kept it for this render; see `take_flash`).
#[derive(Clone, Copy, Default)]
struct Refused {
    /// The kind chosen in "Add a target".
    kind: Option<TargetKind>,
    /// The target whose edit was refused.
    target: Option<i64>,
}

#[component]
fn Settings(
    s: SettingsView,
    token: Signal<String>,
    actions: TargetActions,
    /// The last Test's answer (shown in its target's row).
    tested: Signal<Option<TargetTestAnswer>>,
    forms: TargetForms,
    refused: Refused,
    save: ServerAction<SaveSettings>,
    retention: ServerAction<SaveRetention>,
) -> impl IntoView {
    let TargetActions { add, edit, remove, test } = actions;
    let editing = forms.editing;
    let admin = s.role.can_manage();
    let days = s.retention_days;
    let hosts = if s.origin_hosts.is_empty() { "any".to_owned() } else { s.origin_hosts.join(", ") };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let private = match (s.allow_private_origins, s.private_origins_allowed.is_empty()) {
        (true, _) => "any (set by an instance owner)".to_owned(),
        (false, true) => "none".to_owned(),
        (false, false) => format!("only {}", s.private_origins_allowed.join(", ")),
    };
    let summary = view! {
        <dl class="summary">
            <dt>"Name"</dt><dd>{s.name.clone()}</dd>
            <dt>"Token"</dt><dd><code>{s.token.clone()}</code></dd>
            <dt>"Allowed origin hosts"</dt><dd>{hosts}</dd>
            <dt>"Origin scheme"</dt><dd>{s.origin_scheme.clone()}</dd>
            <dt>"Caching interval"</dt><dd>{format!("max-age={} s, s-maxage={} s", s.max_age_secs, s.s_maxage_secs)}</dd>
            <dt>"Custom host (CNAME)"</dt><dd data-testid="custom-host">{s.custom_host.clone().unwrap_or_else(|| "none".into())}
                {(s.custom_host.is_some() && s.custom_host_pending).then_some(" (waiting for an owner's approval)")}</dd>
            <dt>"Private origin addresses"</dt><dd data-testid="private-origins">{private}</dd>
            <dt>"Signed URLs"</dt><dd>{if s.signing { format!("required ({} characters{})", s.sign_length, if s.sealed { ", sealed" } else { "" }) } else { "not required".into() }}</dd>
            <dt>"Strict seal"</dt><dd>{yes_no(s.strict_seal)}</dd>
            <dt>"Enlarge images"</dt><dd>{if s.no_upscale { "no" } else { "yes" }}</dd>
            <dt>"Output format"</dt><dd data-testid="auto-format">{if s.auto_format { "automatic: AVIF, WebP or the source's, per browser" } else { "the source's (or force_format)" }}</dd>
            <dt>"Linear-light downscaling"</dt><dd>{yes_no(s.linear_light)}</dd>
            <dt>"Soft purge on CDN nodes"</dt><dd>{yes_no(s.soft_purge)}</dd>
            <dt>"Verify purges"</dt><dd>{yes_no(s.verify)}</dd>
            <dt>"Cache tags read from"</dt><dd data-testid="tag-sources">{if s.tag_sources.is_empty() { "no origin header".to_owned() } else { s.tag_sources.clone() }}</dd>
            <dt>"Tag rules"</dt><dd data-testid="tag-rules">{match s.tag_rules.lines().count() { 0 => "none".to_owned(), 1 => s.tag_rules.clone(), n => format!("{n} rules") }}</dd>
            <dt>"Scope All needs a second admin"</dt><dd data-testid="approval">{if s.approval_for_all { format!("yes, within {} h", s.approval_hours) } else { "no".to_owned() }}</dd>
            <dt>"Confirm purges above"</dt><dd data-testid="confirm-above">{confirm_above(s.confirm_above_objects, s.confirm_above_mb)}</dd>
            <dt>"Invalidation log kept for"</dt><dd data-testid="retention">{format!("{} days", s.retention_days)}</dd>
            <dt>"Your role"</dt><dd>{s.role.label()}</dd>
        </dl>
    };
    let form = admin.then(|| view! { <ProjectForm s=s.clone() token=token save=save /> });
    view! {
        <section class="card">
            <h2>"Project"</h2>
            {summary}
            {form}
            {admin.then(|| view! {
                <ActionForm action=retention attr:class="inline">
                    <input type="hidden" name="project" value=token />
                    <label>"Keep invalidations for (days) " <input name="retention_days" inputmode="numeric" required value=days size="5" /></label>
                    <button type="submit">"Save retention"</button>
                </ActionForm>
            })}
        </section>
        <section class="card">
            <h2>"Purge targets"</h2>
            <p class="muted">"Edge targets are purged in the “Flushing resizing servers” step (shields first, tier by tier, then the edges below them); Varnish, webhook and CDN provider targets in “Flushing CDN servers”."</p>
            {format_warning(s.formats_unready())}
            {if s.targets.is_empty() {
                view! { <p data-testid="no-targets">"No purge targets yet: invalidations complete without flushing anything."</p> }.into_any()
            } else {
                view! {
                    <table class="targets" data-testid="targets">
                        <thead><tr><th>"Name"</th><th>"Kind"</th><th>"URL"</th><th>"Settings"</th><th>"Credentials"</th><th></th></tr></thead>
                        <tbody>
                            {s.targets.into_iter().map(|t| { let name = t.name.clone(); let test_label = format!("Test {}", t.name); let id = t.id; view! {
                                <tr data-target=name.clone()>
                                    <td>{t.name.clone()}</td>
                                    <td>{t.kind.label()}</td>
                                    <td><code>{t.url.clone()}</code></td>
                                    <td data-testid="target-settings">{settings_summary(&t)}</td>
                                    <td data-testid="target-credentials">{credentials_state(&t)}</td>
                                    <td>{admin.then(|| view! {
                                        <ActionForm action=test attr:class="inline">
                                            <input type="hidden" name="project" value=token />
                                            <input type="hidden" name="target_id" value=t.id />
                                            <button type="submit" aria-label=test_label>"Test"</button>
                                        </ActionForm>
                                        <ConfirmRemove id=t.id name=name.clone() token=token remove=remove />
                                    })}</td>
                                </tr>
                                {move || tested.get().filter(|a| a.target_id == id).map(|a| {
                                    let failed = a.answer.starts_with("failed");
                                    view! {
                                        <tr class="test-answer" data-tested=name.clone()>
                                            <td colspan="6">
                                                <p class=if failed { "notice notice-error" } else { "notice notice-ok" } role="status" data-testid="target-test-result">
                                                    {format!("Test of {}: the target answered: {}", name, a.answer)}
                                                </p>
                                            </td>
                                        </tr>
                                    }
                                })}
                                {admin.then(|| view! {
                                    <EditTargetRow t=t token=token edit=edit editing=editing refused=refused.target />
                                })}
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {admin.then(|| view! { <AddTargetForm token=token add=add forms=forms refused=refused.kind /> })}
        </section>
    }
}

/// The project's editable settings (admins): what the edges and CDN nodes read.
#[component]
fn ProjectForm(s: SettingsView, token: Signal<String>, save: ServerAction<SaveSettings>) -> impl IntoView {
    let https = s.origin_scheme != "http";
    view! {
        <details class="edit">
            <summary>"Edit settings"</summary>
            <ActionForm action=save attr:data-testid="settings-form">
                <input type="hidden" name="project" value=token />
                <label>"Name " <input name="name" required maxlength="100" value=s.name /></label>
                <label>"Allowed origin hosts (one per line or comma; empty allows none) "
                    <textarea name="origin_hosts" rows="3" placeholder="img.example.com">{s.origin_hosts.join("\n")}</textarea>
                </label>
                <label>"Origin scheme "
                    <select name="origin_scheme">
                        <option value="https" selected=https>"https"</option>
                        <option value="http" selected=!https>"http"</option>
                    </select>
                </label>
                <div class="row">
                    <label>"max-age (s) " <input name="max_age_secs" inputmode="numeric" required value=s.max_age_secs /></label>
                    <label>"s-maxage (s) " <input name="s_maxage_secs" inputmode="numeric" required value=s.s_maxage_secs /></label>
                </div>
                <label>"Custom host (CNAME) " <input name="custom_host" placeholder="images.example.com" value=s.custom_host.unwrap_or_default() /></label>
                <p class="muted">{if s.owner {
                    "As an instance owner, saving approves the custom host: the edges use it at once."
                } else {
                    "A new custom host waits for an instance owner's approval (an owner's save) before the edges use it."
                }}</p>
                {s.owner.then(|| view! {
                    <fieldset>
                        <legend>"Private origin addresses (instance owners)"</legend>
                        <label>"Allowed on a private address (host:port, one per line) "
                            <textarea name="private_origins_allowed" rows="2" placeholder="127.0.0.1:3003">{s.private_origins_allowed.join("\n")}</textarea>
                        </label>
                        <label><input type="checkbox" name="allow_private_origins" value="on" checked=s.allow_private_origins />" Any private, loopback or link-local origin address"</label>
                    </fieldset>
                })}
                <fieldset>
                    <legend>"URL signing"</legend>
                    <label>{if s.signing { "New salt (empty keeps the current one) " } else { "Salt (empty: URLs need no signature) " }}
                        <input name="sign_salt" type="password" autocomplete="off" />
                    </label>
                    {s.signing.then(|| view! { <label><input type="checkbox" name="clear_sign_salt" value="on" />" Stop requiring signed URLs"</label> })}
                    <label>"Signature length (6–40) " <input name="sign_length" inputmode="numeric" value=s.sign_length /></label>
                    <label><input type="checkbox" name="sealed" value="on" checked=s.sealed />" Sealed URLs (ci_seal)"</label>
                    <label><input type="checkbox" name="strict_seal" value="on" checked=s.strict_seal />" Strict seal: refuse transformation parameters outside ci_eqs"</label>
                </fieldset>
                <fieldset>
                    <legend>"Edge output"</legend>
                    <label><input type="checkbox" name="no_upscale" value="on" checked=s.no_upscale />" Never enlarge: refuse outputs larger than the source image"</label>
                    <label><input type="checkbox" name="auto_format" value="on" checked=s.auto_format />" Automatic format: AVIF, else WebP, else the source's, from each browser's Accept header (answers Vary: Accept)"</label>
                    <label><input type="checkbox" name="linear_light" value="on" checked=s.linear_light />" Linear-light downscaling, lightly sharpened after large reductions"</label>
                </fieldset>
                <fieldset>
                    <legend>"CDN nodes"</legend>
                    <label><input type="checkbox" name="soft_purge" value="on" checked=s.soft_purge />" Soft purge: serve stale while refetching"</label>
                    <label><input type="checkbox" name="verify" value="on" checked=s.verify />" Verify purges by requesting each path through each node"</label>
                </fieldset>
                <fieldset>
                    <legend>"Cache tags"</legend>
                    <label>"Origin headers to read tags from (space separated; empty reads none) "
                        <input name="tag_sources" placeholder="Surrogate-Key Cache-Tag xkey" value=s.tag_sources />
                    </label>
                    <label>"Tag rules: one “path-or-prefix tag” per line "
                        <textarea name="tag_rules" rows="3" placeholder="/img.example.com/products/* products">{s.tag_rules}</textarea>
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"Two-person rule"</legend>
                    <label><input type="checkbox" name="approval_for_all" value="on" checked=s.approval_for_all />" Scope All waits for another admin's approval"</label>
                    <label>"Cancelled unless approved within (hours, 1–168) " <input name="approval_hours" inputmode="numeric" size="4" value=s.approval_hours /></label>
                </fieldset>
                <fieldset>
                    <legend>"Large purges"</legend>
                    <p class="muted">"A purge whose preview counts more than this on the edges needs an explicit confirmation (in the API: confirm=true). Empty: no limit."</p>
                    <div class="row">
                        <label>"Objects " <input name="confirm_above_objects" inputmode="numeric" size="9" value=s.confirm_above_objects.map(|n| n.to_string()).unwrap_or_default() /></label>
                        <label>"Megabytes " <input name="confirm_above_mb" inputmode="numeric" size="7" value=s.confirm_above_mb.map(|n| n.to_string()).unwrap_or_default() /></label>
                    </div>
                </fieldset>
                <button type="submit" class="primary">"Save settings"</button>
            </ActionForm>
        </details>
    }
}
