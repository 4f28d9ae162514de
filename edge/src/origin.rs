//! Step 4: fetch the origin image, SSRF-safe. Only the project's allowed
//! hosts; resolved (and literal) addresses must be public unless the project
//! allows private origins; no proxy; no redirects; bounded time and size.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::config::Limits;
use crate::error::EdgeError;
use crate::request::ImageRequest;
use crate::settings::ProjectSettings;

pub enum Fetched {
    Image(Bytes),
    /// The origin answered 404/410: cached briefly as a 404.
    NotFound,
}

pub struct OriginClient {
    public_only: reqwest::Client,
    any_address: reqwest::Client,
    max_bytes: u64,
}

impl OriginClient {
    pub fn new(limits: &Limits) -> Self {
        let build = |guard: bool| {
            let mut b = reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(limits.connect_timeout)
                .timeout(limits.origin_timeout)
                .user_agent(concat!("imgflush-edge/", env!("CARGO_PKG_VERSION")));
            if guard {
                b = b.dns_resolver(Arc::new(PublicOnlyResolver));
            }
            b.build().expect("a reqwest client without custom TLS always builds")
        };
        OriginClient { public_only: build(true), any_address: build(false), max_bytes: limits.max_origin_bytes }
    }

    /// The image (or its absence), with the origin's response headers, which
    /// the object's cache tags are read from (`crate::tags`) and which
    /// never reach the client.
    pub async fn fetch(&self, req: &ImageRequest) -> Result<(Fetched, HeaderMap), EdgeError> {
        let project = &req.project;
        let host = req.origin_host();
        if !host_allowed(project, host) {
            return Err(EdgeError::forbidden(
                "origin_not_allowed",
                format!("origin host {host} is not allowed for this token"),
            ));
        }
        let url = format!("{}:/{}", project.origin_scheme.as_str(), req.origin.as_str());
        let url = reqwest::Url::parse(&url)
            .map_err(|e| EdgeError::bad_request("bad_origin_path", format!("origin URL {url}: {e}")))?;
        // IP literals (in any spelling the URL parser accepts, e.g.
        // `2130706433`) never reach the resolver, so they are checked here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        let private_ok = project.allow_private_origins || private_allowed(project, host);
        if literal.is_some_and(|ip| !private_ok && !is_public(ip)) {
            return Err(private(host));
        }
        let client = if private_ok { &self.any_address } else { &self.public_only };
        let res = client.get(url).send().await.map_err(|e| classify(host, e))?;
        let status = res.status();
        if status.is_redirection() {
            return Err(EdgeError::bad_gateway("origin_redirected", "origin redirected"));
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok((Fetched::NotFound, res.headers().clone()));
        }
        if !status.is_success() {
            return Err(EdgeError::bad_gateway("origin_status", format!("origin answered {}", status.as_u16())));
        }
        if res.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(self.too_large());
        }
        let headers = res.headers().clone();
        let mut body = BytesMut::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(host, e))?;
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(self.too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((Fetched::Image(body.freeze()), headers))
    }

    fn too_large(&self) -> EdgeError {
        EdgeError::bad_gateway("origin_too_large", format!("origin image is larger than {} bytes", self.max_bytes))
    }
}

fn private(host: &str) -> EdgeError {
    EdgeError::forbidden("origin_private", format!("origin {host} is a private or reserved address"))
}

fn classify(host: &str, e: reqwest::Error) -> EdgeError {
    let mut source = e.source();
    while let Some(s) = source {
        if s.downcast_ref::<PrivateAddress>().is_some() {
            return private(host);
        }
        source = s.source();
    }
    if e.is_timeout() {
        EdgeError::new(StatusCode::GATEWAY_TIMEOUT, "origin_timeout", "origin timed out")
    } else {
        tracing::info!(%host, error = %e, "origin fetch failed");
        EdgeError::bad_gateway("origin_unreachable", "origin unreachable")
    }
}

/// `host` or `host:port` entries match exactly (no port = the scheme's
/// default); `*.example.com` matches any subdomain on the default port.
pub fn host_allowed(project: &ProjectSettings, host_port: &str) -> bool {
    project.allowed_origin_hosts.iter().any(|entry| imgflush::domain::url::origin_host_matches(entry, host_port))
}

/// Whether `host_port` is one of the project's `private_origins_allowed`
/// entries, exactly (`host:port`; no wildcard, no default port).
fn private_allowed(project: &ProjectSettings, host_port: &str) -> bool {
    project.private_origins_allowed.iter().any(|e| e.trim().eq_ignore_ascii_case(host_port))
}

/// Whether `ip` is a globally routable unicast address: the console's own
/// classifier (loopback, private, link-local with the cloud metadata
/// address, CGNAT, documentation, multicast, reserved, Teredo; IPv4 embedded
/// in IPv6 judged as that IPv4), so origins and purge targets agree.
pub fn is_public(ip: IpAddr) -> bool {
    imgflush::domain::address::is_public(ip)
}

#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private or reserved addresses")]
struct PrivateAddress(String);

/// Resolves with the system resolver and drops every non-public address,
/// so a host name pointing at 127.0.0.1 or 169.254.169.254 is refused after
/// the DNS answer, where a check on the name alone would be fooled.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(PrivateAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_classes() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001::1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn allowed_hosts() {
        let mut p = ProjectSettings::new("demo");
        p.allowed_origin_hosts = vec!["sample.li".into(), "127.0.0.1:8080".into(), "*.cdn.example".into()];
        for h in ["sample.li", "SAMPLE.li", "127.0.0.1:8080", "a.cdn.example", "a.b.cdn.example"] {
            assert!(host_allowed(&p, h), "{h}");
        }
        for h in ["evil.sample.li", "sample.li:8080", "127.0.0.1", "cdn.example", "xcdn.example", "a.cdn.example:22"] {
            assert!(!host_allowed(&p, h), "{h}");
        }
    }
}
