use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but unreserved characters and `/`, which a query value may hold
/// as is (it keeps `next=/p/demo/invalidation` readable).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encodes `s` for use as one query-string value.
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn encodes_separators_but_keeps_slashes() {
        assert_eq!(query_value("/p/demo?x=1&y=é #"), "/p/demo%3Fx%3D1%26y%3D%C3%A9%20%23");
    }
}
