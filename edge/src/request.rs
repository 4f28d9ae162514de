//! Step 1 of the pipeline: which project, which origin image, which raw
//! string a signature covers. Pure; works on the raw `Host`, path and query.
//!
//! Three addressings reach the same cache entry:
//! - path: `/{token}/{host[:port]}/{path}` (the signed string follows `/{token}`);
//! - host label: `{token}.{edge_domain}` + `[/v7]/{host}/{path}`;
//! - custom host (CNAME) + `[/v7]/{host}/{path}`.
//!
//! A custom host never takes one of the edge's own names (its domain, its
//! aliases, its listen address, any IP literal, `localhost`), and a path
//! whose first segment is a known token is the path form whatever the host:
//! one project's custom host cannot capture another's URLs.

use std::net::IpAddr;
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

/// The names that address the edge itself (see `EdgeConfig::host_names`).
#[derive(Clone, Copy, Debug)]
pub struct HostNames<'a> {
    pub edge_domain: Option<&'a str>,
    pub aliases: &'a [String],
}

impl HostNames<'_> {
    /// Whether `host` (lower case, no port) is one of the edge's own names
    /// or below one, which no custom host may shadow. Any IP literal counts:
    /// the listen address is one, whichever interface a client used.
    fn is_own(&self, host: &str) -> bool {
        let below = |name: &str| {
            let name = strip_port(name.trim());
            !name.is_empty()
                && (host.eq_ignore_ascii_case(name)
                    || host.len() > name.len()
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'
                        && host[host.len() - name.len()..].eq_ignore_ascii_case(name))
        };
        host == "localhost"
            || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok()
            || self.edge_domain.is_some_and(below)
            || self.aliases.iter().any(|a| below(a))
    }
}

pub fn parse(
    host: Option<&str>,
    raw_path: &str,
    raw_query: Option<&str>,
    names: &HostNames<'_>,
    projects: &Projects,
) -> Result<ImageRequest, EdgeError> {
    let host = host.map(|h| strip_port(h).to_ascii_lowercase());
    let by_host = host.as_deref().and_then(|h| project_by_host(h, raw_path, names, projects));
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
    raw_path: &str,
    names: &HostNames<'_>,
    projects: &Projects,
) -> Option<Result<Arc<ProjectSettings>, EdgeError>> {
    if let Some(domain) = names.edge_domain {
        let domain = domain.to_ascii_lowercase();
        if let Some(label) = host.strip_suffix(domain.as_str()).and_then(|l| l.strip_suffix('.')) {
            if !label.is_empty() && !label.contains('.') {
                return Some(projects.by_token(label).cloned().ok_or_else(|| {
                    EdgeError::new(axum::http::StatusCode::NOT_FOUND, "unknown_token", "unknown token")
                }));
            }
        }
    }
    let project = projects.by_custom_host(host)?;
    if names.is_own(host) || path_token(raw_path).is_some_and(|t| projects.by_token(t).is_some()) {
        return None;
    }
    Some(Ok(project.clone()))
}

/// The first segment of the path: a token in the path form (the legacy
/// version prefix excepted: on a custom host it is that host's prefix).
fn path_token(raw_path: &str) -> Option<&str> {
    let after = raw_path.strip_prefix('/')?;
    let token = after.split('/').next().unwrap_or(after);
    (token != &VERSION_PREFIX[1..]).then_some(token)
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

    const NAMES: HostNames<'static> = HostNames { edge_domain: Some("edge.test"), aliases: &[] };

    fn parse(
        host: Option<&str>,
        path: &str,
        query: Option<&str>,
        domain: Option<&str>,
        p: &Projects,
    ) -> Result<ImageRequest, EdgeError> {
        super::parse(host, path, query, &HostNames { edge_domain: domain, ..NAMES }, p)
    }

    #[test]
    fn a_custom_host_never_takes_the_edges_own_names_nor_another_token() {
        let aliases = ["cdn.example.net:443".to_owned()];
        let names = HostNames { aliases: &aliases, ..NAMES };
        for own in
            ["edge.test", "EDGE.test:8081", "a.b.edge.test", "10.0.0.7", "[::1]:8081", "localhost", "x.cdn.example.net"]
        {
            let mut thief = ProjectSettings::new("thief");
            thief.custom_host = Some(strip_port(own).to_ascii_lowercase());
            let p = Projects::new(vec![ProjectSettings::new("victim"), thief]);
            let r = super::parse(Some(own), "/victim/sample.li/a.jpg", None, &names, &p).unwrap();
            assert_eq!(r.token(), "victim", "{own}");
        }
        // A legitimate custom host still works, but not over a path-form token.
        let mut mine = ProjectSettings::new("mine");
        mine.custom_host = Some("img.mine.example".into());
        let p = Projects::new(vec![ProjectSettings::new("victim"), mine]);
        let r = super::parse(Some("img.mine.example"), "/sample.li/a.jpg", None, &names, &p).unwrap();
        assert_eq!(r.token(), "mine");
        let r = super::parse(Some("img.mine.example"), "/victim/sample.li/a.jpg", None, &names, &p).unwrap();
        assert_eq!(r.token(), "victim");
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
