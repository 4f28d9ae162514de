use leptos::prelude::*;
use leptos_meta::Title;

use imgflush::domain::TargetKind;

use crate::components::{or_error, ErrorNotice, Layout};
use crate::model::SettingsView;
use crate::pages::token_param;
use crate::serverfns::{project_settings, AddTarget, RemoveTarget};

/// Project settings and purge targets (managed by admins).
#[component]
pub fn SettingsPage() -> impl IntoView {
    let token = token_param();
    let add = ServerAction::<AddTarget>::new();
    let remove = ServerAction::<RemoveTarget>::new();
    let settings = Resource::new(
        move || (token.get(), add.version().get(), remove.version().get()),
        |(token, ..)| project_settings(token),
    );
    view! {
        <Title text="Settings" />
        <Layout token=token>
            <h1>"Settings"</h1>
            {move || add.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
            {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(settings.await, move |s| view! { <Settings s=s token=token add=add remove=remove /> })
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn Settings(
    s: SettingsView,
    token: Signal<String>,
    add: ServerAction<AddTarget>,
    remove: ServerAction<RemoveTarget>,
) -> impl IntoView {
    let admin = s.role.can_manage();
    let hosts = if s.origin_hosts.is_empty() { "any".to_owned() } else { s.origin_hosts.join(", ") };
    view! {
        <section class="card">
            <h2>"Project"</h2>
            <dl class="summary">
                <dt>"Name"</dt><dd>{s.name}</dd>
                <dt>"Token"</dt><dd><code>{s.token}</code></dd>
                <dt>"Allowed origin hosts"</dt><dd>{hosts}</dd>
                <dt>"Caching interval"</dt><dd>{format!("max-age={} s, s-maxage={} s", s.max_age_secs, s.s_maxage_secs)}</dd>
                <dt>"Your role"</dt><dd>{s.role.label()}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Purge targets"</h2>
            <p class="muted">"Edge targets are purged in the “Flushing resizing servers” step; Varnish and webhook targets in “Flushing CDN servers”."</p>
            {if s.targets.is_empty() {
                view! { <p data-testid="no-targets">"No purge targets yet: invalidations complete without flushing anything."</p> }.into_any()
            } else {
                view! {
                    <table class="targets" data-testid="targets">
                        <thead><tr><th>"Name"</th><th>"Kind"</th><th>"URL"</th><th>"Secret"</th><th></th></tr></thead>
                        <tbody>
                            {s.targets.into_iter().map(|t| { let name = t.name.clone(); view! {
                                <tr data-target=name>
                                    <td>{t.name}</td>
                                    <td>{t.kind.label()}</td>
                                    <td><code>{t.url}</code></td>
                                    <td>{if t.has_secret { "set" } else { "none" }}</td>
                                    <td>{admin.then(|| view! {
                                        <ActionForm action=remove>
                                            <input type="hidden" name="project" value=token />
                                            <input type="hidden" name="target_id" value=t.id />
                                            <button type="submit" class="danger">"Remove"</button>
                                        </ActionForm>
                                    })}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {admin.then(|| view! {
                <h3>"Add a target"</h3>
                <ActionForm action=add>
                    <input type="hidden" name="project" value=token />
                    <div class="row">
                        <label>"Kind "
                            <select name="kind">
                                {TargetKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Name " <input name="name" required maxlength="64" placeholder="varnish-fra-1" /></label>
                    </div>
                    <label>"Purge URL " <input name="url" type="url" required placeholder="http://127.0.0.1:6081/" /></label>
                    <label>"Shared secret (optional) " <input name="secret" type="password" autocomplete="off" /></label>
                    <button type="submit" class="primary">"Add target"</button>
                </ActionForm>
            })}
        </section>
    }
}
