//! The embedded default: `server` (what `./scripts/start.sh` runs) also runs
//! one edge and a tiny demo origin on loopback, and wires the `demo` project
//! to them, so a newcomer sees an invalidation do something:
//! open the edge URL, `server demo swap`, see the cached (stale) image,
//! invalidate, see the new one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use imgflush::backend::store::{OriginScheme, ProjectSettingsUpdate};
use imgflush::backend::targets::TargetInput;
use imgflush::backend::{ServiceError, Services};

use crate::bootstrap::SAMPLE_TOKEN;
use crate::config::{Config, Secret};

/// The sample image's name on the demo origin.
pub const SAMPLE: &str = "sample.jpg";
const TARGET_NAME: &str = "embedded-edge";

/// Where the demo origin's images live: `{edge.data_dir}/demo-origin`.
pub fn origin_dir(config: &Config) -> PathBuf {
    Path::new(&config.edge.data_dir).join("demo-origin")
}

/// Makes sure the console serves edge settings: a random token per start
/// when the operator set none (only the embedded edge uses it then).
pub fn ensure_settings_token(config: &mut Config) {
    if config.edge.embedded && config.edge.settings_token.as_ref().is_none_or(|t| t.expose().is_empty()) {
        config.edge.settings_token = Some(Secret::new(imgflush::backend::random_alphanumeric(48)));
    }
}

/// Where the embedded parts listen once started.
#[derive(Clone, Copy, Debug)]
pub struct Embedded {
    pub edge: SocketAddr,
    /// The embedded edge's admin listener (`/_purge`, `/metrics`).
    pub admin: SocketAddr,
    pub origin: SocketAddr,
}

/// Starts the demo origin and the embedded edge, and wires the demo project
/// to them. A port already in use only skips the embedded parts. With the
/// embedded edge off, the demo project loses its private-origin settings.
pub async fn start(
    config: &Config,
    services: &Services,
    console: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<Embedded>> {
    if !config.edge.embedded {
        unwire_private_origins(services).await?;
        return Ok(None);
    }
    let data = Path::new(&config.edge.data_dir);
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    write_sample(config, false)?;
    let node_secret = node_secret(data)?;

    let origin = match tokio::net::TcpListener::bind(&config.edge.demo_origin_addr).await {
        Ok(l) => l,
        Err(e) => {
            println!(
                "  demo origin not started ({}: {e}); set edge.embedded = false to silence",
                config.edge.demo_origin_addr
            );
            return Ok(None);
        }
    };
    let origin_addr = origin.local_addr()?;
    tokio::spawn(serve_origin(origin_dir(config), origin, shutdown.clone()));

    let edge_listener = match tokio::net::TcpListener::bind(&config.edge.embedded_addr).await {
        Ok(l) => l,
        Err(e) => {
            println!(
                "  embedded edge not started ({}: {e}); set edge.embedded = false to silence",
                config.edge.embedded_addr
            );
            return Ok(None);
        }
    };
    let admin_listener = match tokio::net::TcpListener::bind(&config.edge.embedded_admin_addr).await {
        Ok(l) => l,
        Err(e) => {
            println!(
                "  embedded edge not started (admin {}: {e}); set edge.embedded = false to silence",
                config.edge.embedded_admin_addr
            );
            return Ok(None);
        }
    };
    let (edge_addr, admin_addr) = (edge_listener.local_addr()?, admin_listener.local_addr()?);
    let target = TargetInput {
        kind: "edge".into(),
        name: TARGET_NAME.into(),
        url: format!("http://{admin_addr}/_purge"),
        secret: Some(edge::project_secret(&edge::Secret::new(node_secret.clone()), SAMPLE_TOKEN)),
        settings: Default::default(),
    };
    if let Err(e) = wire_demo(services, origin_addr, &[target]).await {
        // Its own purge address is allowed whatever targets.allowed_networks
        // says (Config::target_network), unless it has no fixed port.
        return Err(crate::config::refuse(format!(
            "the embedded edge's purge address http://{admin_addr}/_purge could not be added to the demo project ({e:#}): \
             give edge.embedded_admin_addr a fixed port, allow it in targets.allowed_networks, or set \
             edge.embedded = false"
        )));
    }

    let token = config.edge.settings_token.clone().map(|t| t.expose().to_owned()).unwrap_or_default();
    let settings = edge::SettingsConfig::Console {
        url: format!("http://{console}/internal/edge/projects"),
        secret: edge::Secret::new(token),
        poll_interval: std::time::Duration::from_secs(2),
    };
    let mut edge_config = edge::EdgeConfig::new(data.join("edge-cache"), edge::Secret::new(node_secret), settings);
    (edge_config.listen, edge_config.admin_listen) = (edge_addr, admin_addr);
    tokio::spawn(async move {
        let stopped = async move { shutdown.cancelled().await };
        if let Err(e) = edge::serve(edge_config, edge_listener, admin_listener, stopped).await {
            tracing::error!(error = %e, "embedded edge stopped");
        }
    });
    println!(
        "  embedded edge on http://{edge_addr} (purges and metrics on http://{admin_addr}, demo origin http://{origin_addr})\n  \
         open  http://{edge_addr}/{SAMPLE_TOKEN}/{origin_addr}/{SAMPLE}?w=400\n  \
         then  `server demo swap` changes the origin image; the edge keeps serving its cached copy\n  \
         until you invalidate /{origin_addr}/{SAMPLE} on the demo project's Invalidation page.\n"
    );
    Ok(Some(Embedded { edge: edge_addr, admin: admin_addr, origin: origin_addr }))
}

/// Serves the demo origin's images (`dir`, see [`origin_dir`]) until `shutdown`.
pub async fn serve_origin(dir: PathBuf, listener: tokio::net::TcpListener, shutdown: CancellationToken) {
    let router = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let _ = axum::serve(listener, router).with_graceful_shutdown(async move { shutdown.cancelled().await }).await;
}

/// The demo project reaches the demo origin and lists `targets`, by name:
/// each is added, or replaced when its kind, URL or secret differ (an
/// upgrade moved `edge` targets to the admin listener and a project secret).
pub async fn wire_demo(services: &Services, origin: SocketAddr, targets: &[TargetInput]) -> anyhow::Result<()> {
    let actor = match services.projects.operator_actor(SAMPLE_TOKEN).await {
        Ok(actor) => actor,
        Err(ServiceError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let p = services.projects.settings(&actor).await?;
    let host = origin.to_string();
    let mut origin_hosts = p.origin_hosts.clone();
    if !origin_hosts.contains(&host) {
        origin_hosts.push(host.clone());
    }
    // Exactly the demo origin may be a private address; never any other
    // (an earlier version allowed every private address: undone here).
    let mut edge = p.edge.clone();
    (edge.allow_private_origins, edge.private_origins_allowed) = (false, vec![host]);
    if origin_hosts != p.origin_hosts || edge != p.edge {
        edge.origin_scheme = OriginScheme::Http;
        let update = ProjectSettingsUpdate {
            name: p.name.clone(),
            origin_hosts,
            max_age_secs: p.max_age_secs,
            s_maxage_secs: p.s_maxage_secs,
            edge,
        };
        services.projects.operator_update(&actor, &update).await?;
    }
    let existing = services.targets.list(&actor).await?;
    for input in targets {
        match existing.iter().find(|t| t.name == input.name) {
            None => {
                services.targets.add(&actor, input).await?;
            }
            Some(t) if t.kind.as_str() != input.kind || t.url != input.url || t.secret != input.secret => {
                services.targets.remove(&actor, t.id).await?;
                services.targets.add(&actor, input).await?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The embedded edge is off: the demo project may fetch no private address.
pub async fn unwire_private_origins(services: &Services) -> anyhow::Result<()> {
    let actor = match services.projects.operator_actor(SAMPLE_TOKEN).await {
        Ok(actor) => actor,
        Err(ServiceError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let p = services.projects.settings(&actor).await?;
    if p.edge.allow_private_origins || !p.edge.private_origins_allowed.is_empty() {
        let mut edge = p.edge.clone();
        (edge.allow_private_origins, edge.private_origins_allowed) = (false, Vec::new());
        let update = ProjectSettingsUpdate {
            name: p.name.clone(),
            origin_hosts: p.origin_hosts.clone(),
            max_age_secs: p.max_age_secs,
            s_maxage_secs: p.s_maxage_secs,
            edge,
        };
        services.projects.operator_update(&actor, &update).await?;
    }
    Ok(())
}

/// Where the embedded edge keeps its node secret: `{edge.data_dir}/edge.secret`.
pub fn node_secret_file(config: &Config) -> PathBuf {
    Path::new(&config.edge.data_dir).join("edge.secret")
}

/// The embedded edge's node secret, made once and kept next to its cache.
fn node_secret(data: &Path) -> anyhow::Result<String> {
    let file = data.join("edge.secret");
    if let Ok(s) = std::fs::read_to_string(&file) {
        if !s.trim().is_empty() {
            return Ok(s.trim().to_owned());
        }
    }
    let s = imgflush::backend::random_alphanumeric(32);
    std::fs::write(&file, &s).with_context(|| format!("writing {}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
    }
    Ok(s)
}

/// Writes the sample image (or, with `swap`, the other of its two versions).
/// Returns which version is now on the origin.
pub fn write_sample(config: &Config, swap: bool) -> anyhow::Result<&'static str> {
    let dir = origin_dir(config);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(SAMPLE);
    let marker = dir.join(".version");
    let current = std::fs::read_to_string(&marker).unwrap_or_default();
    if path.exists() && !swap {
        return Ok(if current.trim() == "b" { "b" } else { "a" });
    }
    let next = if swap && current.trim() != "b" { "b" } else { "a" };
    let (from, to) = if next == "a" { ([255, 140, 0], [200, 30, 90]) } else { ([0, 150, 200], [40, 200, 120]) };
    let img = image::RgbImage::from_fn(1200, 800, |x, y| {
        let t = (x + y) as f32 / 2000.0;
        let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t) as u8;
        // A band of stripes so resizes are easy to tell apart.
        let stripe = if (x / 80) % 2 == 0 && y > 350 && y < 450 { 60 } else { 0 };
        image::Rgb([mix(from[0], to[0]).saturating_sub(stripe), mix(from[1], to[1]), mix(from[2], to[2])])
    });
    let tmp = dir.join(".sample.tmp");
    img.save_with_format(&tmp, image::ImageFormat::Jpeg)?;
    std::fs::rename(&tmp, &path)?;
    std::fs::write(&marker, next)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MIN_SETTINGS_TOKEN;

    #[test]
    fn the_embedded_default_settings_token_is_long_enough() {
        let mut cfg = Config::with_database("sqlite::memory:");
        cfg.edge.settings_token = None;
        cfg.edge.embedded = true;
        ensure_settings_token(&mut cfg);
        assert!(cfg.validate().is_ok());
        assert!(cfg.edge.settings_token.unwrap().expose().len() >= MIN_SETTINGS_TOKEN);
    }
}
