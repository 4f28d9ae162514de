//! What the server functions send to the pages.

use serde::{Deserialize, Serialize};

use imgflush::domain::{InstanceRole, Role, Scope, Status, TargetKind};

pub use crate::answers::{AddedMember, CreatedKey, MemberChanged, TargetRemoved, TargetTestAnswer};
pub use crate::sso_views::{SsoChoice, SsoProviderRow, SsoView};
pub use crate::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub token: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub instance_role: Option<InstanceRole>,
    pub projects: Vec<ProjectRef>,
}

impl Me {
    pub fn project(&self, token: &str) -> Option<&ProjectRef> {
        self.projects.iter().find(|p| p.token == token)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub status: Status,
    pub scope: Scope,
    pub created: Timestamp,
    pub paths: Vec<String>,
    pub submitted_by: String,
    pub attempt: i32,
    /// Scheduled: no worker claims it before this time.
    pub not_before: Option<Timestamp>,
    /// An errored row: its first failed target and the short reason, e.g.
    /// `node-a (HTTP 503)`, and how many more failed.
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    /// Cursor for the next (older) page, when there is one.
    pub next: Option<String>,
    pub role: Role,
}

/// The Invalidation page's form: the caller's role, and the scope and paths
/// it starts with ("Copy to new").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormStart {
    pub role: Role,
    pub initial: Option<(Scope, Vec<String>)>,
    /// The project asks for a confirmation above a preview's figures
    /// (objects, megabytes): the form offers the box.
    pub confirm_above: Option<(Option<u64>, Option<u64>)>,
    /// The project's allowed origin hosts (empty: none set): a path under
    /// another host gets a warning.
    pub origin_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub status: Status,
    pub attempt: i32,
    pub note: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResultView {
    pub name: String,
    pub kind: TargetKind,
    pub state: String,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub updated: Timestamp,
    /// The node's proof (the project's verify setting); `None`: not checked.
    pub verified: Option<bool>,
    pub verify_note: Option<String>,
    /// For a failed target: what to do about it, in plain words.
    pub next_step: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetailView {
    pub row: LogRow,
    pub error: Option<String>,
    pub finished: Option<Timestamp>,
    pub events: Vec<EventView>,
    pub targets: Vec<TargetResultView>,
    pub role: Role,
    pub token: String,
    /// Where users reach the console (`server.public_url` or the request's
    /// host), for links meant to leave it.
    pub base_url: String,
    /// For a reader who cannot Retry: the project's admins, to ask.
    pub admins: Vec<String>,
}

impl DetailView {
    /// The details page's full address: a permalink any member (or owner,
    /// staff) can open, pasted anywhere.
    pub fn permalink(&self) -> String {
        format!("{}/p/{}/invalidation/{}", self.base_url, self.token, self.row.id)
    }
}

/// A project member as the Members page shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub last_sign_in: Option<Timestamp>,
    pub invited: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembersView {
    pub members: Vec<MemberView>,
    /// The caller's role: admins change members, staff only look.
    pub role: Role,
    pub me: i64,
}

/// What an invitation link offers, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteView {
    pub email: String,
    /// An existing account asked to join (accepts with its own password);
    /// otherwise a new account sets its password.
    pub join: bool,
    pub project_name: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub id: i64,
    pub kind: TargetKind,
    pub name: String,
    /// The URL with any credentials removed.
    pub url: String,
    pub has_secret: bool,
    /// The kind's public settings by key (zone ID, plan, …); never credentials.
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    /// A provider's credentials are stored (their values never leave the server).
    #[serde(default)]
    pub has_credentials: bool,
    /// Paths sent this month (CloudFront, which charges per path past
    /// 1,000 a month per account).
    #[serde(default)]
    pub paths_this_month: Option<i64>,
}

impl TargetView {
    /// The public settings in a few words, in the kind's form order, e.g.
    /// `zone 023e…, plan free, dedicated`.
    pub fn settings_summary(&self) -> Vec<(&'static str, String)> {
        use imgflush::domain::target::Check;
        self.kind
            .spec()
            .settings
            .iter()
            .filter(|spec| !spec.secret)
            .filter_map(|spec| {
                let value = self.settings.get(spec.key)?;
                // A tier means something only for a shield.
                use imgflush::domain::target::{SHIELD, SHIELD_TIER};
                if spec.key == SHIELD_TIER.key && self.settings.get(SHIELD.key).map(String::as_str) != Some("on") {
                    return None;
                }
                let short = spec.label.strip_suffix(" ID").unwrap_or(spec.label).to_lowercase();
                let text = match spec.check {
                    Check::Flag if value == "on" => spec.key.replace('_', " "),
                    Check::Flag => return None,
                    Check::Hex32 => format!("{short} {}…", value.chars().take(4).collect::<String>()),
                    _ => format!("{short} {value}"),
                };
                Some((spec.key, text))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    /// `https` or `http`.
    pub origin_scheme: String,
    pub custom_host: Option<String>,
    /// The custom host waits for an instance owner's approval (edges ignore it).
    pub custom_host_pending: bool,
    /// Origins on private addresses (any, or these `host:port`); owners set them.
    pub allow_private_origins: bool,
    pub private_origins_allowed: Vec<String>,
    /// The viewer is an instance owner: their save approves the custom host.
    pub owner: bool,
    /// Whether URLs must be signed (the salt itself never leaves the server).
    pub signing: bool,
    pub sign_length: u8,
    pub sealed: bool,
    pub strict_seal: bool,
    pub no_upscale: bool,
    /// Edges choose AVIF/WebP/source per browser; downscale in linear light.
    pub auto_format: bool,
    pub linear_light: bool,
    pub soft_purge: bool,
    pub verify: bool,
    /// Origin headers the edges read cache tags from, space separated.
    pub tag_sources: String,
    /// Tag rules, one `{path or prefix} {tag}` per line.
    pub tag_rules: String,
    pub confirm_above_objects: Option<u64>,
    pub confirm_above_mb: Option<u64>,
    /// The two-person rule for scope All, and its window in hours.
    pub approval_for_all: bool,
    pub approval_hours: u32,
    /// Invalidations older than this many days are pruned.
    pub retention_days: i64,
    pub targets: Vec<TargetView>,
    pub role: Role,
}

impl SettingsView {
    /// CDN targets that could serve one browser's format to another: the
    /// project chooses formats automatically and the target is not marked
    /// as set up for it (its `vary_accept` setting).
    pub fn formats_unready(&self) -> Vec<&str> {
        let unready = |t: &&TargetView| {
            t.kind.spec().settings.iter().any(|s| s.key == "vary_accept")
                && t.settings.get("vary_accept").map(String::as_str) != Some("on")
        };
        match self.auto_format {
            true => self.targets.iter().filter(unready).map(|t| t.name.as_str()).collect(),
            false => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
    pub limits: imgflush::domain::key_limits::KeyLimits,
    pub expires: Option<Timestamp>,
    /// CIDRs it is accepted from; empty: any address.
    pub allowed_ips: Vec<String>,
    pub last_used_addr: Option<String>,
    /// Where it stands when listed.
    pub state: KeyState,
}

pub use imgflush::domain::key_state::KeyState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    pub keys: Vec<KeyView>,
    pub role: Role,
}

/// One row of the owners' Projects page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummaryView {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    pub last_invalidation: Option<Timestamp>,
    pub invalidations: i64,
    pub errors: i64,
}

/// One row of an audit page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: Timestamp,
    pub project: Option<String>,
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Cursor for the next (older) page.
    pub next: Option<String>,
}

/// A notification hook as the Notifications page shows it (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub has_secret: bool,
    pub every_final: bool,
    pub last_result: Option<String>,
    pub last_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HooksView {
    pub hooks: Vec<HookView>,
    pub role: Role,
}

/// A user on the owners' Users page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub instance_role: Option<InstanceRole>,
    pub last_sign_in: Option<Timestamp>,
    pub projects: i64,
    /// Signs in with a second factor.
    #[serde(default)]
    pub two_step: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserRow>,
    pub me: i64,
    /// Owners change; staff look.
    pub owner: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_targets_settings_in_a_few_words() {
        let settings = [("zone_id", "023e105f4ecef8ad9ca31a8372d0c353"), ("plan", "free"), ("dedicated", "on")];
        let t = TargetView {
            id: 1,
            kind: TargetKind::Cloudflare,
            name: "cf".into(),
            url: "https://api.cloudflare.com/client/v4".into(),
            has_secret: false,
            settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            has_credentials: true,
            paths_this_month: None,
        };
        let words: Vec<String> = t.settings_summary().into_iter().map(|(_, text)| text).collect();
        assert_eq!(words, ["zone 023e…", "plan free", "dedicated"]);
        let off = TargetView { settings: [("dedicated".to_owned(), "off".to_owned())].into(), ..t };
        assert!(off.settings_summary().is_empty());
    }
}

/// The lookup box with the start of an Invalidation ID: what matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdPrefixMatches {
    pub rows: Vec<IdPrefixMatch>,
    /// The caller may see every project (owners and staff): "none" then
    /// means none at all, not none among their projects.
    pub sees_all: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdPrefixMatch {
    pub token: String,
    pub id: String,
    pub status: Status,
    pub created: Timestamp,
    pub paths: Vec<String>,
}

/// "Is this URL fresh?" (the lookup box with an image URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlLookupView {
    pub token: String,
    /// The canonical origin path and the variant (raw query).
    pub origin: String,
    pub query: Option<String>,
    /// The newest invalidations that covered it (path, prefix, tag, All).
    pub rows: Vec<LogRow>,
    /// When the newest DONE one of them finished.
    pub last_done: Option<Timestamp>,
    /// After *Check now*: each target's answer, and whether its copy is
    /// older than the last DONE purge that covered it.
    pub probes: Option<Vec<ProbeView>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeView {
    pub name: String,
    pub kind: TargetKind,
    pub text: String,
    /// Held since before the last DONE purge that covered it.
    pub older_than_purge: bool,
}

/// One signed-in session of the user, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    /// "Chrome on Linux".
    pub device: String,
    pub address: Option<String>,
    pub created: Timestamp,
    pub last_seen: Timestamp,
    /// The session this page was loaded in.
    pub current: bool,
}
