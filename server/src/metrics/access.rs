//! Who may read `/metrics`: with `metrics.token` set, callers presenting it
//! as a bearer token; without one, only direct connections from loopback (no
//! forwarding headers, so a proxy on the same host does not open it up).

use std::net::SocketAddr;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// Why a scrape was refused.
#[derive(Debug, PartialEq)]
pub(super) enum Refused {
    /// A token is configured and was not presented.
    Token,
    /// No token is configured and the caller is not a direct loopback connection.
    NotLoopback,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Token => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "/metrics needs the metrics.token as a bearer token\n",
            )
                .into_response(),
            Refused::NotLoopback => (
                StatusCode::FORBIDDEN,
                "/metrics answers direct loopback connections only; set metrics.token to scrape it from elsewhere\n",
            )
                .into_response(),
        }
    }
}

pub(super) fn authorize(token: Option<&Secret>, headers: &HeaderMap, peer: Option<SocketAddr>) -> Result<(), Refused> {
    match token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
                Ok(())
            } else {
                Err(Refused::Token)
            }
        }
        None => {
            let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
            if peer.is_some_and(|p| p.ip().is_loopback()) && !forwarded {
                Ok(())
            } else {
                Err(Refused::NotLoopback)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn loopback_only_without_a_token_and_the_token_everywhere_with_one() {
        let none = HeaderMap::new();
        assert!(authorize(None, &none, peer("127.0.0.1:5000")).is_ok());
        assert!(authorize(None, &none, peer("[::1]:5000")).is_ok());
        assert!(authorize(None, &none, peer("192.0.2.7:5000")).is_err());
        assert!(authorize(None, &none, None).is_err(), "unknown peer");
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", "198.51.100.1".parse().unwrap());
        assert!(authorize(None, &proxied, peer("127.0.0.1:5000")).is_err(), "a local proxy opens nothing");
        let token = Secret::new("s3cret-metrics-token");
        assert!(authorize(Some(&token), &none, peer("127.0.0.1:5000")).is_err(), "the token is then required");
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, "Bearer s3cret-metrics-token".parse().unwrap());
        assert!(authorize(Some(&token), &bearer, peer("192.0.2.7:5000")).is_ok());
        bearer.insert(header::AUTHORIZATION, "Bearer s3cret-metrics-tokeN".parse().unwrap());
        assert!(authorize(Some(&token), &bearer, peer("192.0.2.7:5000")).is_err());
    }
}
