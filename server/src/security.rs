//! Request guards: same-origin check for state-changing browser requests,
//! session required for pages, security headers, `Secure` cookies behind https.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::ssr::UserSession;
use imgflush::backend::Services;

/// Key-authenticated API routes carry no cookies, so they are not subject to the
/// cross-site check.
fn is_api(path: &str) -> bool {
    path == "/invalidate" || path.starts_with("/invalidate/") || path.starts_with("/api/v1/") || path == "/api/v1"
}

/// Refuses cross-site POSTs to server functions and forms (CSRF): modern
/// browsers send `Sec-Fetch-Site`, all send `Origin` on POST.
pub async fn same_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return forbidden();
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if origin == "null" || origin_host != host {
            return forbidden();
        }
    }
    next.run(req).await
}

/// 503 with `Retry-After`, as the API and the server functions answer during an outage.
pub fn unavailable() -> Response {
    let secs = imgflush::backend::ServiceError::RETRY_AFTER_SECS;
    let msg = format!("The database is unavailable; retry in {secs} s.");
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, secs.to_string())], msg).into_response()
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
}

/// Pages need a session: without one the browser goes to the sign-in page.
/// `/` goes straight to the first project's Invalidation page.
pub async fn require_session(State(services): State<Services>, session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let page = path == "/"
        || path.starts_with("/p/")
        || path.starts_with("/docs/")
        || path == "/account"
        || path == "/lookup"
        || path == "/projects"
        || path == "/audit"
        || path == "/users"
        || path == "/sso";
    if !page || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // A session whose account is gone or whose password changed since
    // sign-in is signed out here (see `UserSession::user`). Sessions live in
    // the database: when it is away, say so instead of sending a signed-in
    // user to the sign-in page.
    let ip = req.extensions().get::<crate::client_ip::ClientIp>().and_then(|c| c.0);
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let meta = imgflush::backend::audit::RequestMeta::new(ip, ua);
    let user = match UserSession::new(session).user_with(&services, &meta).await {
        Ok(user) => user,
        Err(_) if services.ping().await.is_err() => return unavailable(),
        Err(_) => None,
    };
    let Some(user) = user else {
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", imgflush::domain::url::query_value(target))).into_response();
    };
    if path == "/" {
        if let Some(first) = services.projects.memberships(&user).await.ok().and_then(|m| m.into_iter().next()) {
            return Redirect::to(&format!("/p/{}/invalidation", first.project.token)).into_response();
        }
    }
    next.run(req).await
}

pub async fn headers(req: Request, next: Next) -> Response<Body> {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// With `secure_cookies = "auto"`: marks cookies `Secure` when a proxy says
/// the request came over https.
pub async fn secure_cookies_behind_https(req: Request, next: Next) -> Response {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || req.uri().scheme_str() == Some("https");
    let mut resp = next.run(req).await;
    if https {
        mark_secure(&mut resp);
    }
    resp
}

/// With `secure_cookies = "always"`: every cookie is `Secure` (the session
/// layer marks its own; this covers the remembered-browser cookie).
pub async fn secure_cookies_always(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    mark_secure(&mut resp);
    resp
}

fn mark_secure(resp: &mut Response) {
    let cookies: Vec<HeaderValue> = resp.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
    resp.headers_mut().remove(header::SET_COOKIE);
    for c in cookies {
        let s = c.to_str().unwrap_or_default();
        let v = if s.contains("; Secure") { s.to_owned() } else { format!("{s}; Secure") };
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The page CSP, carrying this response's nonce for the hydration script.
pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; \
         object-src 'none'"
    )
}
