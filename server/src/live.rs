//! `GET /p/{token}/live`: the project's status changes as server-sent
//! events (`event: change`, data `{"id":"…","status":"DONE"}`), so the log
//! and the details page update without a reload. Pages work without it.
//!
//! Access is checked when the stream opens and again at every keep-alive
//! (`security.live_recheck_secs`): a removed member, a signed-out session or
//! a changed password ends the stream. A user holds at most
//! `security.live_streams_per_user` streams; past it the answer is 429.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use tower_sessions::Session;

use app::ssr::UserSession;
use imgflush::backend::live::Subscription;
use imgflush::backend::{ServiceError, Services};

pub async fn changes(State(services): State<Services>, session: Session, Path(token): Path<String>) -> Response {
    let user = match UserSession::new(session.clone()).user(&services).await {
        Ok(Some(user)) => user,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(_) => return crate::security::unavailable(),
    };
    let subscription = match services.projects.actor_for(&user, &token).await {
        Ok(actor) => services.live.subscribe(&actor),
        Err(e) => Err(e),
    };
    match subscription {
        Ok(sub) => Sse::new(events(OpenStream { sub, services, session, token })).into_response(),
        Err(ServiceError::NotFound) => (StatusCode::NOT_FOUND, "Not found.").into_response(),
        Err(ServiceError::Unavailable) => crate::security::unavailable(),
        Err(ServiceError::Conflict(why)) => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "15")], why).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "live log refused");
            (StatusCode::FORBIDDEN, "Your role does not allow this.").into_response()
        }
    }
}

/// One open stream and what it needs to re-check its access.
struct OpenStream {
    sub: Subscription,
    services: Services,
    session: Session,
    token: String,
}

impl OpenStream {
    /// Whether the session's user may still watch the project.
    async fn allowed(&self) -> bool {
        match UserSession::new(self.session.clone()).user(&self.services).await {
            Ok(Some(user)) => self.services.projects.actor_for(&user, &self.token).await.is_ok(),
            // Signed out, or the password changed (the session epoch moved on).
            Ok(None) => false,
            // The database is away: keep the stream; the next check decides.
            Err(_) => true,
        }
    }
}

fn events(stream: OpenStream) -> impl Stream<Item = Result<Event, Infallible>> {
    let every = stream.services.live.recheck_every();
    stream::unfold(stream, move |mut s| async move {
        tokio::select! {
            change = s.sub.next() => {
                let change = change?;
                let data = serde_json::json!({ "id": change.id.to_string(), "status": change.status.code() });
                Some((Ok(Event::default().event("change").data(data.to_string())), s))
            }
            _ = tokio::time::sleep(every) => {
                if !s.allowed().await {
                    return None;
                }
                Some((Ok(Event::default().comment("keep-alive")), s))
            }
        }
    })
}
