//! First start on an empty database: an admin and a sample project.

use imgflush::backend::auth::{hash_password, normalize_email, random_password};
use imgflush::backend::now_ms;
use imgflush::backend::store::{DynStore, NewProject};
use imgflush::domain::Role;

use crate::config::Config;

pub const SAMPLE_TOKEN: &str = "demo";

/// Creates the first admin and the `demo` project when there are no users yet.
/// Prints the login once; a password from `ADMIN_PASSWORD` is never printed.
pub async fn first_start(store: &DynStore, config: &Config) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let email = normalize_email(config.bootstrap.admin_email.as_deref().unwrap_or("admin@example.com"));
    let (password, generated) = match &config.bootstrap.admin_password {
        Some(p) if !p.expose().is_empty() => (p.expose().to_owned(), false),
        _ => (random_password(), true),
    };
    let user = store.create_user(&email, &hash_password(password.clone()).await?, now_ms()).await?;
    let project = match store.project_by_token(SAMPLE_TOKEN).await {
        Ok(p) => p,
        Err(_) => {
            store
                .create_project(
                    &NewProject {
                        token: SAMPLE_TOKEN.into(),
                        name: "Demo project".into(),
                        origin_hosts: vec!["sample.li".into()],
                    },
                    now_ms(),
                )
                .await?
        }
    };
    store.set_membership(user.id, project.id, Role::Admin).await?;
    let shown = if generated { password.as_str() } else { "(the one in ADMIN_PASSWORD)" };
    println!(
        "\n  First start: created the admin user and the sample project `{SAMPLE_TOKEN}`.\n  \
         Sign in with\n    e-mail:   {email}\n    password: {shown}\n  \
         This password is printed only once. Change it with `server user passwd --email {email}`.\n"
    );
    Ok(())
}
