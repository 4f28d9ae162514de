//! Two-step sign-in pages: the one-time code after the password, and the
//! authenticator set-up (from the account page, or required by the owners'
//! policy before the sign-in completes). Both post plain forms, so they work
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::ErrorNotice;
use crate::error::AppError;
use crate::serverfns::{pending_sign_in, two_step_setup, SetupView};

/// `/login/code`: the authenticator's code (or a recovery code) for a
/// sign-in whose password was right.
#[component]
pub fn LoginCodePage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|e| match e.as_str() {
            "throttled" => "Too many attempts. Wait a few minutes and try again.",
            _ => "That code is wrong or was used already. Type the code your app shows now.",
        })
    };
    let pending = Resource::new(|| (), |_| pending_sign_in());
    view! {
        <Title text="Two-step sign-in" />
        <main class="login">
            <h1>"Two-step sign-in"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(p) => view! {
                            <p class="muted" data-testid="code-for">{format!("Signing in as {}.", p.email)}</p>
                            {p.code.then(|| view! {
                                <form method="post" action="/login/code" class="card">
                                    {error().map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
                                    <label>
                                        "Code from your authenticator app, or a recovery code"
                                        <input type="text" name="code" autocomplete="one-time-code" required autofocus
                                            maxlength="32" spellcheck="false" autocapitalize="off" />
                                    </label>
                                    {(p.remember_days > 0).then(|| view! {
                                        <label class="check">
                                            <input type="checkbox" name="remember" value="on" />
                                            {format!(" Remember this browser for {} days", p.remember_days)}
                                        </label>
                                    })}
                                    <button type="submit" class="primary">"Verify and sign in"</button>
                                </form>
                            })}
                            {p.passkey.then(|| view! {
                                <super::passkeys::PasskeySignIn second_step=true next=String::new() />
                            })}
                            <p class="muted">{if p.code {
                                "Lost your phone? Type one of your recovery codes, or ask an owner to reset your two-step sign-in."
                            } else {
                                "Lost your passkey? Ask an owner to reset your two-step sign-in."
                            }}</p>
                        }.into_any(),
                        Err(_) => view! {
                            <p class="notice notice-error" role="alert" data-testid="code-expired">
                                "There is no sign-in waiting for a code (it took too long, or it completed). "
                                <a href="/login">"Sign in"</a>
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// `/account/two-step`: scan the QR code (or type the secret), then type
/// the app's first code.
#[component]
pub fn TwoStepSetupPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let setup = Resource::new(|| (), |_| two_step_setup());
    view! {
        <Title text="Set up two-step sign-in" />
        <main class="login two-step">
            <h1>"Set up two-step sign-in"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match setup.await {
                        Ok(s) => view! { <SetupForm s=s error=error() /> }.into_any(),
                        Err(AppError::Conflict(_)) => view! {
                            <p class="notice notice-ok" role="status">"Two-step sign-in is already on. " <a href="/account">"Back to your account"</a></p>
                        }.into_any(),
                        Err(AppError::Unauthorized) => view! {
                            <p class="notice notice-error" role="alert">"Sign in first. " <a href="/login?next=%2Faccount%2Ftwo-step">"Sign in"</a></p>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn SetupForm(s: SetupView, error: Option<String>) -> impl IntoView {
    let svg = s.qr_svg.find("<svg").map_or(String::new(), |at| s.qr_svg[at..].to_owned());
    view! {
        {s.required.then(|| view! {
            <p class="notice" role="status" data-testid="two-step-required">
                {format!("The owners require two-step sign-in for {}. Set it up to finish signing in.", s.email)}
            </p>
        })}
        <ol class="steps">
            <li>"Open an authenticator app on your phone (any that supports time-based codes)."</li>
            <li>"Scan this code, or add an account by hand with the key below."</li>
        </ol>
        <div class="qr" role="img" aria-label="QR code of the authenticator key" inner_html=svg></div>
        <p>"Key: " <code data-testid="totp-secret">{s.secret}</code></p>
        <form method="post" action="/account/two-step" class="card">
            {error.map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
            <label>
                "The 6-digit code the app shows now"
                <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8" />
            </label>
            <button type="submit" class="primary">"Turn on two-step sign-in"</button>
        </form>
        <p class="muted">"Next you get ten recovery codes: each signs you in once if you lose your phone."</p>
        <super::passkeys::PasskeySetUp />
    }
}

/// The account page's section: on or off, recovery codes (shown once when
/// new), new codes, turning it off.
#[component]
pub fn TwoStepSection() -> impl IntoView {
    use crate::components::{flash, or_error, Announce};
    use crate::serverfns::{two_step_status, NewRecoveryCodes, TurnOffTwoStep};

    let renew = ServerAction::<NewRecoveryCodes>::new();
    let off = ServerAction::<TurnOffTwoStep>::new();
    let kept = flash("recovery_codes");
    let factors = use_context::<super::passkeys::FactorsChanged>();
    let status = Resource::new(
        move || (renew.version().get(), off.version().get(), factors.map(|f| f.0.get())),
        |_| two_step_status(),
    );
    view! {
        <section class="card" id="two-step" data-testid="two-step">
            <h2>"Two-step sign-in"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    kept.await.map(|codes| view! { <RecoveryCodes codes=codes.lines().map(str::to_owned).collect() /> })
                })}
            </Suspense>
            {move || renew.value().get().map(|r| match r {
                Ok(codes) => view! { <RecoveryCodes codes=codes /> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            {move || off.value().get().map(|r| match r {
                Ok(()) => view! { <Announce testid="two-step-off">"Two-step sign-in is off. Your password alone signs you in."</Announce> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(status.await, move |s| if s.on {
                        view! {
                            <p data-testid="two-step-state">{format!("On: a code from your authenticator app is asked after your password. {} recovery codes left.", s.codes_left)}</p>
                            <div class="actions">
                                <ActionForm action=renew attr:class="inline">
                                    <label>"Current code " <input type="text" name="code" autocomplete="one-time-code" required maxlength="32" /></label>
                                    <button type="submit">"New recovery codes"</button>
                                </ActionForm>
                                {(!s.required || s.passkeys > 0).then(|| view! {
                                    <ActionForm action=off attr:class="inline">
                                        <label>"Current code " <input type="text" name="code" autocomplete="one-time-code" required maxlength="32" /></label>
                                        <button type="submit" class="danger">"Turn off"</button>
                                    </ActionForm>
                                })}
                            </div>
                            {s.required.then(|| view! { <p class="muted">"The owners require it for your account."</p> })}
                        }.into_any()
                    } else if s.passkeys > 0 {
                        view! {
                            <p data-testid="two-step-state">"On with your passkeys: one is asked after your password. No authenticator app is set up."</p>
                            <a class="button" href="/account/two-step">"Set up an authenticator app too"</a>
                        }.into_any()
                    } else {
                        view! {
                            <p data-testid="two-step-state">"Off: your password alone signs you in."</p>
                            <a class="button primary" href="/account/two-step">"Set up two-step sign-in"</a>
                        }.into_any()
                    })
                })}
            </Transition>
        </section>
    }
}

/// New recovery codes, shown once.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="notice notice-ok" role="status" data-testid="recovery-codes">
            <p><strong>"Your recovery codes."</strong> " Each signs you in once without your phone. Keep them somewhere safe: they are shown only now."</p>
            <ul class="codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
        </div>
    }
}

/// The Users page's sign-in policy (owners change it; staff read it).
#[component]
pub fn PolicyForm() -> impl IntoView {
    use crate::components::{or_error, Announce};
    use crate::serverfns::{get_sign_in_policy, SetSignInPolicy};
    use imgflush::domain::sign_in_policy::{SecondFactorRule, MAX_REMEMBER_DAYS};

    let set = ServerAction::<SetSignInPolicy>::new();
    let policy = Resource::new(move || set.version().get(), |_| get_sign_in_policy());
    view! {
        <section class="card" data-testid="sign-in-policy">
            <h2>"Sign-in policy"</h2>
            {move || set.value().get().map(|r| match r {
                Ok(n) => view! { <Announce testid="policy-saved">{saved_policy_text(n)}</Announce> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_error(policy.await, move |p| { let owner = p.can_change; view! {
                        <ActionForm action=set>
                            <label>
                                "Two-step sign-in required for "
                                <select name="second_factor_for" disabled=!owner>
                                    {SecondFactorRule::ALL.into_iter().map(|r| {
                                        let selected = r == p.second_factor_for;
                                        view! { <option value=r.as_str() selected=selected>{r.label()}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                            <label>
                                "Remember a browser for (days, 0 = ask every time) "
                                <input type="number" name="remember_days" min="0" max=MAX_REMEMBER_DAYS.to_string()
                                    value=p.remember_days.to_string() required disabled=!owner />
                            </label>
                            {owner.then(|| view! { <button type="submit" class="primary">"Save policy"</button> })}
                        </ActionForm>
                    }})
                })}
            </Transition>
        </section>
    }
}

/// "Saved. 1 user without a second factor was signed out…"
fn saved_policy_text(n: usize) -> String {
    let users = imgflush::domain::count(n as u64, "user", "users");
    let were = if n == 1 { "was" } else { "were" };
    format!("Saved. {users} without a second factor {were} signed out; they set one up at their next sign-in.")
}
