//! Step 4b: the cache tags of a fetched object. First the tags of the
//! project's rules that cover its canonical path (so an origin that sends
//! many tags can never crowd out the project's own), then those the origin
//! names in the project's tag source headers (space or comma separated,
//! repeated headers read in order). At most `MAX_TAGS_PER_OBJECT`, each
//! once; malformed tags and tags starting with `imgflush-` (the prefix of
//! the keys this product derives) are dropped, so an origin cannot forge
//! another project's keys. Every response then carries the keys derived from
//! these tags (`cache_key::object_keys`), never the origin's headers.

use axum::http::HeaderMap;
use imgflush::domain::tag::{tags_from_header, MAX_TAGS_PER_OBJECT};
use imgflush::domain::Tag;

use crate::settings::ProjectSettings;

pub fn object_tags(project: &ProjectSettings, canonical_path: &str, origin_headers: &HeaderMap) -> Vec<String> {
    let mut tags: Vec<Tag> = Vec::new();
    for rule in project.tag_rules.iter().filter(|r| r.applies_to(canonical_path)) {
        if tags.len() < MAX_TAGS_PER_OBJECT && !tags.contains(&rule.tag) {
            tags.push(rule.tag.clone());
        }
    }
    for name in &project.tag_sources {
        for value in origin_headers.get_all(name.to_ascii_lowercase().as_str()) {
            if let Ok(v) = value.to_str() {
                tags_from_header(v, &mut tags, MAX_TAGS_PER_OBJECT);
            }
        }
    }
    tags.into_iter().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use imgflush::domain::{OriginPath, TagRule};

    use super::*;

    fn project() -> ProjectSettings {
        let mut p = ProjectSettings::new("demo");
        p.tag_sources = vec!["surrogate-key".into(), "Cache-Tag".into()];
        let rule = |pattern: &str, tag: &str| TagRule {
            pattern: OriginPath::parse(pattern).unwrap(),
            tag: Tag::parse(tag).unwrap(),
        };
        p.tag_rules = vec![rule("/h/products/*", "catalogue"), rule("/h/blog/*", "blog"), rule("/h/*", "shoes")];
        p
    }

    fn headers(list: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in list {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn rules_then_every_source_header_cleaned() {
        let h = headers(&[
            ("surrogate-key", "products shoes imgflush-t-victim"),
            ("surrogate-key", "sale,,IMGFLUSH-g-x"),
            ("cache-tag", "a,b"),
            ("xkey", "not-a-source"),
        ]);
        assert_eq!(
            object_tags(&project(), "/h/products/1.jpg", &h),
            ["catalogue", "shoes", "products", "sale", "a", "b"],
            "rules first, duplicates and reserved tags dropped, only the named headers"
        );
        assert!(object_tags(&ProjectSettings::new("demo"), "/h/products/1.jpg", &h).is_empty(), "no sources, no rules");
    }

    #[test]
    fn at_most_sixteen_rules_first() {
        let many: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
        let h = headers(&[("surrogate-key", &many.join(" "))]);
        let tags = object_tags(&project(), "/h/products/1.jpg", &h);
        assert_eq!(tags.len(), MAX_TAGS_PER_OBJECT);
        assert_eq!(&tags[..3], ["catalogue", "shoes", "t0"]);
    }
}
