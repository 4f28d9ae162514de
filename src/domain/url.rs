use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but unreserved characters and `/`, which a query value may hold
/// as is (it keeps `next=/p/demo/invalidation` readable).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encodes `s` for use as one query-string value.
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Whether `host_port` (`img.example.com`, `host:8080`) is served by the
/// origin-host entry `entry`: equal (case aside), or under a `*.suffix`
/// wildcard, one or more labels deep and without a port. The edge fetches
/// from such hosts; the console warns about paths under any other.
pub fn origin_host_matches(entry: &str, host_port: &str) -> bool {
    let entry = entry.trim().to_ascii_lowercase();
    let host_port = host_port.to_ascii_lowercase();
    match entry.strip_prefix("*.") {
        Some(suffix) => host_port.strip_suffix(suffix).is_some_and(|l| l.ends_with('.') && !l.contains(':')),
        None => entry == host_port,
    }
}

#[cfg(test)]
mod tests {
    use super::{origin_host_matches, query_value};

    #[test]
    fn encodes_separators_but_keeps_slashes() {
        assert_eq!(query_value("/p/demo?x=1&y=é #"), "/p/demo%3Fx%3D1%26y%3D%C3%A9%20%23");
    }

    #[test]
    fn origin_hosts_match_exactly_or_under_a_wildcard() {
        assert!(origin_host_matches("img.example.com", "IMG.example.com"));
        assert!(origin_host_matches("127.0.0.1:3003", "127.0.0.1:3003"));
        assert!(origin_host_matches("*.cdn.example.com", "a.cdn.example.com"));
        assert!(origin_host_matches("*.cdn.example.com", "a.b.cdn.example.com"));
        assert!(!origin_host_matches("*.cdn.example.com", "cdn.example.com"), "the wildcard needs a label");
        assert!(!origin_host_matches("*.cdn.example.com", "evilcdn.example.com"));
        assert!(!origin_host_matches("*.cdn.example.com", "a.cdn.example.com:8080"), "no port under a wildcard");
        assert!(!origin_host_matches("img.example.com", "img.example.com:8080"));
    }
}
