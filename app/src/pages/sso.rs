//! The owners' single sign-on page: identity providers (added, listed with
//! the secret shown as "set", removed) and the require-SSO policy.

use leptos::prelude::*;

use crate::components::{or_error, Announce, ErrorNotice};
use crate::model::SsoView;
use crate::pages::instance_page;
use crate::serverfns::{sso_settings, AddSsoProvider, RemoveSsoProvider, SetSsoPolicy};

#[component]
pub fn SsoPage() -> impl IntoView {
    instance_page("Single sign-on", || view! { <SsoBody /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn SsoBody() -> impl IntoView {
    crate::platform::island_ready();
    let add = ServerAction::<AddSsoProvider>::new();
    let remove = ServerAction::<RemoveSsoProvider>::new();
    let policy = ServerAction::<SetSsoPolicy>::new();
    let settings = Resource::new(
        move || (add.version().get(), remove.version().get(), policy.version().get()),
        |_| sso_settings(),
    );
    view! {
        <h1>"Single sign-on"</h1>
        <p class="muted">"Users sign in with an OpenID Connect identity provider. A verified e-mail of an allowed domain signs in to the account with that e-mail, or to a new account without projects (or with the projects its groups map to). The provider is trusted for the second factor."</p>
        {move || add.value().get().map(|r| match r {
            Ok(_) => view! { <Announce testid="sso-added">"Provider added."</Announce> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || policy.value().get().map(|r| match r {
            Ok(()) => view! { <Announce testid="sso-policy-saved">"Policy saved."</Announce> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(settings.await, move |s| view! { <Providers s=s remove=remove policy=policy /> })
            })}
        </Transition>
        <h2>"Add a provider"</h2>
        <ActionForm action=add attr:class="card stack">
            <label>"Display name" <input name="name" required placeholder="Staff login" /></label>
            <label>"Issuer URL" <input name="issuer" type="url" required placeholder="https://login.example.com/realms/staff" /></label>
            <label>"Client ID" <input name="client_id" required /></label>
            <label>"Client secret" <input name="client_secret" type="password" required autocomplete="off" /></label>
            <label>"Allowed e-mail domains" <textarea name="domains" required placeholder="example.com"></textarea></label>
            <label>"Groups claim (optional)" <input name="groups_claim" placeholder="groups" /></label>
            <label>"Group mapping (optional), one per line: group = project_token:role"
                <textarea name="group_map" placeholder="cdn-editors = doc:editor"></textarea>
            </label>
            <p class="muted">"Register this console's callback URL at the provider: /login/sso/callback on this console's address."</p>
            <button type="submit" class="primary">"Add provider"</button>
        </ActionForm>
    }
}

#[component]
fn Providers(s: SsoView, remove: ServerAction<RemoveSsoProvider>, policy: ServerAction<SetSsoPolicy>) -> impl IntoView {
    let glass = s.break_glass.clone().unwrap_or_default();
    view! {
        <table class="sso-providers" data-testid="sso-providers">
            <thead><tr><th>"Name"</th><th>"Issuer"</th><th>"Client"</th><th>"Domains"</th><th>"Groups"</th><th>"Remove"</th></tr></thead>
            <tbody>
                {s.providers.into_iter().map(|p| {
                    let label = format!("Remove {}", p.name);
                    let groups = match &p.groups_claim {
                        Some(claim) => format!("{claim}: {}", p.group_map.join("; ")),
                        None => "—".to_owned(),
                    };
                    view! {
                        <tr data-provider=p.name.clone()>
                            <td>{p.name.clone()}</td>
                            <td><code>{p.issuer}</code></td>
                            <td><code>{p.client_id}</code>" (secret set)"</td>
                            <td>{p.domains.join(", ")}</td>
                            <td>{groups}</td>
                            <td>
                                <ActionForm action=remove>
                                    <input type="hidden" name="id" value=p.id />
                                    <button type="submit" class="danger" aria-label=label>"Remove"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <h2>"Policy"</h2>
        <ActionForm action=policy attr:class="card stack">
            <label><input type="checkbox" name="required" checked=s.required />" Require single sign-on for everyone except the break-glass owner"</label>
            <label>"Break-glass owner (keeps password sign-in)" <input name="break_glass" type="email" value=glass /></label>
            <button type="submit">"Save policy"</button>
        </ActionForm>
    }
}
