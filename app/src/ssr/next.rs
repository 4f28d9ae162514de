//! Where a sign-in goes once complete: a checked local path.

/// Only same-site paths: never `//host`, a full URL, or anything a browser
/// might read as one after dropping characters (tabs and line breaks are
/// removed by URL parsers, `\\` is read as `/`: `/\t/evil.example` becomes
/// `//evil.example`). Control characters and backslashes anywhere, or text
/// that is not a relative reference, give `/`. So does `/login` itself.
pub fn safe_next(next: Option<&str>) -> &str {
    const MAX: usize = 2048;
    let Some(n) = next else { return "/" };
    let plain = n.len() <= MAX && !n.chars().any(|c| c.is_control() || c == '\\');
    let local = n.starts_with('/') && !n.starts_with("//");
    let relative = plain
        && local
        && n.parse::<axum::http::Uri>().is_ok_and(|u| {
            u.scheme().is_none() && u.authority().is_none() && u.path().starts_with('/') && !u.path().starts_with("//")
        });
    let path = n.split(['?', '#']).next().unwrap_or_default();
    if relative && path != "/login" && !path.starts_with("/login/") {
        n
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_always_a_local_path() {
        assert_eq!(safe_next(Some("/p/demo/invalidation")), "/p/demo/invalidation");
        assert_eq!(
            safe_next(Some("/p/demo/invalidation?q=%2Fa&status=DONE")),
            "/p/demo/invalidation?q=%2Fa&status=DONE"
        );
        assert_eq!(safe_next(Some("/loginhelp")), "/loginhelp");
        assert_eq!(safe_next(None), "/");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/login?x",
            "/login",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r//evil.example",
            "/p/\\/evil",
            "/p\nLocation: x",
            "/\u{0}x",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
