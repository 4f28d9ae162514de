//! `server edge secret`: a project's purge secret on an edge node.

use anyhow::{anyhow, bail};

use imgflush::domain::ProjectToken;

use crate::config::Config;

/// `server edge secret --token T`: the purge secret of project `T` on the
/// node whose secret is `node_secret` (EDGE_PURGE_SECRET), else on the
/// embedded edge (its `{edge.data_dir}/edge.secret`, made by `server serve`).
pub fn edge_secret(config: &Config, token: &str, node_secret: Option<String>) -> anyhow::Result<()> {
    let token = ProjectToken::parse(token).map_err(|e| anyhow!("--token: {e}"))?;
    let node = match node_secret.filter(|s| !s.trim().is_empty()) {
        Some(s) => s.trim().to_owned(),
        None => {
            let file = crate::demo::node_secret_file(config);
            let s = std::fs::read_to_string(&file).map_err(|e| {
                anyhow!(
                    "no node secret: set EDGE_PURGE_SECRET to the edge's --purge-secret, \
                     or run `server` once so the embedded edge makes {} ({e})",
                    file.display()
                )
            })?;
            s.trim().to_owned()
        }
    };
    if node.is_empty() {
        bail!("the node secret is empty: set EDGE_PURGE_SECRET");
    }
    println!("{}", edge::project_secret(&edge::Secret::new(node), token.as_str()));
    Ok(())
}
