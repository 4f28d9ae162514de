//! `server audit [--project TOKEN] [--action A] [--actor WHO] [--limit N] [--before ID]`:
//! the audit trail for scripts, one tab-separated line per event, newest first.

use anyhow::anyhow;
use clap::Args;

use imgflush::backend::store::{AuditEntry, AuditQuery};

use crate::config::Config;

#[derive(Args)]
pub struct AuditArgs {
    /// Only this project's events (without it: every project's and the instance's, sign-ins included).
    #[arg(long)]
    project: Option<String>,
    #[arg(long)]
    action: Option<String>,
    /// An e-mail address, `API key NAME`, or `operator (CLI)`.
    #[arg(long)]
    actor: Option<String>,
    /// Only events older than this id (the first column), for paging.
    #[arg(long)]
    before: Option<i64>,
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// One JSON array of events instead of tab-separated lines.
    #[arg(long)]
    json: bool,
}

pub async fn audit(config: &Config, args: AuditArgs) -> anyhow::Result<()> {
    let services = crate::cli::open(config).await?;
    let project_id = match &args.project {
        Some(token) => Some(crate::cli::operator(&services, token).await?.project.id),
        None => None,
    };
    let query = AuditQuery {
        project_id,
        action: args.action,
        actor: args.actor,
        before: args.before,
        limit: args.limit.clamp(1, 10_000),
    };
    let rows = services.audit.operator_log(&query).await.map_err(|e| anyhow!(e.to_string()))?;
    if args.json {
        let docs: Vec<_> = rows.iter().map(document).collect();
        crate::cli::print_json(&docs)?;
        return Ok(());
    }
    println!("id\tat\tproject\tactor\taddress\taction\tdetail\tuser_agent");
    for r in rows {
        println!("{}", line(&r));
    }
    Ok(())
}

/// One event as a line: tabs and line breaks inside fields become spaces.
fn line(r: &AuditEntry) -> String {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    [
        r.id.to_string(),
        r.at.to_rfc3339(),
        r.project.clone().unwrap_or_else(|| "-".into()),
        clean(&r.actor),
        r.ip.clone().unwrap_or_else(|| "-".into()),
        clean(&r.action),
        clean(&r.detail),
        clean(r.user_agent.as_deref().unwrap_or("-")),
    ]
    .join("\t")
}

/// One event as `--json` prints it.
fn document(r: &AuditEntry) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "at": r.at,
        "project": r.project,
        "actor": r.actor,
        "address": r.ip,
        "action": r.action,
        "detail": r.detail,
        "user_agent": r.user_agent,
    })
}
