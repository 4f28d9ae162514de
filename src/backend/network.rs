//! Which addresses purge targets may point at: public unicast addresses, plus
//! the networks the operator allows (`targets.allowed_networks`). Checked
//! when a target is added (literal addresses) and again at connect time on
//! every resolved address, so a DNS name cannot lead into the internal network.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The operator's allow-list on top of public unicast addresses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkPolicy {
    allowed: Vec<IpNet>,
    /// Exact `address:port`s allowed as URL literals whatever their network:
    /// the console's own embedded edge (its admin listener), which the
    /// operator configured, so that the defaults work without opening the
    /// whole loopback network to every project's targets.
    endpoints: Vec<SocketAddr>,
}

impl NetworkPolicy {
    /// Public unicast addresses only: the default.
    pub fn public_only() -> Self {
        NetworkPolicy::default()
    }

    /// Public addresses and `networks` (CIDRs such as `10.1.0.0/16`).
    pub fn allowing(networks: impl IntoIterator<Item = IpNet>) -> Self {
        NetworkPolicy { allowed: networks.into_iter().collect(), endpoints: Vec::new() }
    }

    /// Parses CIDRs (a bare address is a single host); the error names the bad entry.
    pub fn parse<S: AsRef<str>>(networks: &[S]) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for n in networks {
            let n = n.as_ref().trim();
            let net = n
                .parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{n}` is not a network such as 10.0.0.0/8 or fd00::/8"))?;
            allowed.push(net.trunc());
        }
        Ok(NetworkPolicy { allowed, endpoints: Vec::new() })
    }

    /// Also allows URLs whose host is `endpoint`'s address literally and whose
    /// port is its port (a name resolving to it is still checked by network).
    pub fn with_endpoint(mut self, endpoint: SocketAddr) -> Self {
        self.endpoints.push(SocketAddr::new(canonical(endpoint.ip()), endpoint.port()));
        self
    }

    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    /// Loopback (`127.0.0.0/8`, `::1/128`) on top of public addresses: the demo and tests.
    pub fn loopback() -> Self {
        Self::parse(&["127.0.0.0/8", "::1/128"]).expect("valid CIDRs")
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.allowed
    }

    /// `Err(why)` when `ip` is neither public nor in an allowed network.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let ip = canonical(ip);
        match special_use(ip) {
            None => Ok(()),
            Some(_) if self.allowed.iter().any(|n| n.contains(&ip)) => Ok(()),
            Some(kind) => Err(format!(
                "{ip} is a {kind} address, which purge targets may not use unless the operator allows its \
                 network (targets.allowed_networks)"
            )),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.check(ip).is_ok()
    }

    /// Checks a URL whose host is an IP literal (in any form the URL parser
    /// accepts: decimal, hex, octal, IPv6-mapped); names pass here and are
    /// checked on their resolved addresses at connect time.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        match literal_host(url) {
            Some(ip) => {
                let at = url.port_or_known_default().map(|port| SocketAddr::new(canonical(ip), port));
                if at.is_some_and(|at| self.endpoints.contains(&at)) {
                    return Ok(());
                }
                self.check(ip)
            }
            None => Ok(()),
        }
    }
}

/// The host of `url` when it is an IP address.
pub fn literal_host(url: &reqwest::Url) -> Option<IpAddr> {
    // The URL parser already normalised IPv4 literals (decimal, hex, octal)
    // to dotted form and IPv6 ones to brackets.
    let host = url.host_str()?;
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).parse().ok()
}

pub use crate::domain::address::{canonical, special_use};

/// Refused by the policy: never sent. Carried through reqwest's error chain
/// so the purge driver can say why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Disallowed(pub String);

/// DNS resolution that keeps only the addresses the policy permits, so the
/// connection is made to a checked address (no re-resolution in between).
pub struct PolicyResolver {
    policy: Arc<NetworkPolicy>,
}

impl PolicyResolver {
    pub fn new(policy: NetworkPolicy) -> Self {
        PolicyResolver { policy: Arc::new(policy) }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| "no address".to_owned());
                return Err(Box::new(Disallowed(format!("{host} resolves to a refused address: {why}"))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_ip(url: &str) -> IpAddr {
        literal_host(&reqwest::Url::parse(url).unwrap()).unwrap()
    }

    #[test]
    fn literal_forms_are_normalised_before_the_check() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://127.1/",
        ] {
            assert_eq!(url_ip(url), loopback, "{url}");
        }
        assert_eq!(canonical(url_ip("http://[::ffff:127.0.0.1]/")), loopback);
        assert_eq!(canonical(url_ip("http://[::ffff:7f00:1]/")), loopback);
        assert_eq!(canonical(url_ip("http://[64:ff9b::a9fe:a9fe]/")), "169.254.169.254".parse::<IpAddr>().unwrap());
        assert_eq!(canonical(url_ip("http://[::127.0.0.1]/")), loopback);
        assert!(literal_host(&reqwest::Url::parse("http://purge.example/").unwrap()).is_none());
    }

    #[test]
    fn classifies_special_use_addresses() {
        let cases = [
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("100.64.0.1", Some("shared (CGNAT)")),
            ("100.100.100.200", Some("shared (CGNAT)")),
            ("0.0.0.0", Some("unspecified")),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("broadcast")),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("fe80::1", Some("link-local")),
            ("fd12::1", Some("private (unique local)")),
            ("fd00:ec2::254", Some("cloud metadata")),
            ("ff02::1", Some("multicast")),
            ("8.8.8.8", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("93.184.216.34", None),
            ("2606:4700::1111", None),
            ("::ffff:8.8.8.8", None),
        ];
        for (ip, want) in cases {
            assert_eq!(special_use(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn the_allow_list_adds_networks_to_public_ones() {
        let public = NetworkPolicy::public_only();
        assert!(public.permits("8.8.8.8".parse().unwrap()));
        let err = public.check("127.0.0.1".parse().unwrap()).unwrap_err();
        assert!(err.contains("loopback") && err.contains("targets.allowed_networks"), "{err}");
        assert!(!public.permits("::ffff:127.0.0.1".parse().unwrap()));

        let lo = NetworkPolicy::loopback();
        assert!(lo.permits("127.0.0.1".parse().unwrap()));
        assert!(lo.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(lo.permits("::1".parse().unwrap()));
        assert!(!lo.permits("10.0.0.1".parse().unwrap()));
        assert!(!lo.permits("169.254.169.254".parse().unwrap()));

        let lan = NetworkPolicy::parse(&["10.1.0.0/16", "192.168.7.7"]).unwrap();
        assert!(lan.permits("10.1.200.3".parse().unwrap()));
        assert!(!lan.permits("10.2.0.1".parse().unwrap()));
        assert!(lan.permits("192.168.7.7".parse().unwrap()));
        assert!(!lan.permits("192.168.7.8".parse().unwrap()));
        assert!(NetworkPolicy::parse(&["10.0.0.0/33"]).unwrap_err().contains("10.0.0.0/33"));
    }

    #[test]
    fn an_endpoint_allows_its_address_and_port_only() {
        let policy = NetworkPolicy::public_only().with_endpoint("127.0.0.1:3004".parse().unwrap());
        let check = |u: &str| policy.check_url(&reqwest::Url::parse(u).unwrap());
        assert!(check("http://127.0.0.1:3004/_purge").is_ok());
        assert!(check("http://2130706433:3004/_purge").is_ok(), "any literal form of the same address");
        assert!(check("http://127.0.0.1:3000/").is_err(), "another port of the same address");
        assert!(check("http://127.0.0.1/").is_err());
        assert!(check("http://127.0.0.2:3004/").is_err());
        assert!(!policy.permits("127.0.0.1".parse().unwrap()), "names resolving to it are checked by network");
    }

    #[test]
    fn urls_with_literal_hosts_are_checked() {
        let public = NetworkPolicy::public_only();
        for url in ["http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]:81/", "http://169.254.169.254/x"]
        {
            assert!(public.check_url(&reqwest::Url::parse(url).unwrap()).is_err(), "{url}");
        }
        assert!(public.check_url(&reqwest::Url::parse("http://localhost:1/").unwrap()).is_ok(), "names pass here");
        assert!(public.check_url(&reqwest::Url::parse("https://93.184.216.34/").unwrap()).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        use reqwest::dns::Resolve;
        let refused = PolicyResolver::new(NetworkPolicy::public_only()).resolve("localhost".parse().unwrap()).await;
        let err = refused.err().expect("localhost is loopback");
        assert!(err.to_string().contains("loopback"), "{err}");
        let allowed = PolicyResolver::new(NetworkPolicy::loopback()).resolve("localhost".parse().unwrap()).await;
        assert!(allowed.expect("loopback allowed").all(|a| a.ip().is_loopback()));
    }
}
