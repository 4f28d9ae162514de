//! Property tests of the one path parser the console form, both APIs, the
//! edge's cache key and the Varnish surrogate key share: a difference
//! between them is a purge that misses. Generated paths mix unicode,
//! percent-encodings, dot segments, repeated slashes, query and fragment
//! pieces and regex metacharacters. The case count is bounded
//! (`PROPTEST_CASES`, 256 by default; `.ci/run` sets it).

use std::sync::Arc;

use imgflush::domain::cache_key::{path_key, xkey_value};
use imgflush::domain::OriginPath;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use proptest::prelude::*;

use crate::params::Params;
use crate::request;
use crate::settings::{ProjectSettings, Projects};

/// What a browser percent-encodes in a URL path (the WHATWG path set): an
/// existing `%XX` escape travels as it is, as in the entry the console took.
const BROWSER_PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

/// One path segment: letters, unicode, regex metacharacters, reserved
/// characters, percent-escapes (valid and not), dots.
fn segment() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9_-]{1,8}",
        "[éü日本語🙂]{1,3}",
        prop::sample::select(vec![
            ".", "..", "(", ")", "[", "]", "{", "}", "^", "$", "|", "+", "\\", ".*", "'", "\"", ",", ";", "=", "&",
            "!", "~", " ", "%20", "%2F", "%2A", "%25", "%41", "%zz", "%", "%e9", "%C3%A9", "?", "#", "*", "@", ":",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 1..4).prop_map(|p| p.concat())
}

/// A raw entry as someone might paste it: `/host/segments…`, with repeated
/// slashes, an optional trailing `*`, query or fragment.
fn raw_path() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["sample.li", "img.example.com:8080", "127.0.0.1:3003"]),
        prop::collection::vec(segment(), 1..5),
        prop::sample::select(vec!["/", "//", "///"]),
        prop::sample::select(vec!["", "*", "?w=300", "#top", "?a=1#b"]),
    )
        .prop_map(|(host, segments, sep, tail)| format!("/{host}/{}{tail}", segments.join(sep)))
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn projects() -> Projects {
    let mut demo = ProjectSettings::new("demo");
    demo.allowed_origin_hosts = vec!["sample.li".into()];
    Projects::new(vec![demo])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_parser_never_panics(input in any::<String>(), raw in raw_path()) {
        let _ = OriginPath::parse(&input);
        let _ = OriginPath::parse(&raw);
    }

    #[test]
    fn parse_display_parse_is_stable(raw in raw_path()) {
        if let Ok(path) = OriginPath::parse(&raw) {
            let shown: String = path.to_string();
            let again = OriginPath::parse(&shown);
            prop_assert_eq!(again.as_ref(), Ok(&path), "{} → {}", raw, shown);
        }
    }

    /// Whatever the console accepts (an image path, not a prefix), a browser
    /// asking the edge for it lands on the same canonical path, the same
    /// cache key and the same `xkey` value as the console purges.
    #[test]
    fn the_edge_keys_what_the_console_purges(raw in raw_path()) {
        let Ok(console) = OriginPath::parse(&raw) else { return Ok(()) };
        if console.is_prefix() {
            return Ok(());
        }
        // The console trims a pasted entry; the browser asks for the URL itself.
        let sent = format!("/demo{}", utf8_percent_encode(raw.trim(), BROWSER_PATH));
        let projects = projects();
        let names = request::HostNames { edge_domain: None, aliases: &[] };
        match request::parse(None, &sent, None, &names, &projects) {
            Ok(req) => {
                prop_assert_eq!(&req.origin, &console, "{} sent as {}", raw, sent);
                let sent_keys = xkey_value::<&str>("demo", req.origin.as_str(), &[]);
                let typed_keys = xkey_value::<&str>("demo", console.as_str(), &[]);
                prop_assert_eq!(sent_keys, typed_keys);
                prop_assert_eq!(path_key("demo", req.origin.as_str()), path_key("demo", console.as_str()));
                prop_assert!(console.matches(req.origin.as_str()));
            }
            // Only a bare host (no image under it) may be refused by the edge.
            Err(e) => prop_assert!(!console.as_str()[1..].contains('/'), "{} sent as {}: {:?}", raw, sent, e),
        }
    }

    /// A prefix the console accepts matches every image path under it the
    /// edge can cache, and is one the shipped VCL's prefix ban accepts
    /// (`^/[!#-&(-~]{0,2047}$`: printable ASCII without space and quotes).
    #[test]
    fn prefixes_reach_what_they_name_and_pass_the_vcl(raw in raw_path(), leaf in segment()) {
        let Ok(prefix) = OriginPath::parse(&raw) else { return Ok(()) };
        let vcl_ok = |s: &str| s.starts_with('/') && s.len() <= 2048
            && s.bytes().all(|b| b == b'!' || (b'#'..=b'&').contains(&b) || (b'('..=b'~').contains(&b));
        prop_assert!(vcl_ok(prefix.base()), "the VCL refuses {:?}", prefix.base());
        if prefix.is_prefix() && prefix.base().ends_with('/') {
            let child = format!("{}{}", prefix.base(), leaf);
            if let Ok(child) = OriginPath::parse(&child) {
                prop_assert!(prefix.matches(child.as_str()), "{} misses {}", prefix, child);
            }
        }
    }

    /// The variant key does not depend on the order of the parameters nor
    /// on which alias names them; parsing never panics on any pair.
    #[test]
    fn the_variant_key_is_stable_under_order_and_aliases(
        w in proptest::option::of(1u32..4000),
        h in proptest::option::of(1u32..4000),
        q in proptest::option::of(1u8..=100),
        func in proptest::option::of(prop::sample::select(vec!["crop", "fit", "bound", "cover"])),
        vh in proptest::option::of("[a-z0-9]{1,12}"),
        long_names in any::<bool>(),
        seed in any::<u64>(),
        junk in prop::collection::vec(("[a-z_]{1,10}", ".{0,20}"), 0..4),
    ) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let (wn, hn) = if long_names { ("width", "height") } else { ("w", "h") };
        if let Some(w) = w { pairs.push((wn.into(), w.to_string())); }
        if let Some(h) = h { pairs.push((hn.into(), h.to_string())); }
        if let Some(q) = q { pairs.push(("q".into(), q.to_string())); }
        if let Some(f) = func { pairs.push(("func".into(), f.into())); }
        if let Some(vh) = &vh { pairs.push(("vh".into(), vh.clone())); }
        let _ = Params::parse(&junk, 4000);
        let short: Vec<(String, String)> = pairs.iter().map(|(k, v)| {
            let k = match k.as_str() { "width" => "w", "height" => "h", k => k };
            (k.to_owned(), v.clone())
        }).collect();
        let mut shuffled = pairs.clone();
        let n = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % n);
        if seed % 2 == 1 { shuffled.reverse(); }
        let a = Params::parse(&pairs, 4000);
        let b = Params::parse(&shuffled, 4000);
        let c = Params::parse(&short, 4000);
        match (a, b, c) {
            (Ok(a), Ok(b), Ok(c)) => {
                prop_assert_eq!(a.variant_key(), b.variant_key());
                prop_assert_eq!(a.variant_key(), c.variant_key());
            }
            (a, b, c) => prop_assert!(a.is_err() && b.is_err() && c.is_err(), "refused in one order only"),
        }
    }
}

#[test]
fn the_projects_fixture_resolves_the_token() {
    let projects = projects();
    let found: Option<&Arc<ProjectSettings>> = projects.by_token("demo");
    assert!(found.is_some());
}
