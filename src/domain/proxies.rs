//! Which address a request comes from, behind proxies: the peer address of
//! the connection, unless the peer is a trusted proxy; then `X-Forwarded-For`
//! is read from the right, skipping trusted hops, and the right-most
//! untrusted address is the client. Addresses a client writes itself (the
//! left of the header) are never believed. Shared by the console's rate
//! limits (`security.trusted_proxies`) and the edge's miss limits.

use std::net::{IpAddr, SocketAddr};

/// The header read from trusted proxies.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// An address block such as `10.0.0.0/8`, `2001:db8::/32` or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length after the slash must be 0 to {max}"))?,
        };
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        list.iter().map(|s| s.as_ref().parse()).collect::<Result<_, _>>().map(TrustedProxies)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client address of a request from `peer` carrying these
    /// `X-Forwarded-For` header values (each possibly a comma-separated list).
    pub fn client<'a>(&self, peer: Option<IpAddr>, forwarded_for: impl IntoIterator<Item = &'a str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        // All X-Forwarded-For headers, as one list, read from the right.
        let hops: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.0.1")) && !c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")), "v4-mapped v6 peers count as v4");
        let one: Cidr = "192.0.2.1".parse().unwrap();
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(Some(ip("203.0.113.9")), ["1.2.3.4"]), Some(ip("203.0.113.9")));
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        // An untrusted peer's header is ignored.
        assert_eq!(t.client(Some(ip("203.0.113.9")), ["1.2.3.4"]), Some(ip("203.0.113.9")));
        // The right-most untrusted hop wins; a client-written left part is not believed.
        assert_eq!(t.client(Some(ip("10.0.0.1")), ["6.6.6.6, 1.2.3.4, 10.0.0.2"]), Some(ip("1.2.3.4")));
        assert_eq!(t.client(Some(ip("10.0.0.1")), ["6.6.6.6", "1.2.3.4"]), Some(ip("1.2.3.4")));
        assert_eq!(t.client(Some(ip("10.0.0.1")), ["1.2.3.4:5678"]), Some(ip("1.2.3.4")));
        // Nothing usable: the proxy itself.
        assert_eq!(t.client(Some(ip("10.0.0.1")), []), Some(ip("10.0.0.1")));
        assert_eq!(t.client(Some(ip("10.0.0.1")), ["garbage"]), Some(ip("10.0.0.1")));
        assert_eq!(t.client(None, ["1.2.3.4"]), None);
    }
}
