use leptos::prelude::*;

use imgflush::domain::Role;

use crate::components::{flash, or_error, Announce, Confirm, CopyButton, ErrorNotice, LocalTime};
use crate::error::AppError;
use crate::model::{AddedMember, MemberChanged, MembersView};
use crate::pages::project_page;
use crate::serverfns::{list_members, AddMember, ChangeMemberRole, ReinviteMember, RemoveMember};

/// Members of the project: admins add (with an invitation for new users),
/// change roles and remove; the operator's staff only look.
#[component]
pub fn MembersPage() -> impl IntoView {
    project_page("Members", |token| view! { <MembersBody token /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn MembersBody(token: String) -> impl IntoView {
    let token = Signal::stored(token);
    crate::platform::island_ready();
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let reinvite = ServerAction::<ReinviteMember>::new();
    let kept = flash("invite");
    let kept_change = flash("member_changed");
    // One answer at a time: the last action's replaces the one before.
    let answer = RwSignal::new(None::<Answer>);
    let add_form = NodeRef::<leptos::html::Form>::new();
    answer_with(answer, move || add.value().get(), Answer::Added);
    answer_with(answer, move || reinvite.value().get(), Answer::Added);
    answer_with(answer, move || change.value().get(), Answer::Changed);
    answer_with(answer, move || remove.value().get(), Answer::Changed);
    // A member added: the form is ready for the next.
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_))) {
            if let Some(form) = add_form.get_untracked() {
                form.reset();
            }
        }
    });
    let members = Resource::new(
        move || (token.get(), add.version().get(), change.version().get(), remove.version().get()),
        |(token, ..)| list_members(token),
    );
    view! {
        <h1>"Members"</h1>
        {move || answer.get().map(|a| match a {
            Answer::Added(a) => view! { <Added a=a /> }.into_any(),
            Answer::Changed(c) => view! { <Changed c=c /> }.into_any(),
            Answer::Error(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        // Without JavaScript: what the last plain post did.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let added = kept.await.and_then(|json| serde_json::from_str::<AddedMember>(&json).ok());
                let changed = kept_change.await.and_then(|json| serde_json::from_str::<MemberChanged>(&json).ok());
                view! {
                    {added.map(|a| view! { <Added a=a /> })}
                    {changed.map(|c| view! { <Changed c=c /> })}
                }
            })}
        </Suspense>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(members.await, move |m| view! { <Members m=m token=token add=add add_form=add_form change=change remove=remove reinvite=reinvite /> })
            })}
        </Transition>
    }
}

/// Puts each answer of an action (`value`) in the page's one answer slot.
fn answer_with<T: 'static>(
    answer: RwSignal<Option<Answer>>,
    value: impl Fn() -> Option<Result<T, AppError>> + 'static,
    wrap: fn(T) -> Answer,
) {
    Effect::new(move |_| {
        if let Some(r) = value() {
            answer.set(Some(r.map_or_else(Answer::Error, wrap)));
        }
    });
}

/// What the page answers after an action.
#[derive(Clone)]
enum Answer {
    Added(AddedMember),
    Changed(MemberChanged),
    Error(AppError),
}

/// A role changed, or a member removed.
#[component]
fn Changed(c: MemberChanged) -> impl IntoView {
    let text = match c.role {
        Some(role) => format!("{} is now {}.", c.email, role.label()),
        None => format!(
            "Removed {} from the project: they can no longer open it, and an invitation link they still held no longer works.",
            c.email
        ),
    };
    view! { <Announce testid="member-changed">{text}</Announce> }
}

#[component]
fn Added(a: AddedMember) -> impl IntoView {
    view! {
        <div class="notice notice-ok" role="status" data-testid="member-added">
            <p>{a.email.clone()} " is invited as " {a.role.label()} "."</p>
            {a.invite_url.or(a.invite_path).map(|path| view! {
                <p>"Send them this one-time link (it works once, for 7 days, and is shown only now): someone new sets their password with it; someone who already has an account accepts with their own password. "
                    <code data-testid="invite-link">{path.clone()}</code> " "
                    <CopyButton text=path label="Copy the invitation link" />
                </p>
            })}
        </div>
    }
}

#[component]
fn Members(
    m: MembersView,
    token: Signal<String>,
    add: ServerAction<AddMember>,
    add_form: NodeRef<leptos::html::Form>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    reinvite: ServerAction<ReinviteMember>,
) -> impl IntoView {
    let admin = m.role.can_manage();
    let me = m.me;
    view! {
        <table class="members" data-testid="members">
            <thead><tr><th>"E-mail"</th><th>"Role"</th><th>"Last sign-in"</th>{admin.then(|| view! { <th>"Change role"</th><th>"Remove"</th> })}</tr></thead>
            <tbody>
                {m.members.into_iter().map(|u| {
                    let email = u.email.clone();
                    let select_label = format!("New role for {}", u.email);
                    let consequence = format!(
                        "{} loses access to this project at once; an invitation link they still hold stops working.",
                        u.email
                    );
                    let remove_label = format!("Remove {}", u.email);
                    let reinvite_label = format!("New invitation link for {}", u.email);
                    view! {
                        <tr data-member=email>
                            <td>{u.email.clone()} {(u.user_id == me).then_some(" (you)")}</td>
                            <td>{u.role.label()}</td>
                            <td>{match (u.last_sign_in, u.invited) {
                                (_, true) => view! {
                                    "invited, has not accepted yet"
                                    {admin.then(|| view! {
                                        <ActionForm action=reinvite attr:class="inline">
                                            <input type="hidden" name="project" value=token />
                                            <input type="hidden" name="user_id" value=u.user_id />
                                            <button type="submit" aria-label=reinvite_label>"New link"</button>
                                        </ActionForm>
                                    })}
                                }.into_any(),
                                (Some(t), false) => view! { <LocalTime at=t /> }.into_any(),
                                (None, false) => "never".into_any(),
                            }}</td>
                            {admin.then(|| view! {
                                <td>
                                    <ActionForm action=change attr:class="inline">
                                        <input type="hidden" name="project" value=token />
                                        <input type="hidden" name="user_id" value=u.user_id />
                                        <select name="role" aria-label=select_label>
                                            {Role::ALL.into_iter().map(|r| {
                                                let current = r == u.role;
                                                view! { <option value=r.as_str() selected=current>{r.label()}</option> }
                                            }).collect_view()}
                                        </select>
                                        <button type="submit">"Change"</button>
                                    </ActionForm>
                                </td>
                                <td>
                                    <Confirm open="Remove" consequence>
                                        <ActionForm action=remove>
                                            <input type="hidden" name="project" value=token />
                                            <input type="hidden" name="user_id" value=u.user_id />
                                            <button type="submit" class="danger">{remove_label}</button>
                                        </ActionForm>
                                    </Confirm>
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {admin.then(|| view! {
            <section class="card">
                <h2>"Add a member"</h2>
                <p class="muted">"Everyone added gets a one-time link: someone new sets their password with it, someone with an account accepts with their own password. Until then they are listed as invited and have no access."</p>
                <ActionForm action=add node_ref=add_form>
                    <input type="hidden" name="project" value=token />
                    <label>"E-mail " <input type="email" name="email" required maxlength="254" autocomplete="off" /></label>
                    <label>"Role "
                        <select name="role">
                            <option value="editor">"Editor — submits and retries"</option>
                            <option value="support">"Support — read-only"</option>
                            <option value="admin">"Admin — everything"</option>
                        </select>
                    </label>
                    <button type="submit" class="primary">"Add member"</button>
                </ActionForm>
            </section>
        })}
    }
}
