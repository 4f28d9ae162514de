use leptos::prelude::*;

use crate::components::{flash, or_error, Announce, Confirm, CopyButton, ErrorNotice, LocalTime};
use crate::model::{CreatedKey, KeysView};
use crate::pages::project_page;
use crate::serverfns::{list_keys, CreateKey, RevokeKey};

/// API keys: create (secret shown once), list, revoke. Admins only.
#[component]
pub fn KeysPage() -> impl IntoView {
    project_page("API keys", |token| view! { <KeysBody token /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn KeysBody(token: String) -> impl IntoView {
    let token = Signal::stored(token);
    crate::platform::island_ready();
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let kept = flash("new_key");
    let kept_revoked = flash("key_revoked");
    let keys = Resource::new(
        move || (token.get(), create.version().get(), revoke.version().get()),
        |(token, ..)| list_keys(token),
    );
    view! {
        <h1>"API keys"</h1>
        <p class="muted">"Keys authenticate the Invalidation API (" <code>"X-Client-Key"</code> " or " <code>"Authorization: Bearer"</code> "). See the " <a href="/docs/api">"API reference"</a> "."</p>
        {move || create.value().get().map(|r| match r {
            Ok(k) => view! { <NewKey k=k /> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                kept.await.and_then(|json| serde_json::from_str::<CreatedKey>(&json).ok()).map(|k| view! { <NewKey k=k /> })
            })}
        </Suspense>
        {move || revoke.value().get().map(|r| match r {
            Ok(name) => view! { <Revoked name /> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { kept_revoked.await.map(|name| view! { <Revoked name /> }) })}
        </Suspense>
        <section class="card">
            <h2>"New key"</h2>
            <ActionForm action=create>
                <input type="hidden" name="project" value=token />
                <label>"Name " <input name="name" required maxlength="64" placeholder="ci-deploy" /></label>
                <label>"Role "
                    <select name="role">
                        <option value="editor">"Editor — may invalidate"</option>
                        <option value="admin">"Admin — may also change settings and purge targets"</option>
                        <option value="support">"Support — read-only"</option>
                    </select>
                </label>
                <details class="limits">
                    <summary>"Limit what it may purge (optional)"</summary>
                    <label>"Only paths under (one per line, a trailing * for a prefix) "
                        <textarea name="limit_prefixes" rows="2" placeholder="/img.example.com/blog/*"></textarea>
                    </label>
                    <label>"Only these tags (space separated) " <input name="limit_tags" placeholder="products" /></label>
                    <fieldset>
                        <legend>"Only these scopes (none ticked: any its limits allow)"</legend>
                        <label><input type="checkbox" name="scope_original" value="on" />" Original"</label>
                        <label><input type="checkbox" name="scope_tag" value="on" />" Tag"</label>
                        <label><input type="checkbox" name="scope_all" value="on" />" All"</label>
                    </fieldset>
                    <p class="muted">"A key limited to paths or tags may purge only within them, never scope All; anything outside is refused (403) naming the first path or tag outside."</p>
                </details>
                <button type="submit" class="primary">"Create key"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(keys.await, move |k| view! { <KeyTable k=k token=token revoke=revoke /> })
            })}
        </Transition>
    }
}

#[component]
fn NewKey(k: CreatedKey) -> impl IntoView {
    view! {
        <div class="notice notice-ok" role="status" data-testid="new-key">
            <p>"Key “" {k.name} "” created. Copy it now: it is shown only once."</p>
            <p><code data-testid="new-key-secret">{k.secret.clone()}</code> " " <CopyButton text=k.secret label="Copy the new key" /></p>
        </div>
    }
}

#[component]
fn Revoked(name: String) -> impl IntoView {
    view! {
        <Announce testid="key-revoked">
            {format!("Revoked the key “{name}”: requests that present it are refused (401) from now on.")}
        </Announce>
    }
}

#[component]
fn KeyTable(k: KeysView, token: Signal<String>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    if k.keys.is_empty() {
        return view! { <p>"No API keys yet."</p> }.into_any();
    }
    view! {
        <table class="keys" data-testid="keys">
            <thead><tr><th>"Name"</th><th>"Prefix"</th><th>"Role"</th><th>"May purge"</th><th>"Created"</th><th>"Last used"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {k.keys.into_iter().map(|key| {
                    let live = key.revoked.is_none();
                    let name = key.name.clone();
                    let name_again = key.name.clone();
                    view! {
                        <tr data-key=name>
                            <td>{key.name}</td>
                            <td><code>{format!("imf_{}_…", key.prefix)}</code></td>
                            <td>{key.role.label()}</td>
                            <td data-testid="key-limits">{if key.limits.is_empty() { "anything".to_owned() } else { key.limits.describe() }}</td>
                            <td><LocalTime at=key.created /></td>
                            <td>{match key.last_used { Some(t) => view! { <LocalTime at=t /> }.into_any(), None => "never".into_any() }}</td>
                            <td>{if live { "active" } else { "revoked" }}</td>
                            <td>{live.then(|| view! {
                                <Confirm open="Revoke" consequence=format!("Every request that presents “{}” will be refused at once; this cannot be undone.", name_again)>
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="project" value=token />
                                        <input type="hidden" name="key_id" value=key.id />
                                        <button type="submit" class="danger">{format!("Revoke {}", name_again)}</button>
                                    </ActionForm>
                                </Confirm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
