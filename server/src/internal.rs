//! Endpoints for the project's own machines, not for people: the settings
//! every edge polls (`GET /internal/edge/projects`), authenticated by the
//! operator's `edge.settings_token` (at least 32 characters; SHA-256 digests
//! compared in constant time, so neither the content nor the length leaks),
//! so an edge on another machine works whatever database the console uses.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use imgflush::backend::store::{OriginScheme, Project};
use imgflush::backend::Services;

use crate::config::Secret;

/// What the router needs: the services and the configured token.
#[derive(Clone)]
pub struct EdgeSettingsState {
    pub services: Services,
    pub token: Option<Secret>,
}

pub async fn edge_projects(State(s): State<EdgeSettingsState>, headers: HeaderMap) -> Response {
    let Some(expected) = s.token.as_ref().filter(|t| !t.expose().is_empty()) else {
        return (StatusCode::NOT_FOUND, "edge settings are not served: set edge.settings_token").into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (presented, expected) = (Sha256::digest(presented.as_bytes()), Sha256::digest(expected.expose().as_bytes()));
    if !bool::from(presented.ct_eq(&expected)) {
        return (StatusCode::UNAUTHORIZED, "send Authorization: Bearer <edge.settings_token>").into_response();
    }
    let read =
        async { Ok((s.services.projects.edge_settings_all().await?, s.services.projects.edge_tag_headers().await?)) };
    match read.await {
        Ok((projects, mut tags)) => {
            let projects = projects
                .into_iter()
                .map(|p| {
                    let headers = tags.remove(&p.id).unwrap_or_default();
                    edge::ProjectSettings { tag_headers: headers, ..edge_settings(p) }
                })
                .collect();
            ([(header::CACHE_CONTROL, "no-store")], Json(edge::ProjectsResponse { projects })).into_response()
        }
        Err(e) => {
            let e: imgflush::backend::ServiceError = e;
            tracing::warn!(error = %e, "edge settings unavailable");
            let secs = imgflush::backend::ServiceError::RETRY_AFTER_SECS;
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, secs.to_string())], "database unavailable")
                .into_response()
        }
    }
}

/// A project as the edges read it.
pub fn edge_settings(p: Project) -> edge::ProjectSettings {
    let mut s = edge::ProjectSettings::new(p.token);
    s.tag_sources = p.edge.tag_sources();
    s.tag_rules = p.edge.tag_rules.clone();
    s.allowed_origin_hosts = p.origin_hosts;
    s.origin_scheme = match p.edge.origin_scheme {
        OriginScheme::Https => edge::OriginScheme::Https,
        OriginScheme::Http => edge::OriginScheme::Http,
    };
    s.allow_private_origins = p.edge.allow_private_origins;
    s.private_origins_allowed = p.edge.private_origins_allowed;
    s.max_age = p.max_age_secs.clamp(0, u32::MAX as i64) as u32;
    s.s_maxage = p.s_maxage_secs.clamp(0, u32::MAX as i64) as u32;
    // Only an approved custom host reaches the edges.
    s.custom_host = p.edge.custom_host.filter(|_| !p.edge.custom_host_pending);
    s.sign_salt = p.edge.sign_salt.map(edge::Secret::new);
    if let Some(n) = p.edge.sign_length {
        s.sign_length = n;
    }
    s.sealed = p.edge.sealed;
    s.strict_seal = p.edge.strict_seal;
    s.no_upscale = p.edge.no_upscale;
    s.auto_format = p.edge.auto_format;
    s.linear_light = p.edge.linear_light;
    s
}
