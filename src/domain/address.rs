//! One classifier of IP addresses for every place that refuses private
//! ones: the console's purge targets and hooks, and the edge's origins.
//! Special-use addresses are recognised in every spelling an address
//! parser accepts, and IPv4 addresses embedded in IPv6 (mapped, compatible,
//! NAT64, 6to4) are judged as the IPv4 address they reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address as the console records and shows it (a session's, a key's
/// last use): [`canonical`], as text.
pub fn canonical_text(ip: IpAddr) -> String {
    canonical(ip).to_string()
}

/// IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            // ::a.b.c.d (deprecated IPv4-compatible), but not :: and ::1.
            if s[..6] == [0; 6] && u32::from(embedded) > 1 {
                return IpAddr::V4(embedded);
            }
            // 64:ff9b::/96, the well-known NAT64 prefix.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return IpAddr::V4(embedded);
            }
            // 2002::/16, 6to4: the relay delivers to the IPv4 address in
            // the second and third groups (2002:7f00:1:: is 127.0.0.1).
            if s[0] == 0x2002 {
                return IpAddr::V4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// What kind of non-public address `ip` is, or `None` for public unicast.
pub fn special_use(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [0, ..] => "unspecified",
        [127, ..] => "loopback",
        [10, ..] | [172, 16..=31, ..] | [192, 168, ..] => "private",
        [100, 64..=127, ..] => "shared (CGNAT)",
        [169, 254, 169, 254] => "cloud metadata",
        [169, 254, ..] => "link-local",
        [192, 0, 0, _] => "IETF protocol",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, 18..=19, ..] => "benchmarking",
        [224..=239, ..] => "multicast",
        [255, 255, 255, 255] => "broadcast",
        [240..=255, ..] => "reserved",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        [0xfd00, 0x0ec2, ..] => "cloud metadata",
        [a, ..] if a & 0xfe00 == 0xfc00 => "private (unique local)",
        [a, ..] if a & 0xffc0 == 0xfe80 => "link-local",
        [a, ..] if a & 0xffc0 == 0xfec0 => "site-local",
        [a, ..] if a & 0xff00 == 0xff00 => "multicast",
        [0x2001, 0x0db8, ..] => "documentation",
        // 2001::/32: Teredo tunnels, whose client address is obfuscated in
        // the last groups; nothing a purge target or origin should be.
        [0x2001, 0x0000, ..] => "Teredo tunnel",
        [0x0100, 0, 0, 0, ..] => "discard",
        // Global unicast is 2000::/3; everything else is unassigned or special.
        [a, ..] if a & 0xe000 != 0x2000 => "reserved",
        _ => return None,
    })
}

/// Whether `ip` is a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    special_use(ip).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> Option<&'static str> {
        special_use(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")))
    }

    #[test]
    fn six_to_four_is_judged_by_the_ipv4_address_it_reaches() {
        for (ip, want) in [
            ("2002:7f00:1::", Some("loopback")),
            ("2002:7f00:0001:0000:0000:0000:0000:0000", Some("loopback")),
            ("2002:7F00:1::1", Some("loopback")),
            ("2002:a9fe:a9fe::", Some("cloud metadata")),
            ("2002:0a00:0001::1", Some("private")),
            ("2002:c0a8:0101::", Some("private")),
            ("2002:0808:0808::", None),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn teredo_is_never_public() {
        for ip in [
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0000:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0:0:0:0:0:0:1",
            "2001:0:808:808::",
        ] {
            assert_eq!(class(ip), Some("Teredo tunnel"), "{ip}");
        }
        // Its neighbours in 2001::/16 are ordinary global unicast.
        assert_eq!(class("2001:4860:4860::8888"), None);
        assert_eq!(class("2001:1::1"), None);
    }

    #[test]
    fn embedded_ipv4_in_every_notation() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "0:0:0:0:0:ffff:7f00:0001",
            "::127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
        ] {
            assert_eq!(class(ip), Some("loopback"), "{ip}");
        }
        assert!(is_public("::ffff:8.8.8.8".parse().unwrap()));
        assert!(!is_public("::ffff:169.254.169.254".parse().unwrap()));
    }
}
