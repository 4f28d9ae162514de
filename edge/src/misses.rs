//! Step 5a: misses (an origin fetch and a transform) are rationed per
//! project token and per client address, each a token bucket holding one
//! minute's allowance; hits never draw from them. A refused miss is a 429
//! with `Retry-After`. The client address is the peer's unless the peer is a
//! trusted proxy (`EdgeConfig::trusted_proxies`): behind Varnish or a CDN
//! every miss comes from a node, so only then is `X-Forwarded-For` read.
//! IPv6 clients count per /64, which one subscriber usually holds whole.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use crate::error::EdgeError;

/// Buckets kept per kind before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

pub struct MissLimits {
    per_token: u32,
    per_client: u32,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    tokens: HashMap<String, Bucket>,
    clients: HashMap<IpAddr, Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
    left: f64,
    at: Instant,
}

impl MissLimits {
    /// Misses a minute per token and per client address; 0 = no limit.
    pub fn new(per_token: u32, per_client: u32) -> Self {
        MissLimits { per_token, per_client, buckets: Mutex::default() }
    }

    /// Takes one miss from both budgets, or refuses naming the one that ran out.
    pub fn take(&self, token: &str, client: Option<IpAddr>) -> Result<(), EdgeError> {
        self.take_at(token, client, Instant::now())
    }

    fn take_at(&self, token: &str, client: Option<IpAddr>, now: Instant) -> Result<(), EdgeError> {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let client = client.map(client_key).filter(|_| self.per_client > 0);
        let c = client.map(|ip| refill(&mut b.clients, ip, self.per_client, now));
        let t = (self.per_token > 0).then(|| refill(&mut b.tokens, token.to_owned(), self.per_token, now));
        if let Some(c) = c.filter(|c| c.left < 1.0) {
            return Err(refused("this address", wait(c, self.per_client)));
        }
        if let Some(t) = t.filter(|t| t.left < 1.0) {
            return Err(refused("this project", wait(t, self.per_token)));
        }
        if let Some(ip) = client {
            b.clients.insert(ip, Bucket { left: c.map_or(0.0, |c| c.left) - 1.0, at: now });
        }
        if t.is_some() {
            b.tokens.insert(token.to_owned(), Bucket { left: t.map_or(0.0, |t| t.left) - 1.0, at: now });
        }
        Ok(())
    }
}

/// The bucket of `key` as of `now` (not stored back: the caller decides).
fn refill<K: Hash + Eq>(map: &mut HashMap<K, Bucket>, key: K, per_minute: u32, now: Instant) -> Bucket {
    let full = f64::from(per_minute);
    if map.len() >= MAX_BUCKETS {
        map.retain(|_, b| b.left + rate(per_minute) * now.duration_since(b.at).as_secs_f64() < full);
        if map.len() >= MAX_BUCKETS / 2 {
            map.clear();
        }
    }
    match map.get(&key) {
        Some(b) => {
            Bucket { left: (b.left + rate(per_minute) * now.duration_since(b.at).as_secs_f64()).min(full), at: now }
        }
        None => Bucket { left: full, at: now },
    }
}

fn rate(per_minute: u32) -> f64 {
    f64::from(per_minute) / 60.0
}

/// Whole seconds until the bucket holds one miss again.
fn wait(b: Bucket, per_minute: u32) -> u64 {
    ((1.0 - b.left) / rate(per_minute)).ceil().max(1.0) as u64
}

fn refused(whom: &str, retry_after: u64) -> EdgeError {
    let msg = format!("too many uncached images requested for {whom}; retry in {retry_after} s");
    EdgeError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_misses", msg).retry_after(retry_after)
}

/// IPv4 (or IPv4-mapped) as is; IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn budgets_per_client_and_per_token_refill_over_a_minute() {
        let l = MissLimits::new(5, 2);
        let t0 = Instant::now();
        assert!(l.take_at("a", ip("192.0.2.1"), t0).is_ok());
        assert!(l.take_at("a", ip("192.0.2.1"), t0).is_ok());
        let e = l.take_at("a", ip("192.0.2.1"), t0).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code, e.retry_after), (429, "too_many_misses", Some(30)));
        assert!(e.message.contains("this address"));
        // Another address, same token: 3 left of 5, the refusal above took none.
        for client in ["192.0.2.2", "192.0.2.2", "192.0.2.3"] {
            assert!(l.take_at("a", ip(client), t0).is_ok());
        }
        let e = l.take_at("a", ip("192.0.2.9"), t0).unwrap_err();
        assert!(e.message.contains("this project"), "{}", e.message);
        assert!(l.take_at("b", ip("192.0.2.9"), t0).is_ok(), "another token has its own budget");
        // 12 s later one more miss for the token (5 a minute).
        assert!(l.take_at("a", ip("192.0.2.9"), t0 + Duration::from_secs(12)).is_ok());
        assert!(l.take_at("a", ip("192.0.2.8"), t0 + Duration::from_secs(12)).is_err());
        // No limits at 0; no address: only the token's budget.
        let open = MissLimits::new(0, 0);
        assert!((0..1000).all(|_| open.take_at("a", ip("192.0.2.1"), t0).is_ok()));
        let token_only = MissLimits::new(1, 1);
        assert!(token_only.take_at("a", None, t0).is_ok() && token_only.take_at("a", None, t0).is_err());
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let l = MissLimits::new(0, 1);
        let t0 = Instant::now();
        assert!(l.take_at("a", ip("2001:db8:1:2::1"), t0).is_ok());
        assert!(l.take_at("a", ip("2001:db8:1:2:ffff::9"), t0).is_err());
        assert!(l.take_at("a", ip("2001:db8:1:3::1"), t0).is_ok());
        assert!(l.take_at("a", ip("::ffff:192.0.2.1"), t0).is_ok());
        assert!(l.take_at("a", ip("192.0.2.1"), t0).is_err(), "v4-mapped is the same client");
    }
}
