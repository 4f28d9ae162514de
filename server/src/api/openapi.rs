//! The OpenAPI 3.1 document, generated from the handlers and body types.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorCode, FieldErrorBody};
use super::{anchor, project, targets, v1};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "imgflush Invalidation API",
        license(name = "MIT"),
        description = "Flush images from the resizing servers and CDN nodes of a project. \
            Authenticate with a project API key in `X-Client-Key` or `Authorization: Bearer`. \
            Errors are `{\"status\":\"error\",\"code\",\"message\",\"details\"}`: 400 a value breaks a rule \
            or the JSON is malformed, 422 valid JSON of the wrong shape."
    ),
    paths(anchor::create, anchor::status, v1::create, v1::list, v1::get, v1::retry, v1::cancel, v1::lookup, project::get, project::update,
        targets::list, targets::create, targets::get, targets::update, targets::delete, targets::test, serve),
    components(schemas(ErrorBody, ErrorCode, FieldErrorBody)),
    modifiers(&Security),
    tags(
        (name = "anchor", description = "Anchor-compatible: change the host of an existing script"),
        (name = "v1", description = "Native API: idempotent create, cursor listing, long-poll, retry"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Client-Key"))),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

static JSON: LazyLock<String> = LazyLock::new(|| document().to_json().expect("the OpenAPI document serialises"));

/// This document. Public: no key needed.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "v1",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str())
}
