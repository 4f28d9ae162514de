//! `GET /p/{token}/live`: the project's status changes as server-sent
//! events (`event: change`, data `{"id":"…","status":"DONE"}`), so the log
//! and the details page update without a reload. Pages work without it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use tower_sessions::Session;

use app::ssr::UserSession;
use imgflush::backend::live::Subscription;
use imgflush::backend::{ServiceError, Services};

pub async fn changes(State(services): State<Services>, session: Session, Path(token): Path<String>) -> Response {
    let user = match UserSession::new(session).user(&services).await {
        Ok(Some(user)) => user,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(_) => return crate::security::unavailable(),
    };
    let subscription = match services.projects.actor_for(&user, &token).await {
        Ok(actor) => services.live.subscribe(&actor),
        Err(e) => Err(e),
    };
    match subscription {
        Ok(sub) => Sse::new(events(sub)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response(),
        Err(ServiceError::NotFound) => (StatusCode::NOT_FOUND, "Not found.").into_response(),
        Err(ServiceError::Unavailable) => crate::security::unavailable(),
        Err(e) => {
            tracing::warn!(error = %e, "live log refused");
            (StatusCode::FORBIDDEN, "Your role does not allow this.").into_response()
        }
    }
}

fn events(sub: Subscription) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(sub, |mut sub| async move {
        let change = sub.next().await?;
        let data = serde_json::json!({ "id": change.id.to_string(), "status": change.status.code() });
        Some((Ok(Event::default().event("change").data(data.to_string())), sub))
    })
}
