//! First start on an empty database: an admin (the instance's owner) and a sample project.

use imgflush::backend::auth::{normalize_email, random_password};
use imgflush::backend::store::NewProject;
use imgflush::backend::{ServiceError, Services};
use imgflush::domain::{InstanceRole, Role};

use crate::config::Config;

pub const SAMPLE_TOKEN: &str = "demo";

/// Creates the first admin and the `demo` project when there are no users yet.
/// Prints the login once; a password from `ADMIN_PASSWORD` is never printed.
pub async fn first_start(services: &Services, config: &Config) -> anyhow::Result<()> {
    if services.accounts.count().await? > 0 {
        return Ok(());
    }
    let email = normalize_email(config.bootstrap.admin_email.as_deref().unwrap_or("admin@example.com"));
    let (password, generated) = match &config.bootstrap.admin_password {
        Some(p) if !p.expose().is_empty() => (p.expose().to_owned(), false),
        _ => (random_password(), true),
    };
    let user = services.accounts.create(&email, password.clone()).await?;
    services.accounts.set_instance_role(&user, Some(InstanceRole::Owner)).await?;
    let actor = match services.projects.operator_actor(SAMPLE_TOKEN).await {
        Ok(actor) => actor,
        Err(ServiceError::NotFound) => {
            let new = NewProject {
                token: SAMPLE_TOKEN.into(),
                name: "Demo project".into(),
                origin_hosts: vec!["sample.li".into()],
            };
            services.projects.create(&new).await?;
            services.projects.operator_actor(SAMPLE_TOKEN).await?
        }
        Err(e) => return Err(e.into()),
    };
    services.projects.set_member(&actor, user.id, Role::Admin).await?;
    let (shown, once) = if generated {
        (password.as_str(), "This password is printed only once. ")
    } else {
        ("(the one in ADMIN_PASSWORD)", "")
    };
    println!(
        "\n  First start: created the admin user and the sample project {SAMPLE_TOKEN}.\n  \
         Sign in with\n    e-mail:   {email}\n    password: {shown}\n  \
         {once}Change it with: server user passwd --email {email}\n"
    );
    Ok(())
}
