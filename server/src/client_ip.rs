//! The client address every rate limit keys on: the peer address, or from
//! `X-Forwarded-For` when the peer is one of `security.trusted_proxies` (the
//! rule lives in `imgflush::domain::proxies`, shared with the edge).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The client address, set on every request by [`layer`] (defined beside
/// the services so server functions read it too).
pub use imgflush::backend::ClientIp;
use imgflush::domain::proxies::FORWARDED_FOR;
pub use imgflush::domain::proxies::{Cidr, TrustedProxies};

/// The `X-Forwarded-For` values of a request, in order.
pub fn forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers.get_all(FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok())
}

/// Sets [`ClientIp`] on the request.
pub async fn layer(
    axum::extract::State(trusted): axum::extract::State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = trusted.client(peer, forwarded_for(req.headers()));
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn every_forwarded_for_header_is_read() {
        let mut h = HeaderMap::new();
        h.append(FORWARDED_FOR, HeaderValue::from_static("6.6.6.6, 1.2.3.4"));
        h.append(FORWARDED_FOR, HeaderValue::from_static("10.0.0.2"));
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let peer = Some("10.0.0.1".parse().unwrap());
        assert_eq!(t.client(peer, forwarded_for(&h)), Some("1.2.3.4".parse().unwrap()));
    }
}
