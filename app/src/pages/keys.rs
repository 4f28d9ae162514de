use leptos::prelude::*;

use crate::components::{flash, or_error, Announce, Confirm, CopyButton, ErrorNotice, LocalTime};
use crate::model::{CreatedKey, KeyState, KeyView, KeysView};
use crate::pages::project_page;
use crate::serverfns::{list_keys, CreateKey, RevokeKey, RollKey};

/// API keys: create (secret shown once), list, roll, revoke. Admins only.
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
    let roll = ServerAction::<RollKey>::new();
    let kept = flash("new_key");
    let kept_revoked = flash("key_revoked");
    let keys = Resource::new(
        move || (token.get(), create.version().get(), revoke.version().get(), roll.version().get()),
        |(token, ..)| list_keys(token),
    );
    view! {
        <h1>"API keys"</h1>
        <p class="muted">"Keys authenticate the Invalidation API (" <code>"X-Client-Key"</code> " or " <code>"Authorization: Bearer"</code> "). See the " <a href="/docs/api">"API reference"</a> "."</p>
        {move || create.value().get().map(|r| match r {
            Ok(k) => view! { <NewKey k=k /> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        {move || roll.value().get().map(|r| match r {
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
                <details class="limits">
                    <summary>"Lifetime and networks (optional)"</summary>
                    <label>"Expires after "
                        <select name="expires_in_days">
                            <option value="">"never"</option>
                            <option value="30">"30 days"</option>
                            <option value="90">"90 days"</option>
                            <option value="365">"1 year"</option>
                        </select>
                    </label>
                    <label>"or on (valid through that day, UTC) " <input type="date" name="expires_at" /></label>
                    <label>"Only from these networks (addresses or CIDRs, space separated) "
                        <input name="allowed_ips" placeholder="203.0.113.0/24 2001:db8::/32" />
                    </label>
                    <p class="muted">"An expired key, or one used from elsewhere, is refused (401 key_expired or key_address_not_allowed). You are warned 7 days before a key expires; Roll it to hand out a successor while the old key keeps working for a grace period."</p>
                </details>
                <button type="submit" class="primary">"Create key"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(keys.await, move |k| view! { <Expiring keys=k.keys.clone() /> <KeyTable k=k token=token revoke=revoke roll=roll /> })
            })}
        </Transition>
    }
}

#[component]
fn NewKey(k: CreatedKey) -> impl IntoView {
    let done = if k.replaces.is_some() { "rolled" } else { "created" };
    view! {
        <div class="notice notice-ok" role="status" data-testid="new-key">
            <p>"Key “" {k.name} "” " {done} ". Copy it now: it is shown only once."</p>
            <p><code data-testid="new-key-secret">{k.secret.clone()}</code> " " <CopyButton text=k.secret label="Copy the new key" /></p>
            {k.replaces.map(|(prefix, until)| view! {
                <p data-testid="rolled-until">"The old key " <code>{format!("imf_{prefix}_…")}</code> " keeps working until " <LocalTime at=until /> ": deploy the new one before then."</p>
            })}
        </div>
    }
}

/// A warning naming the keys that expire within 7 days.
#[component]
fn Expiring(keys: Vec<KeyView>) -> impl IntoView {
    let soon: Vec<String> = keys
        .iter()
        .filter(|k| matches!(k.state, KeyState::ExpiresSoon { .. }))
        .map(|k| format!("“{}” ({})", k.name, k.state.label()))
        .collect();
    (!soon.is_empty()).then(|| {
        let count = if soon.len() == 1 { "1 key expires".to_owned() } else { format!("{} keys expire", soon.len()) };
        view! {
            <p class="warning" role="status" data-testid="keys-expiring">
                {format!("{count} within 7 days: {}. Roll it to get a successor while the old key keeps working for a grace period.", soon.join(", "))}
            </p>
        }
    })
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
fn KeyTable(
    k: KeysView,
    token: Signal<String>,
    revoke: ServerAction<RevokeKey>,
    roll: ServerAction<RollKey>,
) -> impl IntoView {
    if k.keys.is_empty() {
        return view! { <p>"No API keys yet."</p> }.into_any();
    }
    view! {
        <table class="keys" data-testid="keys">
            <thead><tr><th>"Name"</th><th>"Prefix"</th><th>"Role"</th><th>"May purge"</th><th>"From"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {k.keys.into_iter().map(|key| {
                    let usable = key.state.usable();
                    let rollable = usable && key.state != KeyState::Rolled;
                    let name = key.name.clone();
                    let name_again = key.name.clone();
                    let name_roll = key.name.clone();
                    let warn = matches!(key.state, KeyState::ExpiresSoon { .. } | KeyState::Expired);
                    view! {
                        <tr data-key=name data-prefix=key.prefix.clone()>
                            <td>{key.name}</td>
                            <td><code>{format!("imf_{}_…", key.prefix)}</code></td>
                            <td>{key.role.label()}</td>
                            <td data-testid="key-limits">{if key.limits.is_empty() { "anything".to_owned() } else { key.limits.describe() }}</td>
                            <td data-testid="key-networks">{if key.allowed_ips.is_empty() { "any address".to_owned() } else { key.allowed_ips.join(" ") }}</td>
                            <td><LocalTime at=key.created /></td>
                            <td>{match key.expires { Some(t) => view! { <LocalTime at=t /> }.into_any(), None => "never".into_any() }}</td>
                            <td data-testid="key-last-used">{match key.last_used {
                                Some(t) => view! { <LocalTime at=t /> {key.last_used_addr.map(|a| format!(" from {a}"))} }.into_any(),
                                None => "never".into_any(),
                            }}</td>
                            <td data-testid="key-state" class:warning-text=warn>{key.state.label()}</td>
                            <td class="key-actions">
                                {rollable.then(|| view! { <RollForm token=token roll=roll key_id=key.id name=name_roll /> })}
                                {usable.then(|| view! {
                                    <Confirm open="Revoke" consequence=format!("Every request that presents “{}” will be refused at once; this cannot be undone.", name_again)>
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="project" value=token />
                                            <input type="hidden" name="key_id" value=key.id />
                                            <button type="submit" class="danger">{format!("Revoke {}", name_again)}</button>
                                        </ActionForm>
                                    </Confirm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}

/// Roll: a successor now, the old key valid for the grace period picked here.
#[component]
fn RollForm(token: Signal<String>, roll: ServerAction<RollKey>, key_id: i64, name: String) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary>"Roll"</summary>
            <div class="confirm-body">
                <p>{format!("A new secret for “{name}” with the same role, limits, networks and lifetime; the current one keeps working for the grace period, so deployments can switch without failures.")}</p>
                <ActionForm action=roll>
                    <input type="hidden" name="project" value=token />
                    <input type="hidden" name="key_id" value=key_id />
                    <label>"Old key stays valid for "
                        <select name="grace_hours">
                            <option value="1">"1 hour"</option>
                            <option value="24" selected>"24 hours"</option>
                            <option value="168">"7 days"</option>
                            <option value="720">"30 days"</option>
                            <option value="0">"no grace: refuse it now"</option>
                        </select>
                    </label>
                    <button type="submit" class="primary">{format!("Roll {name}")}</button>
                </ActionForm>
            </div>
        </details>
    }
}
