//! Heuristics that turn a pasted URL (or a path missing its `/`) into the
//! origin path the user most likely meant. Only the parser calls these; every
//! candidate is re-parsed before it is offered.

use super::error::PathErrorReason;

/// Byte offset just past `scheme://`, if the entry starts with a URL scheme.
pub(super) fn scheme_end(s: &str) -> Option<usize> {
    let colon = s.find("://")?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(colon + 3)
}

/// Classifies entries that are not a plain `/path`; `None` when it is one.
pub(super) fn outside_path_reason(entry: &str) -> Option<PathErrorReason> {
    if scheme_end(entry).is_some() || entry.starts_with("//") {
        Some(PathErrorReason::HasSchemeOrHost)
    } else if entry.starts_with('/') {
        None
    } else if starts_with_cdn_host(&segments_before_query(entry))
        || starts_with_versioned_cdn_host(&segments_before_query(entry))
    {
        Some(PathErrorReason::HasSchemeOrHost)
    } else {
        Some(PathErrorReason::NotAbsolute)
    }
}

/// Strips scheme, CDN host, query and fragment; the result starts with
/// exactly one `/` but may still be invalid.
pub(super) fn origin_candidate(entry: &str) -> String {
    let mut segments = segments_before_query(entry);
    if starts_with_versioned_cdn_host(&segments) {
        segments.drain(..2);
    } else if starts_with_cdn_host(&segments) {
        segments.remove(0);
    }
    format!("/{}", segments.join("/").trim_start_matches('/'))
}

fn segments_before_query(entry: &str) -> Vec<&str> {
    let end = entry.find(['?', '#']).unwrap_or(entry.len());
    let s = &entry[..end];
    let rest = scheme_end(s).map_or(s, |i| &s[i..]);
    rest.trim_start_matches('/').split('/').collect()
}

/// In `doc.cloudimg.io/sample.li/flat1.jpg` the first host is the CDN's and
/// the second the origin's. A lone host (`sample.li/flat1.jpg`) is the origin
/// host and stays. A host is only a host when a path follows it, otherwise
/// `flat1.jpg` would look like one.
fn starts_with_cdn_host(segments: &[&str]) -> bool {
    segments.len() >= 3 && looks_like_host(segments[0]) && looks_like_host(segments[1])
}

/// The anchor's versioned form, `doc.cloudimg.io/v7/sample.li/flat1.jpg`:
/// the CDN host, an API version (`v` and digits), then the origin host.
fn starts_with_versioned_cdn_host(segments: &[&str]) -> bool {
    let version = |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit());
    segments.len() >= 4 && looks_like_host(segments[0]) && version(segments[1]) && looks_like_host(segments[2])
}

fn looks_like_host(segment: &str) -> bool {
    let host = match segment.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return false,
        None => segment,
    };
    host.contains('.')
        && !host.contains("..")
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
}

/// RFC 3986 dot-segment removal over canonical segments (`segments[0]` is the
/// empty string before the leading `/`). A trailing `partial` segment (the
/// part before a prefix `*`) is kept verbatim: `/a/.*` means "starts with `.`".
pub(super) fn resolve_dot_segments(segments: &[String], partial: bool) -> String {
    let (complete, tail) = match (partial, segments.split_last()) {
        (true, Some((last, rest))) => (rest, Some(last)),
        _ => (segments, None),
    };
    let mut out: Vec<&str> = Vec::new();
    let n = complete.len();
    for (i, seg) in complete.iter().enumerate().skip(1) {
        let dot = matches!(seg.as_str(), "." | "..");
        if seg == ".." {
            out.pop();
        } else if !dot {
            out.push(seg);
        }
        // A trailing dot segment names the directory, so keep its slash.
        if dot && i + 1 == n && tail.is_none() {
            out.push("");
        }
    }
    if let Some(t) = tail {
        out.push(t);
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_schemes() {
        assert_eq!(scheme_end("https://x/y"), Some(8));
        assert_eq!(scheme_end("HTTP://x"), Some(7));
        assert_eq!(scheme_end("/a/https://x"), None);
        assert_eq!(scheme_end("1http://x"), None);
        assert_eq!(scheme_end("/a.jpg"), None);
    }

    #[test]
    fn host_heuristic() {
        assert!(looks_like_host("doc.cloudimg.io"));
        assert!(looks_like_host("sample.li:8080"));
        assert!(looks_like_host("10.0.0.1"));
        assert!(!looks_like_host("images"));
        assert!(!looks_like_host("my site.com"));
        assert!(!looks_like_host(".hidden"));
        assert!(!looks_like_host("a..b"));
        assert!(!looks_like_host("host.com:"));
        assert!(!looks_like_host("host.com:http"));
    }

    #[test]
    fn classifies_outside_paths() {
        use PathErrorReason::*;
        assert_eq!(outside_path_reason("/a.jpg"), None);
        assert_eq!(outside_path_reason("https://a.b/c"), Some(HasSchemeOrHost));
        assert_eq!(outside_path_reason("//a.b/c"), Some(HasSchemeOrHost));
        assert_eq!(outside_path_reason("doc.cloudimg.io/sample.li/a.jpg"), Some(HasSchemeOrHost));
        assert_eq!(outside_path_reason("sample.li/flat1.jpg"), Some(NotAbsolute));
        assert_eq!(outside_path_reason("flat1.jpg"), Some(NotAbsolute));
    }

    #[test]
    fn candidates() {
        let c = origin_candidate;
        assert_eq!(c("https://doc.cloudimg.io/sample.li/f.jpg?w=1#x"), "/sample.li/f.jpg");
        assert_eq!(c("https://sample.li/f.jpg"), "/sample.li/f.jpg");
        assert_eq!(c("doc.cloudimg.io:443/sample.li/f.jpg"), "/sample.li/f.jpg");
        assert_eq!(c("https:///f.jpg"), "/f.jpg");
        assert_eq!(c("images/a.jpg"), "/images/a.jpg");
        assert_eq!(c("https://"), "/");
    }

    fn segs(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn resolves_dot_segments() {
        let r = |p: &str| resolve_dot_segments(&segs(p), false);
        assert_eq!(r("/a/../b.jpg"), "/b.jpg");
        assert_eq!(r("/./a.jpg"), "/a.jpg");
        assert_eq!(r("/../a.jpg"), "/a.jpg");
        assert_eq!(r("/a/b/.."), "/a/");
        assert_eq!(r("/a/."), "/a/");
        assert_eq!(r("/a/.."), "/");
        assert_eq!(resolve_dot_segments(&segs("/a/./x/.."), true), "/a/x/..");
        assert_eq!(resolve_dot_segments(&segs("/a/./"), true), "/a/");
    }
}
