//! Server-only helpers for the server functions: the services from context,
//! the typed session, the signed-in user as an actor of one project, error
//! mapping, and the views built from service results.

use leptos::prelude::*;
use tower_sessions::Session;

use imgflush::backend::audit::RequestMeta;
use imgflush::backend::store::User;
use imgflush::backend::{Actor, ServiceError, Services, StoreError};

use crate::error::AppError;

pub mod next;
pub mod passkey_step;
pub mod second_step;
mod views;

pub use views::lookup_view;

/// The console's session, typed: the only code that knows its keys. It holds
/// the user's id and the session epoch they signed in under; a password
/// change or removal bumps the epoch, which ends the session.
#[derive(Clone)]
pub struct UserSession(Session);

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct SignedIn {
    user_id: i64,
    epoch: i64,
    /// The session's row in the account's list of sessions; `None` for a
    /// session signed in before sessions were listed (it ends with the epoch).
    #[serde(default)]
    sign_in: Option<String>,
}

impl UserSession {
    const USER: &'static str = "user";

    pub fn new(session: Session) -> Self {
        UserSession(session)
    }

    /// The signed-in user, if the session still stands: the account exists,
    /// its epoch is the one signed in under, and the session was not ended
    /// from the account page. Otherwise the session is signed out and `None`
    /// answered.
    pub async fn user(&self, services: &Services) -> Result<Option<User>, AppError> {
        self.user_with(services, &RequestMeta::default()).await
    }

    /// [`Self::user`], recording the request's address as the session's last.
    pub async fn user_with(&self, services: &Services, meta: &RequestMeta) -> Result<Option<User>, AppError> {
        let signed_in = self.0.get::<SignedIn>(Self::USER).await.map_err(internal)?;
        let Some(SignedIn { user_id, epoch, sign_in }) = signed_in else { return Ok(None) };
        let mut found = services.accounts.session_user(user_id, epoch).await;
        if let (Ok(_), Some(id)) = (&found, &sign_in) {
            if let Err(e) = services.sessions.check(user_id, id, meta).await {
                found = Err(e);
            }
        }
        match found {
            Ok(user) => Ok(Some(user)),
            Err(ServiceError::NotFound) => {
                tracing::info!(user_id, "session ended: signed out elsewhere, account removed or password changed");
                self.sign_out().await.map_err(internal)?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Signs `user` in under a fresh session id (defeats session fixation),
    /// listed among the account's sessions.
    pub async fn sign_in(&self, services: &Services, user: &User, meta: &RequestMeta) -> Result<(), AppError> {
        let id = services.sessions.begin(user, meta).await?;
        self.0.cycle_id().await.map_err(internal)?;
        let signed_in = SignedIn { user_id: user.id, epoch: user.session_epoch, sign_in: Some(id) };
        self.0.insert(Self::USER, signed_in).await.map_err(internal)
    }

    /// The session carries on under the account's new epoch (after "sign
    /// out every other session"), keeping its place in the list.
    pub async fn renew(&self, user: &User) -> Result<(), AppError> {
        let Some(mut signed_in) = self.0.get::<SignedIn>(Self::USER).await.map_err(internal)? else {
            return Err(AppError::Unauthorized);
        };
        signed_in.epoch = user.session_epoch;
        self.0.insert(Self::USER, signed_in).await.map_err(internal)
    }

    /// This session's row in the account's list, if it has one.
    pub async fn sign_in_id(&self) -> Option<String> {
        self.0.get::<SignedIn>(Self::USER).await.ok().flatten().and_then(|s| s.sign_in)
    }

    pub async fn sign_out(&self) -> Result<(), tower_sessions::session::Error> {
        self.0.flush().await
    }

    /// The header's Sign out: the session's row ends, the audit trail says so.
    pub async fn sign_out_recorded(&self, services: &Services, meta: &RequestMeta) -> Result<(), AppError> {
        if let Ok(Some(user)) = self.user(services).await {
            services.sessions.signed_out(&user, self.sign_in_id().await.as_deref(), meta).await;
        }
        self.sign_out().await.map_err(internal)
    }

    /// Keeps `value` for the next page to show once (see [`flash_for_plain_form`]).
    pub async fn set_flash(&self, key: &str, value: &str) -> Result<(), tower_sessions::session::Error> {
        self.0.insert(&format!("flash.{key}"), value).await
    }

    /// The value kept under `key`, removed as it is read.
    ///
    /// Looked at before it is removed: removing marks the session changed, and
    /// a changed session is written back whole when the request ends. A page
    /// view with nothing to show must not write, or it would overwrite what a
    /// request from another tab of the same session kept meanwhile.
    pub async fn take_flash(&self, key: &str) -> Result<Option<String>, tower_sessions::session::Error> {
        let key = format!("flash.{key}");
        if self.0.get::<String>(&key).await?.is_none() {
            return Ok(None);
        }
        self.0.remove::<String>(&key).await
    }
}

/// A form posted without JavaScript gets a redirect back to its page, and
/// the action's value is lost on the way: keep it in the session for that
/// page to show once. With JavaScript the page shows the value itself.
/// Whether the request is a form posted without JavaScript (it accepts HTML).
pub async fn plain_form_post() -> bool {
    let Ok(parts) = leptos_axum::extract::<axum::http::request::Parts>().await else { return false };
    let accept = parts.headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.contains("text/html")
}

pub async fn flash_for_plain_form(key: &str, value: &str) {
    if !plain_form_post().await {
        return;
    }
    if let Ok(session) = leptos_axum::extract::<Session>().await {
        if let Err(e) = UserSession::new(session).set_flash(key, value).await {
            tracing::warn!(error = %e, "could not keep the result for the next page");
        }
    }
}

/// `server.public_url`: where users reach the console (`None`: unset).
#[derive(Clone, Debug, Default)]
pub struct PublicUrl(pub Option<String>);

/// The console's address for links meant to leave it (invitations,
/// permalinks, the API's base URL): `server.public_url`, else the scheme and
/// host this request came to (`X-Forwarded-Proto` names the scheme behind a
/// TLS-terminating proxy; the link is only shown back to the same user).
pub async fn base_url() -> String {
    if let Some(PublicUrl(Some(url))) = use_context::<PublicUrl>() {
        return url;
    }
    let Ok(parts) = leptos_axum::extract::<axum::http::request::Parts>().await else {
        return String::new();
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let host = header("host").filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@'])).unwrap_or("localhost");
    let scheme = match header("x-forwarded-proto").and_then(|p| p.split(',').next()).map(str::trim) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the Leptos context");
        AppError::Internal
    })
}

/// Where the request came from (the address the server's `client_ip` layer
/// resolved, and the user agent), for the audit trail and sign-in limits.
pub async fn request_meta() -> RequestMeta {
    let Ok(parts) = leptos_axum::extract::<axum::http::request::Parts>().await else {
        return RequestMeta::default();
    };
    let ip = parts.extensions.get::<imgflush::backend::ClientIp>().and_then(|c| c.0);
    let ua = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    RequestMeta::new(ip, ua)
}

pub async fn current_user() -> Result<User, AppError> {
    let session: Session = leptos_axum::extract().await.map_err(|_| answered(AppError::Unauthorized))?;
    let services = services()?;
    match UserSession::new(session).user(&services).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(answered(AppError::Unauthorized)),
        // Sessions live in the same database: when it is away, say so.
        Err(_) if services.ping().await.is_err() => Err(unavailable()),
        Err(e) => Err(e),
    }
}

/// The signed-in caller as a member of `token`. Another project's token
/// answers `NotFound`, exactly like a token that does not exist; the role is
/// checked by the service the server function calls.
pub async fn actor(token: &str) -> Result<(Services, Actor), AppError> {
    let user = current_user().await?;
    let services = services()?;
    let actor = services.projects.actor_for(&user, token).await?.from_request(request_meta().await);
    Ok((services, actor))
}

/// The signed-in caller as a member of `token`, for a call that changes
/// something: it counts against the user's console write limit
/// (`security.console_writes_per_minute`), checked before the role.
pub async fn writer(token: &str) -> Result<(Services, Actor), AppError> {
    let (services, actor) = actor(token).await?;
    services.limits.console_write(&actor).await?;
    Ok((services, actor))
}

/// The signed-in user, for a call that changes something outside one
/// project (the instance's pages): it counts against the same write limit.
pub async fn user_writer() -> Result<(Services, User), AppError> {
    let user = current_user().await?;
    let services = services()?;
    services.limits.console_write_by(user.id).await?;
    Ok((services, user))
}

/// The database is away: the answer (server function or page) becomes a 503
/// with `Retry-After`, and the console shows when to try again.
pub fn unavailable() -> AppError {
    let secs = ServiceError::RETRY_AFTER_SECS;
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        resp.insert_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    }
    AppError::Unavailable(secs)
}

/// `e`, answered with its HTTP status (400, 401, 403, 404, 409) when a
/// script called the server function. A page render keeps its own status, and
/// a form posted without JavaScript is sent back to its page (leptos_axum
/// redirects it; a status here would replace that redirect).
pub fn answered(e: AppError) -> AppError {
    use axum::http::StatusCode;
    let code = match &e {
        AppError::Invalid(_) => StatusCode::BAD_REQUEST,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => return e,
    };
    let Some(parts) = use_context::<axum::http::request::Parts>() else { return e };
    let accept = parts.headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if parts.uri.path().starts_with("/sfn/") && !accept.contains("text/html") {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(code);
        }
    }
    e
}

pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "server function failed");
    AppError::Internal
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => answered(AppError::Invalid(errors)),
            ServiceError::Forbidden(_) | ServiceError::OutsideKeyLimits(_) => answered(AppError::Forbidden),
            ServiceError::NotFound => answered(AppError::NotFound),
            ServiceError::Conflict(msg) => answered(AppError::Conflict(msg)),
            ServiceError::Unavailable => unavailable(),
            ServiceError::Store(e) => internal(e),
            ServiceError::Internal(e) => internal(e),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

/// The audit page's filters, each checked and named when wrong.
pub fn audit_query(
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
) -> Result<imgflush::backend::store::AuditQuery, AppError> {
    use crate::error::FieldError;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (action, actor, before) = (clean(action), clean(actor), clean(before));
    let mut errors = Vec::new();
    if action.as_ref().is_some_and(|a| a.len() > 64) {
        errors.push(FieldError::new("action", "at most 64 characters, e.g. member.added"));
    }
    if actor.as_ref().is_some_and(|a| a.len() > 254) {
        errors.push(FieldError::new("actor", "an e-mail address or an API key's name, at most 254 characters"));
    }
    let before = match before.map(|b| b.parse::<i64>()) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => {
            errors.push(FieldError::new("before", "use the Older link's value"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(answered(AppError::Invalid(errors)));
    }
    Ok(imgflush::backend::store::AuditQuery { project_id: None, action, actor, before, limit: 50 })
}

impl crate::model::AuditPage {
    pub fn new(rows: Vec<imgflush::backend::store::AuditEntry>, limit: i64) -> Self {
        let next = (rows.len() as i64 >= limit).then(|| rows.last().map(|r| r.id.to_string())).flatten();
        let rows = rows
            .into_iter()
            .map(|r| crate::model::AuditRow {
                id: r.id,
                at: r.at.into(),
                project: r.project,
                actor: r.actor,
                ip: r.ip,
                user_agent: r.user_agent,
                action: r.action,
                detail: r.detail,
            })
            .collect();
        crate::model::AuditPage { rows, next }
    }
}
