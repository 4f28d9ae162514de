//! Passkeys in the console: the account page's list and "Add a passkey",
//! the same on the set-up page the owners' policy requires, and "Sign in
//! with a passkey" on the sign-in and code pages. Asking the device needs
//! JavaScript: the buttons show once the page is interactive and the
//! browser can use passkeys here, and say why not otherwise.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{or_error, Announce, ErrorNotice, LocalTime};
use crate::serverfns::{add_passkey, list_passkeys, passkey_registration, PasskeyView, RemovePasskey};
use crate::serverfns::{passkey_sign_in_options, sign_in_with_passkey};
use crate::webauthn;

/// Bumped when the account's passkeys change, so the account page's
/// two-step summary (another section) reads its state again.
#[derive(Clone, Copy)]
pub struct FactorsChanged(pub RwSignal<usize>);

impl FactorsChanged {
    fn bump(changed: Option<FactorsChanged>) {
        if let Some(FactorsChanged(n)) = changed {
            n.update(|n| *n += 1);
        }
    }
}

/// A ceremony's progress, as the page tells it.
#[derive(Clone, PartialEq)]
enum Progress {
    Idle,
    Asking,
    Failed(String),
}

/// `None` until the page is interactive, then whether passkeys work here.
fn usable() -> RwSignal<Option<bool>> {
    let usable = RwSignal::new(None);
    Effect::new(move |_| usable.set(Some(webauthn::available())));
    usable
}

/// Why the button is missing, once the page knows.
#[component]
fn Unavailable(usable: RwSignal<Option<bool>>) -> impl IntoView {
    view! {
        {move || (usable.get() == Some(false)).then(|| view! {
            <p class="muted" data-testid="passkeys-unavailable">
                "This browser cannot use passkeys here: they need a browser that supports them, on https or localhost."
            </p>
        })}
        // Until the page is interactive (and for good without script): a
        // `<noscript>` would not show where script is merely switched off.
        {move || usable.get().is_none().then(|| view! {
            <p class="muted" data-testid="passkeys-need-script">"Passkeys need JavaScript."</p>
        })}
    }
}

#[component]
fn Failure(progress: RwSignal<Progress>) -> impl IntoView {
    move || match progress.get() {
        Progress::Failed(why) => {
            Some(view! { <p class="notice notice-error" role="alert" data-testid="passkey-error">{why}</p> })
        }
        _ => None,
    }
}

/// The account page's section: the passkeys, each removable, and "Add a passkey".
#[component]
pub fn PasskeysSection() -> impl IntoView {
    let remove = ServerAction::<RemovePasskey>::new();
    let added = RwSignal::new(0usize);
    let keys = Resource::new(move || (remove.version().get(), added.get()), |_| list_passkeys());
    // Read here, while the section is built: the callbacks run later, outside it.
    let changed = use_context::<FactorsChanged>();
    Effect::new(move |_| {
        if remove.value().get().is_some_and(|r| r.is_ok()) {
            FactorsChanged::bump(changed);
        }
    });
    view! {
        <section class="card" id="passkeys" data-testid="passkeys">
            <h2>"Passkeys"</h2>
            <p class="muted">
                "A passkey signs you in with your device's screen lock or security key: instead of your password, or as the second step after it."
            </p>
            {move || remove.value().get().map(|r| match r {
                Ok(()) => view! { <Announce testid="passkey-removed">"Passkey removed."</Announce> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            {move || (added.get() > 0).then(|| view! { <Announce testid="passkey-added">"Passkey added."</Announce> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(keys.await, move |list| view! { <PasskeyTable list=list remove=remove /> })
                })}
            </Transition>
            <AddPasskey confirm=true on_added=move |_| {
                added.update(|n| *n += 1);
                FactorsChanged::bump(changed);
            } />
        </section>
    }
}

#[component]
fn PasskeyTable(list: Vec<PasskeyView>, remove: ServerAction<RemovePasskey>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p data-testid="passkey-none">"No passkeys yet."</p> }.into_any();
    }
    view! {
        <table data-testid="passkey-list">
            <thead><tr><th>"Name"</th><th>"Added"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|k| {
                    let label = format!("Remove the passkey {}", k.name);
                    view! {
                        <tr>
                            <td>{k.name.clone()}</td>
                            <td><LocalTime at=k.created /></td>
                            <td>{match k.last_used {
                                Some(at) => view! { <LocalTime at=at /> }.into_any(),
                                None => view! { "never" }.into_any(),
                            }}</td>
                            <td>
                                <ActionForm action=remove attr:class="inline">
                                    <input type="hidden" name="id" value=k.id.to_string() />
                                    <button type="submit" class="danger" aria-label=label>"Remove"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Name it (and, when signed in, confirm the current password: a passkey
/// outlives the session), then the device makes it. `on_added` gets where a
/// sign-in the passkey completed goes next.
#[component]
fn AddPasskey(confirm: bool, #[prop(into)] on_added: Callback<Option<String>>) -> impl IntoView {
    let usable = usable();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let progress = RwSignal::new(Progress::Idle);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        progress.set(Progress::Asking);
        let name = name.get_untracked();
        let current = confirm.then(|| password.get_untracked());
        spawn_local(async move {
            let added = async {
                let options = passkey_registration(current).await.map_err(|e| e.to_string())?;
                let credential = webauthn::create(options).await?;
                add_passkey(name, credential).await.map_err(|e| e.to_string())
            }
            .await;
            match added {
                Ok(added) => {
                    progress.set(Progress::Idle);
                    password.set(String::new());
                    on_added.run(added.next);
                }
                Err(why) => progress.set(Progress::Failed(why)),
            }
        });
    };
    view! {
        <form class="inline" data-testid="add-passkey" on:submit=add hidden=move || usable.get() != Some(true)>
            <label>
                "Name "
                <input type="text" name="name" required maxlength="60" placeholder="Work laptop" bind:value=name />
            </label>
            {confirm.then(|| view! {
                <label>
                    "Current password "
                    <input type="password" name="current_password" autocomplete="current-password" required bind:value=password />
                </label>
            })}
            <button type="submit" class="primary" disabled=move || progress.get() == Progress::Asking>
                {move || if progress.get() == Progress::Asking { "Waiting for your device…" } else { "Add a passkey" }}
            </button>
        </form>
        <Failure progress=progress />
        <Unavailable usable=usable />
    }
}

/// The set-up page's other way: a passkey instead of the authenticator app.
#[island(lazy)]
pub fn PasskeySetUp() -> impl IntoView {
    crate::platform::island_ready();
    let done = move |next: Option<String>| webauthn::go_to(next.as_deref().unwrap_or("/account#passkeys"));
    view! {
        <section class="card" data-testid="passkey-set-up">
            <h2>"Or use a passkey"</h2>
            <p class="muted">"Your device's screen lock or a security key confirms each sign-in instead of a code."</p>
            <AddPasskey confirm=false on_added=done />
        </section>
    }
}

/// "Sign in with a passkey": instead of the password (the device names the
/// account), or as the second step after it (`second_step`).
#[island(lazy)]
pub fn PasskeySignIn(second_step: bool, next: String) -> impl IntoView {
    crate::platform::island_ready();
    let usable = usable();
    let progress = RwSignal::new(Progress::Idle);
    let next = StoredValue::new(next);
    let go = move |_| {
        progress.set(Progress::Asking);
        let next = next.get_value();
        spawn_local(async move {
            let signed = async {
                let options = passkey_sign_in_options(second_step).await.map_err(|e| e.to_string())?;
                let credential = webauthn::get(options).await?;
                sign_in_with_passkey(credential, Some(next)).await.map_err(|e| e.to_string())
            }
            .await;
            match signed {
                Ok(to) => webauthn::go_to(&to),
                Err(why) => progress.set(Progress::Failed(why)),
            }
        });
    };
    let label = if second_step { "Use a passkey instead" } else { "Sign in with a passkey" };
    view! {
        <div class="passkey-sign-in" data-testid="passkey-sign-in" hidden=move || usable.get() != Some(true)>
            <button type="button" on:click=go disabled=move || progress.get() == Progress::Asking>
                {move || if progress.get() == Progress::Asking { "Waiting for your device…" } else { label }}
            </button>
        </div>
        <Failure progress=progress />
        {second_step.then(|| view! { <Unavailable usable=usable /> })}
    }
}
