use leptos::prelude::*;

use crate::components::{or_error, Announce, ErrorNotice, LocalTime};
use crate::model::UsersView;
use crate::pages::instance_page;
use crate::serverfns::{list_users, EndUserSessions, RemoveUser, ResetTwoStep, SetInstanceRole};

/// Every user of the instance: owners give instance roles and remove users.
#[component]
pub fn UsersPage() -> impl IntoView {
    instance_page("Users", || view! { <UsersBody /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn UsersBody() -> impl IntoView {
    crate::platform::island_ready();
    let role = ServerAction::<SetInstanceRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let end = ServerAction::<EndUserSessions>::new();
    let reset = ServerAction::<ResetTwoStep>::new();
    let users =
        Resource::new(move || (role.version().get(), remove.version().get(), reset.version().get()), |_| list_users());
    view! {
        <h1>"Users"</h1>
        <p class="muted">"Owners create projects and are admins of every project; staff read every project. Project roles are set on each project's Members page."</p>
        {move || role.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || end.value().get().map(|r| match r {
            Ok(n) => view! { <Announce testid="user-sessions-ended">{format!("Signed out everywhere: {} ended, and any older one.", imgflush::domain::count(n, "listed session", "listed sessions"))}</Announce> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        {move || reset.value().get().map(|r| match r {
            Ok(email) => view! { <Announce testid="two-step-reset">{format!("Two-step sign-in of {email} reset: their sessions ended; they set it up again when the policy asks.")}</Announce> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move { or_error(users.await, move |u| view! { <Users u=u role=role remove=remove end=end reset=reset /> }) })}
        </Transition>
        <crate::pages::two_step::PolicyForm />
    }
}

#[component]
fn Users(
    u: UsersView,
    role: ServerAction<SetInstanceRole>,
    remove: ServerAction<RemoveUser>,
    end: ServerAction<EndUserSessions>,
    reset: ServerAction<ResetTwoStep>,
) -> impl IntoView {
    let owner = u.owner;
    view! {
        <table class="users" data-testid="users">
            <thead><tr><th>"E-mail"</th><th>"Instance role"</th><th>"Projects"</th><th>"Last sign-in"</th><th>"Two-step"</th>{owner.then(|| view! { <th>"Change"</th><th>"Remove"</th> })}</tr></thead>
            <tbody>
                {u.users.into_iter().map(|user| {
                    let email = user.email.clone();
                    let current = user.instance_role.map_or("none", |r| r.as_str());
                    let (select_label, remove_label) = (format!("Instance role of {}", user.email), format!("Remove {}", user.email));
                    let me = user.id == u.me;
                    let reset_label = format!("Reset two-step sign-in: {}", user.email);
                    view! {
                        <tr data-user=email>
                            <td>{user.email.clone()} {me.then_some(" (you)")}</td>
                            <td>{user.instance_role.map_or("—", |r| r.label())}</td>
                            <td>{user.projects}</td>
                            <td>{match user.last_sign_in { Some(t) => view! { <LocalTime at=t /> }.into_any(), None => "never".into_any() }}</td>
                            <td data-testid="two-step-cell">{if user.two_step { "on" } else { "off" }}</td>
                            {owner.then(|| view! {
                                <td>
                                    <ActionForm action=role attr:class="inline">
                                        <input type="hidden" name="user_id" value=user.id />
                                        <select name="instance_role" aria-label=select_label>
                                            {["none", "staff", "owner"].into_iter().map(|r| {
                                                let label = match r { "owner" => "Owner", "staff" => "Staff", _ => "None" };
                                                let selected = r == current;
                                                view! { <option value=r selected=selected>{label}</option> }
                                            }).collect_view()}
                                        </select>
                                        <button type="submit">"Change"</button>
                                    </ActionForm>
                                </td>
                                <td>{(!me).then(|| view! {
                                    {user.two_step.then(|| view! {
                                        <ActionForm action=reset>
                                            <input type="hidden" name="user_id" value=user.id />
                                            <button type="submit" aria-label=reset_label>"Reset two-step"</button>
                                        </ActionForm>
                                    })}
                                    <ActionForm action=end>
                                        <input type="hidden" name="user_id" value=user.id />
                                        <button type="submit" aria-label=format!("Sign out everywhere: {}", user.email)>"Sign out everywhere"</button>
                                    </ActionForm>
                                    <ActionForm action=remove>
                                        <input type="hidden" name="user_id" value=user.id />
                                        <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                                    </ActionForm>
                                })}</td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
