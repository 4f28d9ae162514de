use leptos::prelude::*;

use crate::components::{flash, or_error, ErrorNotice, LocalTime};
use crate::model::HooksView;
use crate::pages::project_page;
use crate::serverfns::{list_hooks, AddHook, RemoveHook, TestHook};

/// Notification hooks: called (signed) when an invalidation ends in an
/// error status, or on every final status. Admins manage and test them.
#[component]
pub fn HooksPage() -> impl IntoView {
    project_page("Notifications", |token| view! { <HooksBody token /> })
}

/// The page's interactive part: an island, its code a lazily loaded chunk.
#[island(lazy)]
fn HooksBody(token: String) -> impl IntoView {
    let token = Signal::stored(token);
    crate::platform::island_ready();
    let add = ServerAction::<AddHook>::new();
    let remove = ServerAction::<RemoveHook>::new();
    let test = ServerAction::<TestHook>::new();
    let kept = flash("hook_test");
    let hooks = Resource::new(
        move || (token.get(), add.version().get(), remove.version().get(), test.version().get()),
        |(token, ..)| list_hooks(token),
    );
    view! {
        <h1>"Notifications"</h1>
        <p class="muted">
            "Each hook receives a JSON POST signed like the webhook target ("
            <code>"X-Imgflush-Timestamp"</code> ", " <code>"X-Imgflush-Signature: sha256=HMAC(secret, timestamp.body)"</code>
            ") when an invalidation ends in ERROR or ERROR_CDN_NODE, or on every final status if you tick it (so a CI pipeline can continue)."
        </p>
        {move || add.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {move || test.value().get().map(|r| match r {
            Ok(answer) => view! { <p class="notice" role="status" data-testid="hook-test-result">"The hook answered: " {answer}</p> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                kept.await.map(|answer| view! { <p class="notice" role="status" data-testid="hook-test-result">"The hook answered: " {answer}</p> })
            })}
        </Suspense>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                or_error(hooks.await, move |h| view! { <Hooks h=h token=token add=add remove=remove test=test /> })
            })}
        </Transition>
    }
}

#[component]
fn Hooks(
    h: HooksView,
    token: Signal<String>,
    add: ServerAction<AddHook>,
    remove: ServerAction<RemoveHook>,
    test: ServerAction<TestHook>,
) -> impl IntoView {
    let admin = h.role.can_manage();
    view! {
        {if h.hooks.is_empty() {
            view! { <p data-testid="no-hooks">"No notification hooks yet."</p> }.into_any()
        } else {
            view! {
                <table class="hooks" data-testid="hooks">
                    <thead><tr><th>"Name"</th><th>"URL"</th><th>"Called on"</th><th>"Secret"</th><th>"Last answer"</th>{admin.then(|| view! { <th>"Test"</th><th>"Remove"</th> })}</tr></thead>
                    <tbody>
                        {h.hooks.into_iter().map(|hook| {
                            let name = hook.name.clone();
                            let (test_label, remove_label) = (format!("Test {}", hook.name), format!("Remove {}", hook.name));
                            view! {
                            <tr data-hook=name>
                                <td>{hook.name.clone()}</td>
                                <td><code>{hook.url}</code></td>
                                <td>{if hook.every_final { "every final status" } else { "errors" }}</td>
                                <td>{if hook.has_secret { "set" } else { "none" }}</td>
                                <td>{hook.last_result.unwrap_or_else(|| "not called yet".into())} " " {hook.last_at.map(|t| view! { <LocalTime at=t /> })}</td>
                                {admin.then(|| view! {
                                    <td><ActionForm action=test>
                                        <input type="hidden" name="project" value=token />
                                        <input type="hidden" name="hook_id" value=hook.id />
                                        <button type="submit" aria-label=test_label>"Test"</button>
                                    </ActionForm></td>
                                    <td><ActionForm action=remove>
                                        <input type="hidden" name="project" value=token />
                                        <input type="hidden" name="hook_id" value=hook.id />
                                        <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                                    </ActionForm></td>
                                })}
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {admin.then(|| view! {
            <section class="card">
                <h2>"Add a hook"</h2>
                <ActionForm action=add>
                    <input type="hidden" name="project" value=token />
                    <label>"Name " <input name="name" required maxlength="64" placeholder="ci-pipeline" /></label>
                    <label>"HTTPS URL " <input name="url" type="url" required placeholder="https://ci.example.com/hooks/imgflush" /></label>
                    <label>"Signing secret (optional) " <input name="secret" type="password" autocomplete="off" /></label>
                    <label><input type="checkbox" name="every_final" value="on" />" Call on every final status, not only errors"</label>
                    <button type="submit" class="primary">"Add hook"</button>
                </ActionForm>
            </section>
        })}
    }
}
