//! Cache tags: labels an origin puts on its images (`Surrogate-Key`,
//! `Cache-Tag`, `xkey` response headers) or a project gives paths by rule
//! (`/sample.li/products/* products`), which a purge of scope `tag` empties
//! on every layer.
//!
//! A tag as typed is never a key on the wire: every layer purges by
//! [`cache_key::tag_key`](super::cache_key::tag_key), derived from the
//! project's token and the tag, so one project's `products` can never reach
//! another project's objects on a node or CDN zone they share. Tags that look
//! like one of those keys (`imgflush-…`) are refused here and stripped from
//! origin headers by the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::{excerpt, trim_input};
use super::{FieldError, OriginPath};

/// Longest tag, in bytes (Akamai's limit for one cache tag).
pub const MAX_TAG_BYTES: usize = 128;
/// Most tags one cached object keeps. With the token and path keys, 18 keys
/// of at most 51 characters fit every CDN's tag header (Bunny: 1,024 bytes
/// in all; Akamai: 128 tags; Cloudflare and Fastly: 16 KB).
pub const MAX_TAGS_PER_OBJECT: usize = 16;
/// Most tags one API invalidation names (as for paths).
pub const API_MAX_TAGS: usize = 15;
/// Most tags one console invalidation names (as for paths).
pub const CONSOLE_MAX_TAGS: usize = 10;
/// Most tag rules a project keeps.
pub const MAX_TAG_RULES: usize = 50;
/// The prefix of every key this product derives; no tag may start with it.
pub const RESERVED_PREFIX: &str = "imgflush-";

/// A tag: 1 to 128 visible ASCII characters, no comma (every CDN's tag
/// header splits on commas or spaces), not starting with `imgflush-`, nor
/// with `/` (so the log's search tells a tag from a path).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("a tag cannot be empty")]
    Empty,
    #[error("tag {:?} is longer than {MAX_TAG_BYTES} bytes", excerpt(.0))]
    TooLong(String),
    #[error("tag {:?} may hold only visible ASCII characters other than a comma (no spaces: CDNs split tag headers on them)", excerpt(.0))]
    BadCharacter(String),
    #[error("tag {:?} starts with \"/\", which is how paths start; drop the slash", excerpt(.0))]
    Slash(String),
    #[error("tag {:?} starts with \"{RESERVED_PREFIX}\", which is reserved for the keys this console derives", excerpt(.0))]
    Reserved(String),
}

impl Tag {
    pub fn parse(input: &str) -> Result<Tag, TagError> {
        let t = trim_input(input);
        if t.is_empty() {
            return Err(TagError::Empty);
        }
        if t.len() > MAX_TAG_BYTES {
            return Err(TagError::TooLong(t.to_owned()));
        }
        if !t.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(TagError::BadCharacter(t.to_owned()));
        }
        if t.starts_with('/') {
            return Err(TagError::Slash(t.to_owned()));
        }
        if is_reserved(t) {
            return Err(TagError::Reserved(t.to_owned()));
        }
        Ok(Tag(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `tag` looks like a key this product derives (and so must never
/// come from an origin). Case-insensitive, as some CDNs compare tags.
pub fn is_reserved(tag: &str) -> bool {
    tag.len() >= RESERVED_PREFIX.len() && tag[..RESERVED_PREFIX.len()].eq_ignore_ascii_case(RESERVED_PREFIX)
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Tag {
    type Error = TagError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Tag::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> String {
        t.0
    }
}

/// The tags in an origin's tag header value (space or comma separated):
/// valid ones in order, without duplicates, at most `max`; reserved,
/// malformed and surplus ones are dropped.
pub fn tags_from_header(value: &str, into: &mut Vec<Tag>, max: usize) {
    for piece in value.split([' ', ',', '\t']).filter(|p| !p.is_empty()) {
        if into.len() >= max {
            return;
        }
        if let Ok(tag) = Tag::parse(piece) {
            if !into.contains(&tag) {
                into.push(tag);
            }
        }
    }
}

/// Checks an invalidation's tags as the API (a list) or the console (text
/// split on commas, spaces and line breaks) sends them: every bad entry
/// named, duplicates dropped, at most `max`.
pub fn validate_tags<S: AsRef<str>>(entries: &[S], max: usize, field: &str) -> Result<Vec<Tag>, Vec<FieldError>> {
    let mut tags: Vec<Tag> = Vec::new();
    let mut errors = Vec::new();
    for e in entries.iter().map(AsRef::as_ref).filter(|e| !trim_input(e).is_empty()) {
        match Tag::parse(e) {
            Ok(t) if !tags.contains(&t) => tags.push(t),
            Ok(_) => {}
            Err(err) => {
                let mut fe = FieldError::new(field, err.to_string());
                fe.entry = Some(excerpt(e));
                errors.push(fe);
            }
        }
    }
    if errors.is_empty() && tags.is_empty() {
        errors.push(FieldError::new(field, "name at least one tag (for example \"products\")"));
    }
    if errors.is_empty() && tags.len() > max {
        errors.push(FieldError::new(
            field,
            format!("an invalidation takes at most {max} tags; this one names {}", tags.len()),
        ));
    }
    if errors.is_empty() {
        Ok(tags)
    } else {
        Err(errors)
    }
}

/// Splits the console's tag text on commas, spaces and line breaks.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\r', '\t']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A project's rule: every path the pattern covers carries the tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRule {
    pub pattern: OriginPath,
    pub tag: Tag,
}

impl TagRule {
    pub fn applies_to(&self, canonical_path: &str) -> bool {
        self.pattern.matches(canonical_path)
    }
}

/// Parses a project's tag rules, one per line: `{path or prefix} {tag}`
/// (`/sample.li/products/* products`); blank lines and `#` comments are
/// skipped. Every bad line is named by its number.
pub fn parse_tag_rules(text: &str, field: &str) -> Result<Vec<TagRule>, Vec<FieldError>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(pattern), Some(tag), None) = (parts.next(), parts.next(), parts.next()) else {
            errors.push(FieldError::new(
                field,
                format!(
                    "line {n}: write a path or prefix, a space and one tag, e.g. \"/sample.li/products/* products\""
                ),
            ));
            continue;
        };
        match (OriginPath::parse(pattern), Tag::parse(tag)) {
            (Ok(pattern), Ok(tag)) => rules.push(TagRule { pattern, tag }),
            (Err(e), _) => errors.push(FieldError::new(field, format!("line {n}: {e}"))),
            (_, Err(e)) => errors.push(FieldError::new(field, format!("line {n}: {e}"))),
        }
    }
    if rules.len() > MAX_TAG_RULES {
        errors.push(FieldError::new(field, format!("at most {MAX_TAG_RULES} rules; this list has {}", rules.len())));
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The rules as [`parse_tag_rules`] reads them back.
pub fn format_tag_rules(rules: &[TagRule]) -> String {
    rules.iter().map(|r| format!("{} {}", r.pattern.as_str(), r.tag)).collect::<Vec<_>>().join("\n")
}

/// The origin response headers a new project reads tags from.
pub const DEFAULT_TAG_SOURCES: [&str; 3] = ["surrogate-key", "cache-tag", "xkey"];
/// Most origin headers a project reads tags from.
pub const MAX_TAG_SOURCES: usize = 4;

/// Checks the names of the origin headers to read tags from (space or comma
/// separated, any letter case); lower-cases them.
pub fn parse_tag_sources(text: &str, field: &str) -> Result<Vec<String>, FieldError> {
    let mut names: Vec<String> = Vec::new();
    for n in text.split([' ', ',', '\n', '\r', '\t']).filter(|s| !s.is_empty()) {
        let ok = n.len() <= 64 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(FieldError::new(
                field,
                format!("{:?} is not a header name; use letters, digits and dashes (e.g. Surrogate-Key)", excerpt(n)),
            ));
        }
        let n = n.to_ascii_lowercase();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.len() > MAX_TAG_SOURCES {
        return Err(FieldError::new(field, format!("read tags from at most {MAX_TAG_SOURCES} headers")));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_visible_ascii_without_commas_or_the_reserved_prefix() {
        assert_eq!(Tag::parse(" products ").unwrap().as_str(), "products");
        assert_eq!(Tag::parse("cat:shoes/2024").unwrap().as_str(), "cat:shoes/2024");
        assert_eq!(Tag::parse(""), Err(TagError::Empty));
        assert!(matches!(Tag::parse("a b"), Err(TagError::BadCharacter(_))));
        assert!(matches!(Tag::parse("a,b"), Err(TagError::BadCharacter(_))));
        assert!(matches!(Tag::parse("é"), Err(TagError::BadCharacter(_))));
        assert!(matches!(Tag::parse(&"x".repeat(129)), Err(TagError::TooLong(_))));
        assert!(Tag::parse(&"x".repeat(128)).is_ok());
        assert!(matches!(Tag::parse("imgflush-t-other"), Err(TagError::Reserved(_))));
        assert!(matches!(Tag::parse("/products"), Err(TagError::Slash(_))));
        assert!(matches!(Tag::parse("IMGFLUSH-p-1"), Err(TagError::Reserved(_))));
        let e = Tag::parse("imgflush-g-1").unwrap_err().to_string();
        assert!(e.contains("reserved"), "{e}");
    }

    #[test]
    fn origin_headers_are_split_deduplicated_bounded_and_cleaned() {
        let mut tags = Vec::new();
        tags_from_header("products, shoes  imgflush-t-victim shoes,,a b", &mut tags, 4);
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["products", "shoes", "a", "b"]);
        tags_from_header("more", &mut tags, 4);
        assert_eq!(tags.len(), 4, "the bound holds across headers");
    }

    #[test]
    fn invalidation_tags_name_each_bad_entry_and_the_limit() {
        assert_eq!(validate_tags(&["a", "b", "a"], 15, "tags").unwrap().len(), 2);
        let errs = validate_tags(&["ok", "bad tag", "imgflush-x"], 15, "tags").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].entry.as_deref(), Some("bad tag"));
        let many: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
        let errs = validate_tags(&many, 15, "tags").unwrap_err();
        assert!(errs[0].message.contains("at most 15 tags"), "{}", errs[0].message);
        assert!(validate_tags::<&str>(&[], 15, "tags").unwrap_err()[0].message.contains("at least one tag"));
        assert_eq!(split_tags("a, b\nc"), ["a", "b", "c"]);
    }

    #[test]
    fn rules_parse_match_and_name_bad_lines() {
        let rules =
            parse_tag_rules("# shop\n/sample.li/products/* products\n\n/sample.li/logo.png brand\n", "tag_rules")
                .unwrap();
        assert_eq!(rules.len(), 2);
        assert!(rules[0].applies_to("/sample.li/products/a.jpg"));
        assert!(!rules[0].applies_to("/sample.li/blog/a.jpg"));
        assert!(rules[1].applies_to("/sample.li/logo.png"));
        assert_eq!(parse_tag_rules(&format_tag_rules(&rules), "tag_rules").unwrap(), rules);
        let errs = parse_tag_rules("/a.jpg\nnot-a-path tag\n/b.jpg imgflush-x", "tag_rules").unwrap_err();
        assert_eq!(errs.len(), 3);
        assert!(errs[0].message.starts_with("line 1:"), "{}", errs[0].message);
        assert!(errs[1].message.starts_with("line 2:"), "{}", errs[1].message);
        assert!(errs[2].message.contains("reserved"), "{}", errs[2].message);
    }

    #[test]
    fn tag_sources_are_header_names() {
        assert_eq!(parse_tag_sources("Surrogate-Key, cache-tag", "f").unwrap(), ["surrogate-key", "cache-tag"]);
        assert!(parse_tag_sources("bad:name", "f").is_err());
        assert!(parse_tag_sources("a b c d e", "f").is_err());
        assert!(parse_tag_sources("", "f").unwrap().is_empty());
    }
}
