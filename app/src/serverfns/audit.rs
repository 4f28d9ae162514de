use leptos::prelude::*;

use crate::error::AppError;
use crate::model::AuditPage;

/// The project's audit trail (admins, the operator's staff and owners).
#[server(prefix = "/sfn", endpoint = "project_audit", output = crate::codec::Json)]
pub async fn project_audit(
    project: String,
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    let (services, caller) = crate::ssr::actor(&project).await?;
    let query = crate::ssr::audit_query(action, actor, before)?;
    let limit = query.limit;
    let rows = services.audit.project_log(&caller, query).await?;
    Ok(AuditPage::new(rows, limit))
}

/// The whole instance's audit trail, sign-ins included (owners).
#[server(prefix = "/sfn", endpoint = "instance_audit", output = crate::codec::Json)]
pub async fn instance_audit(
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let query = crate::ssr::audit_query(action, actor, before)?;
    let limit = query.limit;
    let rows = services()?.audit.instance_log(&user, query).await?;
    Ok(AuditPage::new(rows, limit))
}
