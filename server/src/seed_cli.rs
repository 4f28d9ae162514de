//! `server seed --project TOKEN [--count N] [--days D]`: many finished
//! invalidations at once, to see how the log behaves as it grows
//! (`bench/run.sh logpage` uses it). Not for production projects.

use clap::Args;

use crate::config::Config;

#[derive(Args)]
pub struct SeedArgs {
    #[arg(long)]
    project: String,
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// Spread them over this many days before now (keep it below the
    /// project's retention, or the hourly pruning removes them).
    #[arg(long, default_value_t = 30)]
    days: i64,
}

pub async fn seed(config: &Config, args: SeedArgs) -> anyhow::Result<()> {
    let services = crate::cli::open(config).await?;
    let actor = crate::cli::operator(&services, &args.project).await?;
    let started = std::time::Instant::now();
    let stored = services.invalidations.seed(&actor, args.count, args.days).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("seeded {stored} invalidations into {} in {secs:.1} s ({:.0}/s)", args.project, stored as f64 / secs);
    Ok(())
}
