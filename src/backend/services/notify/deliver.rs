//! Delivering notifications: the signed call, and the notifier that finds
//! final invalidations nobody has notified about yet. Each is claimed once
//! in the database (an atomic UPDATE), so with several instances exactly one
//! sends it, whichever process the worker ran in.

use std::collections::hash_map::{Entry, HashMap};
use std::time::Duration;

use reqwest::Client;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::backend::network::NetworkPolicy;
use crate::backend::now_ms;
use crate::backend::purge::{self, webhook_signature, PurgeError};
use crate::backend::store::{ApiKey, DynStore, Hook, Invalidation, Project};
use crate::domain::{InvalidationId, Scope};

/// How long one hook call may take.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(500);

/// The JSON body of a hook call.
#[derive(Debug, Clone, Serialize)]
pub struct HookEvent {
    /// `invalidation.error`, `invalidation.final`, `test`, or one of the
    /// two-person rule's (see [`HookEvent::approval`]).
    pub event: &'static str,
    pub project: String,
    pub invalidation_id: Option<InvalidationId>,
    pub status: Option<&'static str>,
    pub attempt: Option<i32>,
    pub error: Option<String>,
    pub finished_at: Option<String>,
    /// `original`, `all` or `tag`.
    pub scope: Option<&'static str>,
    /// The paths; empty for scopes `all` and `tag`.
    pub paths: Vec<String>,
    /// The tags of a scope `tag` invalidation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The key of a `key.expiring` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyNotice>,
}

/// An API key about to expire: its name, the start of its secret, and when.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNotice {
    pub name: String,
    /// `imf_<prefix>_…`: enough to find it, nothing of its secret.
    pub prefix: String,
    pub expires_at: String,
}

impl HookEvent {
    pub fn test(project: &str) -> HookEvent {
        HookEvent {
            event: "test",
            project: project.to_owned(),
            invalidation_id: None,
            status: None,
            attempt: None,
            error: None,
            finished_at: None,
            scope: None,
            paths: vec![],
            tags: vec![],
            key: None,
        }
    }

    /// `key.expiring`: the key stops working at `key.expires` (within 7 days).
    pub fn key_expiring(project: &str, key: &ApiKey) -> HookEvent {
        HookEvent {
            event: "key.expiring",
            key: Some(KeyNotice {
                name: key.name.clone(),
                prefix: format!("imf_{}_…", key.prefix),
                expires_at: key.expires.map(|t| t.to_rfc3339()).unwrap_or_default(),
            }),
            ..HookEvent::test(project)
        }
    }

    /// The two-person rule's moments: `invalidation.awaiting_approval`,
    /// `invalidation.approved`, `invalidation.rejected`.
    pub fn approval(project: &str, inv: &Invalidation, event: &'static str) -> HookEvent {
        HookEvent { event, ..HookEvent::of(project, inv) }
    }

    fn of(project: &str, inv: &Invalidation) -> HookEvent {
        HookEvent {
            event: if inv.status.is_error() { "invalidation.error" } else { "invalidation.final" },
            project: project.to_owned(),
            invalidation_id: Some(inv.id),
            status: Some(inv.status.code()),
            attempt: Some(inv.attempt),
            error: inv.error.clone(),
            finished_at: inv.finished.map(|f| f.to_rfc3339()),
            scope: Some(inv.scope.as_str()),
            paths: if inv.scope == Scope::Tag { vec![] } else { inv.paths.clone() },
            tags: if inv.scope == Scope::Tag { inv.paths.clone() } else { vec![] },
            key: None,
        }
    }
}

/// Calls the hook once, signed like the webhook target (`X-Imgflush-Timestamp`,
/// `X-Imgflush-Signature` = HMAC-SHA256 of `"{timestamp}.{body}"`), and answers
/// what it said: `HTTP 200`, or the kind of failure (never the secret).
pub(super) async fn send(client: &Client, policy: &NetworkPolicy, hook: &Hook, event: &HookEvent) -> String {
    let Ok(url) = reqwest::Url::parse(&hook.url) else { return "invalid URL".into() };
    if let Err(why) = policy.check_url(&url) {
        return PurgeError::NotAllowed(why).to_string();
    }
    let body = serde_json::to_vec(event).expect("a hook event serialises");
    let timestamp = chrono::Utc::now().timestamp();
    let mut call = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Imgflush-Event", event.event)
        .header("X-Imgflush-Timestamp", timestamp.to_string())
        .body(body.clone());
    if let Some(secret) = &hook.secret {
        call = call.header("X-Imgflush-Signature", webhook_signature(secret, timestamp, &body));
    }
    match call.send().await {
        Ok(resp) => format!("HTTP {}", resp.status()),
        Err(e) if e.is_timeout() => PurgeError::Timeout.to_string(),
        Err(e) if e.is_connect() => PurgeError::Unreachable.to_string(),
        Err(_) => "request failed".into(),
    }
}

/// How often the notifier looks for API keys about to expire.
const KEY_CHECK_EVERY: Duration = Duration::from_secs(60);

/// Tells the project's hooks, once per key, that an API key expires within
/// [`NOTICE_BEFORE`](crate::backend::services::key_rules::NOTICE_BEFORE)
/// (each key is claimed in the database, so one instance sends it);
/// answers how many keys it told about.
pub async fn notice_expiring_keys(store: &DynStore, client: &Client, policy: &NetworkPolicy) -> Result<usize, String> {
    let now = now_ms();
    let before = now + crate::backend::services::key_rules::NOTICE_BEFORE.num_milliseconds();
    let keys = store.take_expiring_api_keys(now, before).await.map_err(|e| e.to_string())?;
    for (key, token) in &keys {
        let hooks = store.list_hooks(key.project_id).await.unwrap_or_default();
        let event = HookEvent::key_expiring(token, key);
        for hook in &hooks {
            let answer = send(client, policy, hook, &event).await;
            tracing::info!(hook = %hook.name, key = %key.prefix, %answer, "key expiry notice sent");
            let _ = store.record_hook_result(hook.id, &answer, now_ms()).await;
        }
    }
    Ok(keys.len())
}

/// Final invalidations read (and claimed) per round.
const BATCH: usize = 200;

/// Notifies the hooks of every final invalidation not yet notified, up to
/// [`BATCH`] of them; answers how many it read (a full batch: more may be
/// waiting). They are
/// claimed in one write, and each project's hooks are read once a round (most
/// projects have none: a busy queue costs two statements per round).
pub async fn notify_pending(store: &DynStore, client: &Client, policy: &NetworkPolicy) -> Result<usize, String> {
    let pending = store.unnotified(BATCH as i64).await.map_err(|e| e.to_string())?;
    if pending.is_empty() {
        return Ok(0);
    }
    let ids: Vec<InvalidationId> = pending.iter().map(|inv| inv.id).collect();
    let claimed = store.claim_notifications(&ids, now_ms()).await.map_err(|e| e.to_string())?;
    let mut hooks: HashMap<i64, Option<(Project, Vec<Hook>)>> = HashMap::new();
    for inv in pending.iter().filter(|inv| claimed.contains(&inv.id)) {
        let known = match hooks.entry(inv.project_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(project_hooks(store, inv.project_id).await),
        };
        if let Some((project, project_hooks)) = known {
            deliver(store, client, policy, project, project_hooks, inv).await;
        }
    }
    Ok(pending.len())
}

/// The project and its hooks; `None` when it has none (or is gone).
async fn project_hooks(store: &DynStore, project_id: i64) -> Option<(Project, Vec<Hook>)> {
    let hooks = store.list_hooks(project_id).await.ok().filter(|h| !h.is_empty())?;
    let project = store.project_by_id(project_id).await.ok()?;
    Some((project, hooks))
}

async fn deliver(
    store: &DynStore,
    client: &Client,
    policy: &NetworkPolicy,
    project: &Project,
    hooks: &[Hook],
    inv: &Invalidation,
) {
    let event = HookEvent::of(&project.token, inv);
    for hook in hooks.iter().filter(|h| h.every_final || inv.status.is_error()) {
        let answer = send(client, policy, hook, &event).await;
        tracing::info!(hook = %hook.name, id = %inv.id, %answer, "notification sent");
        if let Err(e) = store.record_hook_result(hook.id, &answer, now_ms()).await {
            tracing::warn!(error = %e, "could not record the hook's answer");
        }
    }
}

/// The notifier loop the console runs: checks twice a second for final
/// invalidations (written by a worker in this process or any other).
pub async fn run_notifier(store: DynStore, policy: NetworkPolicy, stop: CancellationToken) {
    let client = purge::client(NOTIFY_TIMEOUT, &policy);
    let mut keys_checked: Option<tokio::time::Instant> = None;
    loop {
        if keys_checked.is_none_or(|t| t.elapsed() >= KEY_CHECK_EVERY) {
            keys_checked = Some(tokio::time::Instant::now());
            if let Err(e) = notice_expiring_keys(&store, &client, &policy).await {
                tracing::warn!(error = %e, "notification hooks: could not read the expiring API keys");
            }
        }
        match notify_pending(&store, &client, &policy).await {
            // A full round: more may be waiting (a busy queue), look again at once.
            Ok(n) if n == BATCH && !stop.is_cancelled() => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "notification hooks: could not read pending invalidations"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
