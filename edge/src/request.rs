//! Step 1 of the pipeline: which project, which origin image, which raw
//! string a signature covers. Pure; works on the raw `Host`, path and query.
//!
//! Three addressings reach the same cache entry:
//! - path: `/{token}/{host[:port]}/{path}` (the signed string follows `/{token}`);
//! - host label: `{token}.{edge_domain}` + `[/v7]/{host}/{path}`;
//! - custom host (CNAME) + `[/v7]/{host}/{path}`.

use std::sync::Arc;

use imgflush::domain::OriginPath;

use crate::error::EdgeError;
use crate::settings::{ProjectSettings, Projects};

/// The legacy version prefix the anchor's client libraries add.
const VERSION_PREFIX: &str = "/v7";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRequest {
    pub project: Arc<ProjectSettings>,
    /// Canonical origin path: `/{origin host[:port]}/{path}`.
    pub origin: OriginPath,
    /// Raw path (no query) after the token / version prefix: what `ci_seal` covers.
    pub signed_path: String,
    /// Raw query, if any.
    pub raw_query: Option<String>,
}

impl ImageRequest {
    pub fn token(&self) -> &str {
        &self.project.token
    }

    /// `host[:port]` of the origin: the first segment of the canonical path.
    pub fn origin_host(&self) -> &str {
        let p = &self.origin.as_str()[1..];
        p.split('/').next().unwrap_or(p)
    }
}

pub fn parse(
    host: Option<&str>,
    raw_path: &str,
    raw_query: Option<&str>,
    edge_domain: Option<&str>,
    projects: &Projects,
) -> Result<ImageRequest, EdgeError> {
    let host = host.map(|h| strip_port(h).to_ascii_lowercase());
    let by_host = host.as_deref().and_then(|h| project_by_host(h, edge_domain, projects));
    let (project, rest) = match by_host {
        Some(found) => {
            let project = found?;
            let rest = match raw_path.strip_prefix(VERSION_PREFIX) {
                Some(r) if r.is_empty() || r.starts_with('/') => r,
                _ => raw_path,
            };
            (project, rest)
        }
        None => {
            let after = raw_path.strip_prefix('/').unwrap_or(raw_path);
            let (token, rest) = match after.find('/') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            };
            let project = projects
                .by_token(token)
                .cloned()
                .ok_or_else(|| EdgeError::new(axum::http::StatusCode::NOT_FOUND, "unknown_token", "unknown token"))?;
            (project, rest)
        }
    };
    if rest.len() <= 1 {
        return Err(EdgeError::bad_request("no_origin", "the URL names no origin image (/{token}/{host}/{path})"));
    }
    let origin =
        OriginPath::parse(rest).map_err(|e| EdgeError::bad_request("bad_origin_path", format!("origin path: {e}")))?;
    if origin.is_prefix() || !origin.as_str()[1..].contains('/') {
        return Err(EdgeError::bad_request("bad_origin_path", "origin path must be {host}/{path to an image}"));
    }
    Ok(ImageRequest {
        project,
        origin,
        signed_path: rest.to_owned(),
        raw_query: raw_query.filter(|q| !q.is_empty()).map(str::to_owned),
    })
}

/// `Some` when the host itself names the project (label or CNAME).
fn project_by_host(
    host: &str,
    edge_domain: Option<&str>,
    projects: &Projects,
) -> Option<Result<Arc<ProjectSettings>, EdgeError>> {
    if let Some(domain) = edge_domain {
        let domain = domain.to_ascii_lowercase();
        if let Some(label) = host.strip_suffix(domain.as_str()).and_then(|l| l.strip_suffix('.')) {
            if !label.is_empty() && !label.contains('.') {
                return Some(projects.by_token(label).cloned().ok_or_else(|| {
                    EdgeError::new(axum::http::StatusCode::NOT_FOUND, "unknown_token", "unknown token")
                }));
            }
        }
    }
    projects.by_custom_host(host).cloned().map(Ok)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projects() -> Projects {
        let mut demo = ProjectSettings::new("demo");
        demo.custom_host = Some("img.example.com".into());
        Projects::new(vec![demo, ProjectSettings::new("v7")])
    }

    #[test]
    fn all_forms_name_the_same_origin() {
        let p = projects();
        let d = Some("edge.test");
        let forms = [
            (Some("localhost:8081"), "/demo/sample.li/flat1.jpg"),
            (Some("demo.edge.test"), "/sample.li/flat1.jpg"),
            (Some("demo.edge.test:8081"), "/v7/sample.li/flat1.jpg"),
            (Some("IMG.example.com"), "/sample.li/flat1.jpg"),
            (Some("img.example.com"), "/v7/sample.li/flat1.jpg"),
            (None, "/demo/sample.li/flat1.jpg"),
        ];
        for (host, path) in forms {
            let r = parse(host, path, Some("w=500"), d, &p).unwrap();
            assert_eq!((r.token(), r.origin.as_str()), ("demo", "/sample.li/flat1.jpg"), "{host:?} {path}");
            assert_eq!(r.signed_path, "/sample.li/flat1.jpg");
            assert_eq!(r.origin_host(), "sample.li");
        }
    }

    #[test]
    fn path_form_keeps_a_token_named_v7() {
        let r = parse(Some("localhost"), "/v7/sample.li/a.jpg", None, None, &projects()).unwrap();
        assert_eq!(r.token(), "v7");
    }

    #[test]
    fn refusals() {
        let p = projects();
        let code = |host, path| parse(host, path, None, Some("edge.test"), &p).unwrap_err().code;
        assert_eq!(code(Some("localhost"), "/nope/sample.li/a.jpg"), "unknown_token");
        assert_eq!(code(Some("nope.edge.test"), "/sample.li/a.jpg"), "unknown_token");
        assert_eq!(code(Some("localhost"), "/demo/"), "no_origin");
        assert_eq!(code(Some("localhost"), "/demo/sample.li"), "bad_origin_path");
        assert_eq!(code(Some("localhost"), "/demo/sample.li/img/*"), "bad_origin_path");
        assert_eq!(code(Some("localhost"), "/demo/sample.li/%zz.jpg"), "bad_origin_path");
    }
}
