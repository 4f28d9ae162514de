//! The site's files (`/pkg/…`, the assets from `public/`), served as they
//! are, before the pages' not-found answer.
//!
//! leptos_axum's `file_and_error_handler` serves a file inside a fresh
//! reactive `Owner` whose parent is whatever owner the worker thread last
//! set — often a page still rendering for another request — and applies
//! that page's `ResponseOptions` to the file: after a not-found page, a
//! WASM chunk could answer `404` with the page's CSP, and the island that
//! needed it never came to life (seen in CI as rare 404s of `/pkg/…`). Files
//! are answered here from `ServeDir` alone; anything else falls through to
//! the pages' handler, which renders the not-found page.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// A GET or HEAD for a file under the site root answers that file (with
/// its precompressed variant when the client takes it); anything else is
/// `None`, for the pages' not-found handler.
pub fn serve(
    options: &LeptosOptions,
    req: &Request<Body>,
) -> impl std::future::Future<Output = Option<Response>> + Send + 'static {
    let options = options.clone();
    let file_req = file_request(req);
    async move { serve_file(&options, file_req?).await }
}

fn file_request(req: &Request<Body>) -> Option<Request<Body>> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    // Built before any await: a request (its body) is not `Sync`.
    let mut file_req = Request::builder().method(req.method().clone()).uri(req.uri().clone());
    if let Some(encoding) = req.headers().get(header::ACCEPT_ENCODING) {
        file_req = file_req.header(header::ACCEPT_ENCODING, encoding);
    }
    file_req.body(Body::empty()).ok()
}

async fn serve_file(options: &LeptosOptions, file_req: Request<Body>) -> Option<Response> {
    let dir = ServeDir::new(&*options.site_root).precompressed_gzip().precompressed_br();
    let res = dir.oneshot(file_req).await.ok()?;
    (res.status() == StatusCode::OK).then(|| res.into_response())
}

/// The fallback: a site file, or the pages' not-found answer.
pub async fn or_not_found<H, F>(options: LeptosOptions, req: Request<Body>, pages: H) -> Response
where
    H: FnOnce(axum::http::Uri, State<LeptosOptions>, Request<Body>) -> F + Send,
    F: std::future::Future<Output = Response> + Send,
{
    if let Some(file) = serve(&options, &req).await {
        return file;
    }
    pages(req.uri().clone(), State(options), req).await
}
