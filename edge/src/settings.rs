//! Per-project settings and where the edge gets them: a static list, or the
//! console's internal endpoint polled in the background. Lookups read an
//! in-memory snapshot; the request path never waits on the console.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use imgflush::domain::TagRule;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OriginScheme {
    Http,
    #[default]
    Https,
}

impl OriginScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            OriginScheme::Http => "http",
            OriginScheme::Https => "https",
        }
    }
}

/// One project as the edge sees it; also the JSON the console serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSettings {
    pub token: String,
    /// `host`, `host:port` or `*.domain`; the edge fetches nothing else.
    #[serde(default)]
    pub allowed_origin_hosts: Vec<String>,
    #[serde(default)]
    pub origin_scheme: OriginScheme,
    /// Allow loopback/private/link-local origins (an instance owner's choice).
    #[serde(default)]
    pub allow_private_origins: bool,
    /// `host:port` entries (also in `allowed_origin_hosts`) that may be
    /// private addresses: the embedded demo origin, and nothing else.
    #[serde(default)]
    pub private_origins_allowed: Vec<String>,
    #[serde(default = "default_max_age")]
    pub max_age: u32,
    #[serde(default = "default_s_maxage")]
    pub s_maxage: u32,
    /// A CNAME host name that addresses this project.
    #[serde(default)]
    pub custom_host: Option<String>,
    /// When set, every URL must carry a valid `ci_sign` (or `ci_seal`).
    #[serde(default)]
    pub sign_salt: Option<Secret>,
    #[serde(default = "default_sign_length")]
    pub sign_length: u8,
    /// Require `ci_seal` (+ `ci_eqs`) instead of `ci_sign`.
    #[serde(default)]
    pub sealed: bool,
    /// Sealed URLs: refuse transformation parameters outside `ci_eqs`.
    #[serde(default)]
    pub strict_seal: bool,
    /// Refuse outputs larger than the source on either side.
    #[serde(default)]
    pub no_upscale: bool,
    /// CDN tag headers to label every response with (`cache-tag`,
    /// `surrogate-key`, …: one per kind of CDN the project purges), each
    /// carrying the same keys as `xkey`; unknown names are ignored.
    #[serde(default)]
    pub tag_headers: Vec<String>,
    /// Lower-case names of the origin response headers whose values are the
    /// object's cache tags (`surrogate-key`, `cache-tag`, `xkey`: space or
    /// comma separated); none read when empty.
    #[serde(default)]
    pub tag_sources: Vec<String>,
    /// Paths (or prefixes) whose objects carry a tag whatever the origin says.
    #[serde(default)]
    pub tag_rules: Vec<TagRule>,
    /// Without `force_format`, answer AVIF or WebP when `Accept` names it
    /// (and `Vary: Accept`). Older consoles send nothing: off.
    #[serde(default)]
    pub auto_format: bool,
    /// Downscale in linear light and sharpen after large reductions.
    #[serde(default)]
    pub linear_light: bool,
}

pub const DEFAULT_MAX_AGE: u32 = 30 * 24 * 3600;
pub const DEFAULT_S_MAXAGE: u32 = 365 * 24 * 3600;
pub const DEFAULT_SIGN_LENGTH: u8 = 18;

fn default_max_age() -> u32 {
    DEFAULT_MAX_AGE
}
fn default_s_maxage() -> u32 {
    DEFAULT_S_MAXAGE
}
fn default_sign_length() -> u8 {
    DEFAULT_SIGN_LENGTH
}

impl ProjectSettings {
    /// A project with defaults: https origins, nothing allowed yet.
    pub fn new(token: impl Into<String>) -> Self {
        ProjectSettings {
            token: token.into(),
            allowed_origin_hosts: Vec::new(),
            origin_scheme: OriginScheme::Https,
            allow_private_origins: false,
            private_origins_allowed: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            s_maxage: DEFAULT_S_MAXAGE,
            custom_host: None,
            sign_salt: None,
            sign_length: DEFAULT_SIGN_LENGTH,
            sealed: false,
            strict_seal: false,
            no_upscale: false,
            tag_headers: Vec::new(),
            tag_sources: Vec::new(),
            tag_rules: Vec::new(),
            auto_format: false,
            linear_light: false,
        }
    }

    fn validate(&self) -> Result<(), String> {
        imgflush::domain::ProjectToken::parse(&self.token).map_err(|e| e.to_string())?;
        if !(6..=40).contains(&self.sign_length) {
            return Err(format!("sign_length {} is not 6..=40", self.sign_length));
        }
        Ok(())
    }
}

/// `GET {console}/internal/edge/projects` answers this.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectSettings>,
}

/// An immutable snapshot of every project, indexed by token and custom host.
#[derive(Debug, Default)]
pub struct Projects {
    by_token: HashMap<String, Arc<ProjectSettings>>,
    by_host: HashMap<String, Arc<ProjectSettings>>,
}

impl Projects {
    /// Invalid entries are logged and left out, so one bad row never takes
    /// every project down.
    pub fn new(list: Vec<ProjectSettings>) -> Self {
        let mut projects = Projects::default();
        for p in list {
            if let Err(why) = p.validate() {
                tracing::warn!(token = %p.token, %why, "project settings ignored");
                continue;
            }
            let p = Arc::new(p);
            if let Some(host) = &p.custom_host {
                projects.by_host.insert(host.to_ascii_lowercase(), p.clone());
            }
            projects.by_token.insert(p.token.clone(), p);
        }
        projects
    }

    pub fn by_token(&self, token: &str) -> Option<&Arc<ProjectSettings>> {
        self.by_token.get(token)
    }

    pub fn by_custom_host(&self, host: &str) -> Option<&Arc<ProjectSettings>> {
        self.by_host.get(host)
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

/// Where the request path reads the current settings from.
pub trait SettingsSource: Send + Sync + 'static {
    fn current(&self) -> Arc<Projects>;
}

pub struct StaticSettings(Arc<Projects>);

impl StaticSettings {
    pub fn new(list: Vec<ProjectSettings>) -> Self {
        StaticSettings(Arc::new(Projects::new(list)))
    }
}

impl SettingsSource for StaticSettings {
    fn current(&self) -> Arc<Projects> {
        self.0.clone()
    }
}

/// Polls the console; keeps the last good copy while the console is away.
pub struct ConsoleSettings {
    current: RwLock<Arc<Projects>>,
}

impl SettingsSource for ConsoleSettings {
    fn current(&self) -> Arc<Projects> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ConsoleSettings {
    /// Fetches once (so a reachable console is used from the first request)
    /// and then every `interval` in a background task, which the caller
    /// aborts on shutdown.
    pub async fn start(
        url: String,
        secret: Secret,
        interval: Duration,
    ) -> (Arc<ConsoleSettings>, tokio::task::JoinHandle<()>) {
        let this = Arc::new(ConsoleSettings { current: RwLock::new(Arc::new(Projects::default())) });
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client without custom TLS always builds");
        this.poll_once(&client, &url, &secret).await;
        let task = {
            let this = this.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    this.poll_once(&client, &url, &secret).await;
                }
            })
        };
        (this, task)
    }

    async fn poll_once(&self, client: &reqwest::Client, url: &str, secret: &Secret) {
        match fetch_projects(client, url, secret).await {
            Ok(list) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Projects::new(list));
            }
            Err(e) => tracing::warn!(error = %e, "project settings poll failed; keeping the last copy"),
        }
    }
}

async fn fetch_projects(
    client: &reqwest::Client,
    url: &str,
    secret: &Secret,
) -> Result<Vec<ProjectSettings>, reqwest::Error> {
    let res = client.get(url).bearer_auth(secret.expose()).send().await?.error_for_status()?;
    Ok(res.json::<ProjectsResponse>().await?.projects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_defaults_and_validation() {
        let json = r#"{"projects":[{"token":"demo","allowed_origin_hosts":["sample.li"]},
            {"token":"Bad Token"},{"token":"short","sign_length":4}]}"#;
        let r: ProjectsResponse = serde_json::from_str(json).unwrap();
        let p = Projects::new(r.projects);
        assert_eq!(p.len(), 1);
        let demo = p.by_token("demo").unwrap();
        assert_eq!(demo.origin_scheme, OriginScheme::Https);
        assert_eq!((demo.max_age, demo.s_maxage, demo.sign_length), (DEFAULT_MAX_AGE, DEFAULT_S_MAXAGE, 18));
        assert!(!demo.allow_private_origins);
        assert!(!demo.strict_seal && !demo.no_upscale, "older consoles send neither: today's behaviour");
        assert!(demo.tag_sources.is_empty() && demo.tag_rules.is_empty(), "no tags unless configured");
        assert!(!demo.auto_format && !demo.linear_light, "older consoles send neither: today's formats");
    }

    #[test]
    fn tag_sources_and_rules_come_from_the_console() {
        let json = r#"{"token":"demo","tag_sources":["surrogate-key","cache-tag"],
            "tag_rules":[{"pattern":"/sample.li/products/*","tag":"products"}]}"#;
        let p: ProjectSettings = serde_json::from_str(json).unwrap();
        assert_eq!(p.tag_sources, ["surrogate-key", "cache-tag"]);
        assert_eq!(p.tag_rules.len(), 1);
        assert!(p.tag_rules[0].applies_to("/sample.li/products/a.jpg"));
        assert_eq!(p.tag_rules[0].tag.as_str(), "products");
    }

    #[test]
    fn salt_is_not_printed() {
        let mut p = ProjectSettings::new("demo");
        p.sign_salt = Some(Secret::new("hunter2"));
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
