//! The console poller: bearer auth, updates, and the last copy kept while
//! the console is away.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use edge::{ConsoleSettings, ProjectSettings, ProjectsResponse, Secret, SettingsSource};

type Answer = Arc<Mutex<Option<Vec<ProjectSettings>>>>;

async fn projects(State(answer): State<Answer>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer edge-secret") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match answer.lock().unwrap().clone() {
        Some(projects) => axum::Json(ProjectsResponse { projects }).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[tokio::test]
async fn polls_with_the_secret_and_keeps_the_last_copy() {
    let answer: Answer = Arc::new(Mutex::new(Some(vec![ProjectSettings::new("demo")])));
    let app =
        axum::Router::new().route("/internal/edge/projects", axum::routing::get(projects)).with_state(answer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/internal/edge/projects", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (wrong, task) = ConsoleSettings::start(url.clone(), Secret::new("nope"), Duration::from_secs(60)).await;
    assert!(wrong.current().is_empty());
    task.abort();

    let (settings, task) = ConsoleSettings::start(url, Secret::new("edge-secret"), Duration::from_millis(50)).await;
    assert!(settings.current().by_token("demo").is_some());

    *answer.lock().unwrap() = None;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(settings.current().by_token("demo").is_some(), "last copy kept while the console fails");

    *answer.lock().unwrap() = Some(vec![ProjectSettings::new("other")]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let now = settings.current();
    assert!(now.by_token("other").is_some() && now.by_token("demo").is_none());
    task.abort();
}
