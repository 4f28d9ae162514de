//! `server backup`, `server restore` and `server migrate`: the database as a
//! whole. SQLite is copied by the console itself; PostgreSQL has its own
//! tools, named in the refusal.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use imgflush::backend::store::maintenance::{self as data, Checked, MigrationStatus};

use crate::config::Config;

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (its directory must exist).
    #[arg(long)]
    to: PathBuf,
    /// Replace `--to` when it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup made by `server backup` (or any copy of an imgflush SQLite database).
    #[arg(long)]
    from: PathBuf,
    /// Replace the configured database when it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct MigrateArgs {
    /// List the applied and pending migrations; apply nothing.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: one JSON document instead of lines.
    #[arg(long, requires = "dry_run")]
    json: bool,
}

pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    let url = config.database.url.expose();
    if data::is_postgres(url) {
        bail!("{}", postgres_tools(url, "backup"));
    }
    let made = data::backup_sqlite(url, &args.to, args.force).await?;
    println!(
        "backed up {} to {} in {:.1} s",
        made.source.display(),
        made.checked.path.display(),
        made.took.as_secs_f64()
    );
    describe(&made.checked);
    Ok(())
}

pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let url = config.database.url.expose();
    if data::is_postgres(url) {
        bail!("{}", postgres_tools(url, "restore"));
    }
    let done = data::restore_sqlite(&args.from, url, args.force).await?;
    let how = if done.replaced { "replacing the database that was there" } else { "a new database" };
    println!("restored {} into {} ({how})", args.from.display(), done.database.display());
    for side in &done.removed {
        println!("  removed the old database's {}", side.display());
    }
    describe(&done.checked);
    let pending = done.checked.migrations.pending.len();
    if pending > 0 {
        println!(
            "  the console applies the {} when it starts (or run `server migrate`)",
            imgflush::domain::count(pending as u64, "pending migration", "pending migrations")
        );
    }
    Ok(())
}

pub async fn migrate(config: &Config, args: MigrateArgs) -> anyhow::Result<()> {
    let url = config.database.url.expose();
    if args.dry_run {
        let status = data::migration_status(url).await?;
        if args.json {
            super::print_json(&status_document(&status))?;
            return match status.problem() {
                Some(problem) => bail!("this build cannot run on the database: {problem}"),
                None => Ok(()),
            };
        }
        list(&status);
        match status.problem() {
            Some(problem) => bail!("this build cannot run on the database: {problem}"),
            None => println!("{} pending; nothing applied (--dry-run)", status.pending.len()),
        }
        return Ok(());
    }
    let (before, after) = data::apply_migrations(url).await?;
    let now: Vec<_> =
        after.applied().iter().filter(|a| before.pending.iter().any(|p| p.version == a.version)).collect();
    for a in &now {
        println!("applied  {:04} {} in {:.3} s", a.version, a.description, a.took.as_secs_f64());
    }
    match now.len() {
        0 => println!("the {} database is up to date: {} migrations applied", after.dialect, after.applied().len()),
        n => println!(
            "applied {}; the {} database has all {} of this build",
            imgflush::domain::count(n as u64, "migration", "migrations"),
            after.dialect,
            after.known
        ),
    }
    Ok(())
}

/// `migrate --dry-run --json`: the same facts as [`list`], and the problem.
fn status_document(status: &MigrationStatus) -> serde_json::Value {
    let applied: Vec<_> = status
        .applied()
        .iter()
        .map(|a| {
            serde_json::json!({
                "version": a.version,
                "description": a.description,
                "seconds": a.took.as_secs_f64(),
                "known": !status.unknown.contains(&a.version),
            })
        })
        .collect();
    let pending: Vec<_> = status
        .pending
        .iter()
        .map(|p| serde_json::json!({ "version": p.version, "description": p.description }))
        .collect();
    serde_json::json!({
        "dialect": status.dialect,
        "database_exists": status.exists,
        "applied": applied,
        "pending": pending,
        "problem": status.problem(),
    })
}

/// One line per migration: applied (and how long it took), then pending.
fn list(status: &MigrationStatus) {
    if !status.exists {
        println!("no database file yet: the console creates it at its first start (or `server migrate`)");
    }
    for a in status.applied() {
        let mark = if status.unknown.contains(&a.version) { "unknown " } else { "applied " };
        println!("{mark} {:04} {} ({:.3} s)", a.version, a.description, a.took.as_secs_f64());
    }
    for p in &status.pending {
        println!("pending  {:04} {}", p.version, p.description);
    }
}

fn describe(c: &Checked) {
    let n = &c.counts;
    let audit = n.audit_events.map_or(String::new(), |a| format!(", {a} audit events"));
    let m = &c.migrations;
    println!("  {} bytes ({:.1} MB); PRAGMA integrity_check: ok", c.bytes, c.bytes as f64 / 1e6);
    println!(
        "  {} projects, {} invalidations, {} users, {} API keys{audit}",
        n.projects, n.invalidations, n.users, n.api_keys
    );
    println!("  migrations: {} applied, {} pending for this build", m.applied().len(), m.pending.len());
}

/// The refusal for PostgreSQL: its own tools do this, consistently, online.
fn postgres_tools(url: &str, what: &str) -> String {
    let (shown, password) = without_password(url);
    let then = if password { "\n(give the password in PGPASSWORD or ~/.pgpass)" } else { "" };
    format!(
        "database.url is PostgreSQL: `server {what}` copies SQLite databases only. Use PostgreSQL's tools:\n  \
         backup:  pg_dump -Fc -f imgflush.dump '{shown}'\n  \
         restore: pg_restore --clean --if-exists --no-owner -d '{shown}' imgflush.dump\n\
         (stop the consoles and workers before a restore; they apply pending migrations when they start){then}"
    )
}

/// `url` with its password left out, and whether it had one.
fn without_password(url: &str) -> (String, bool) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_owned(), false) };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (auth, host),
        None => return (url.to_owned(), false),
    };
    match auth.split_once(':') {
        Some((user, _)) => (format!("{scheme}://{user}@{host}"), true),
        None => (url.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_refusal_names_both_tools_and_never_the_password() {
        let text = postgres_tools("postgres://app:s3cret@db.internal:5432/imgflush", "backup");
        assert!(text.contains("pg_dump -Fc") && text.contains("pg_restore"), "{text}");
        assert!(text.contains("postgres://app@db.internal:5432/imgflush") && !text.contains("s3cret"), "{text}");
        assert_eq!(without_password("postgresql://u@h/d"), ("postgresql://u@h/d".into(), false));
    }
}
