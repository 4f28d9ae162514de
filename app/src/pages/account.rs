use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::or_error;
use crate::components::{flash, Announce, ErrorNotice, LocalTime};
use crate::model::{InviteView, SessionView};
use crate::pages::instance_page;
use crate::serverfns::{
    invitation, my_sessions, AcceptInvitation, AcceptJoin, ChangePassword, EndSession, EndSessions,
};

/// The signed-in user's own account: change the password (current one
/// required; every other session ends) and the signed-in sessions.
#[component]
pub fn AccountPage() -> impl IntoView {
    instance_page("Your account", || view! { <AccountBody /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn AccountBody() -> impl IntoView {
    crate::platform::island_ready();
    provide_context(crate::pages::passkeys::FactorsChanged(RwSignal::new(0)));
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <h1>"Your account"</h1>
        {move || change.value().get().map(|r| match r {
            Ok(()) => view! { <p class="notice notice-ok" role="status" data-testid="password-changed">"Password changed. Your other sessions have ended."</p> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <section class="card">
            <h2>"Change your password"</h2>
            <ActionForm action=change>
                <label>"Current password " <input type="password" name="current_password" autocomplete="current-password" required /></label>
                <label>"New password " <input type="password" name="new_password" autocomplete="new-password" required minlength="10" /></label>
                <label>"New password again " <input type="password" name="confirm" autocomplete="new-password" required minlength="10" /></label>
                <button type="submit" class="primary">"Change password"</button>
            </ActionForm>
        </section>
        <crate::pages::two_step::TwoStepSection />
        <crate::pages::passkeys::PasskeysSection />
        <Sessions changed=change.version() />
    }
}

/// Where the account is signed in: device, address, last seen; sign out one
/// session, every other one, or everywhere.
#[component]
fn Sessions(changed: RwSignal<usize>) -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let end_all = ServerAction::<EndSessions>::new();
    let kept = flash("session_ended");
    let sessions =
        Resource::new(move || (changed.get(), end.version().get(), end_all.version().get()), |_| my_sessions());
    let said = move |what: &str| match what {
        "one" => "Signed out that session: its next request goes to the sign-in page.",
        _ => "Signed out every other session; this one stays signed in.",
    };
    view! {
        <section class="card" data-testid="sessions">
            <h2>"Where you are signed in"</h2>
            {move || end.value().get().map(|r| match r {
                Ok(()) => view! { <Announce testid="session-ended">{said("one")}</Announce> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            {move || end_all.value().get().map(|r| match r {
                Ok(()) => view! { <Announce testid="session-ended">{said("others")}</Announce> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    kept.await.map(|what| view! { <Announce testid="session-ended">{said(&what)}</Announce> })
                })}
            </Suspense>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move { or_error(sessions.await, move |list| view! { <SessionTable list=list end=end /> }) })}
            </Transition>
            <div class="actions">
                <ActionForm action=end_all attr:class="inline">
                    <button type="submit">"Sign out every other session"</button>
                </ActionForm>
                <ActionForm action=end_all attr:class="inline">
                    <input type="hidden" name="everywhere" value="on" />
                    <button type="submit" class="danger">"Sign out everywhere, this session too"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn SessionTable(list: Vec<SessionView>, end: ServerAction<EndSession>) -> impl IntoView {
    view! {
        <table data-testid="session-list">
            <thead><tr><th>"Device"</th><th>"Address"</th><th>"Signed in"</th><th>"Last seen"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let label = format!("Sign out {} at {}", s.device, s.address.clone().unwrap_or_default());
                    view! {
                        <tr data-current=s.current.to_string()>
                            <td>{s.device.clone()} {s.current.then(|| view! { <strong>" (this session)"</strong> })}</td>
                            <td>{s.address.unwrap_or_else(|| "unknown".into())}</td>
                            <td><LocalTime at=s.created /></td>
                            <td><LocalTime at=s.last_seen /></td>
                            <td>{(!s.current).then(|| view! {
                                <ActionForm action=end attr:class="inline">
                                    <input type="hidden" name="session_id" value=s.id />
                                    <button type="submit" aria-label=label>"Sign out"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The one-time invitation link: the new member sets their password and is signed in.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    view! {
        <Title text="Accept your invitation" />
        <InviteBody token=token />
    }
}

/// The invitation form: an island, its code a lazily loaded chunk. A new
/// account chooses a password; an existing one, asked to join a project,
/// accepts with its own.
#[island(lazy)]
fn InviteBody(token: String) -> impl IntoView {
    crate::platform::island_ready();
    let token = Signal::stored(token);
    let link = Resource::new(move || token.get(), invitation);
    view! {
        <main class="login">
            <h1>"Welcome to imgflush"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Err(crate::error::AppError::NotFound) => view! { <InviteInvalid /> }.into_any(),
                        other => or_error(other, move |v| view! { <InviteForm v=v token=token /> }).into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn InviteInvalid() -> impl IntoView {
    view! {
        <p class="notice notice-error" role="alert" data-testid="invite-invalid">
            "This invitation link is not valid: it has expired, was used already, or its member was removed. Ask a project admin for a new one."
        </p>
    }
}

/// A link that stopped working reads as such; any other error as usual.
fn invite_error(e: crate::error::AppError) -> AnyView {
    match e {
        crate::error::AppError::NotFound => view! { <InviteInvalid /> }.into_any(),
        e => view! { <ErrorNotice error=e /> }.into_any(),
    }
}

#[component]
fn InviteForm(v: InviteView, token: Signal<String>) -> impl IntoView {
    let project = v.project_name.clone().unwrap_or_else(|| "imgflush".into());
    let role = v.role.map(|r| format!(" as {}", r.label())).unwrap_or_default();
    if v.join {
        let accept = ServerAction::<AcceptJoin>::new();
        view! {
            <p class="muted" data-testid="invite-join">
                {format!("You are invited to join {project}{role}. Enter the password of your account {} to accept.", v.email)}
            </p>
            {move || accept.value().get().and_then(Result::err).map(invite_error)}
            <ActionForm action=accept attr:class="card">
                <input type="hidden" name="token" value=token />
                <label>"Your password " <input type="password" name="password" autocomplete="current-password" required /></label>
                <button type="submit" class="primary">"Join and sign in"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        let accept = ServerAction::<AcceptInvitation>::new();
        view! {
            <p class="muted" data-testid="invite-password">
                {format!("You are invited to {project}{role}. Choose a password for {} to finish setting up your account.", v.email)}
            </p>
            {move || accept.value().get().and_then(Result::err).map(invite_error)}
            <ActionForm action=accept attr:class="card">
                <input type="hidden" name="token" value=token />
                <label>"Password " <input type="password" name="password" autocomplete="new-password" required minlength="10" /></label>
                <label>"Password again " <input type="password" name="confirm" autocomplete="new-password" required minlength="10" /></label>
                <button type="submit" class="primary">"Set password and sign in"</button>
            </ActionForm>
        }
        .into_any()
    }
}
