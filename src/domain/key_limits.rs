//! What an API key may purge: path prefixes, tags and scopes. A key without
//! limits may use everything its role allows; a key limited to prefixes
//! and/or tags may purge only within them (never scope All), and a key
//! limited to scopes only those.

use serde::{Deserialize, Serialize};

use super::tag::{split_tags, Tag};
use super::{FieldError, OriginPath, Scope};

/// Most prefixes and most tags a key names.
pub const MAX_KEY_LIMITS: usize = 20;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLimits {
    /// Paths or prefixes (`/sample.li/blog/*`) the key's paths must fall under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<OriginPath>,
    /// The only tags the key may purge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The only scopes the key may use (empty: those its limits allow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
}

impl KeyLimits {
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty() && self.tags.is_empty() && self.scopes.is_empty()
    }

    /// Checks the form's fields: prefixes and tags one per line (or comma),
    /// scopes as ticked; every bad entry named.
    pub fn parse(prefixes: &str, tags: &str, scopes: &[String]) -> Result<KeyLimits, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = KeyLimits::default();
        for p in prefixes.split([',', '\n', '\r']).map(str::trim).filter(|p| !p.is_empty()) {
            match OriginPath::parse(p) {
                Ok(p) if !out.prefixes.contains(&p) => out.prefixes.push(p),
                Ok(_) => {}
                Err(e) => errors.push(FieldError::from_path("limit_prefixes", &e)),
            }
        }
        for t in split_tags(tags) {
            match Tag::parse(&t) {
                Ok(t) if !out.tags.contains(&t) => out.tags.push(t),
                Ok(_) => {}
                Err(e) => errors.push(FieldError::new("limit_tags", e.to_string())),
            }
        }
        for s in scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match Scope::parse(s) {
                Ok(s) if !out.scopes.contains(&s) => out.scopes.push(s),
                Ok(_) => {}
                Err(e) => errors.push(FieldError::new("limit_scopes", e.to_string())),
            }
        }
        if out.prefixes.len() > MAX_KEY_LIMITS {
            errors.push(FieldError::new("limit_prefixes", format!("at most {MAX_KEY_LIMITS} prefixes")));
        }
        if out.tags.len() > MAX_KEY_LIMITS {
            errors.push(FieldError::new("limit_tags", format!("at most {MAX_KEY_LIMITS} tags")));
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Whether a purge of `scope` and `items` (canonical paths, or tags)
    /// stays within the limits; else why not, naming the first path or tag
    /// outside them.
    pub fn check(&self, scope: Scope, items: &[String]) -> Result<(), String> {
        if !self.scopes.is_empty() && !self.scopes.contains(&scope) {
            return Err(format!("this API key may not use scope \"{scope}\" (it may use {})", list(&self.scopes)));
        }
        let limited = !self.prefixes.is_empty() || !self.tags.is_empty();
        if !limited {
            return Ok(());
        }
        match scope {
            Scope::All => {
                Err(format!("this API key is limited to {}: scope \"all\" would purge beyond it", self.describe()))
            }
            Scope::Original => {
                for p in items {
                    if !self.prefixes.iter().any(|pre| within(pre, p)) {
                        return Err(if self.prefixes.is_empty() {
                            format!(
                                "path {p:?} is outside this API key's limits: it may purge only the tags {}",
                                list(&self.tags)
                            )
                        } else {
                            format!("path {p:?} is outside this API key's prefixes ({})", list(&self.prefixes))
                        });
                    }
                }
                Ok(())
            }
            Scope::Tag => {
                for t in items {
                    if !self.tags.iter().any(|allowed| allowed.as_str() == t) {
                        return Err(if self.tags.is_empty() {
                            format!(
                                "tag {t:?} is outside this API key's limits: it may purge only under {}",
                                list(&self.prefixes)
                            )
                        } else {
                            format!("tag {t:?} is outside this API key's tags ({})", list(&self.tags))
                        });
                    }
                }
                Ok(())
            }
        }
    }

    /// The limits in words, for the keys page: `paths under /a/*; tags x, y; scopes original`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.prefixes.is_empty() {
            parts.push(format!("paths under {}", list(&self.prefixes)));
        }
        if !self.tags.is_empty() {
            parts.push(format!("tags {}", list(&self.tags)));
        }
        if !self.scopes.is_empty() {
            parts.push(format!("scopes {}", list(&self.scopes)));
        }
        if parts.is_empty() {
            "no limits".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// Whether path (or prefix) `p` lies under `limit`: an exact path is only
/// itself; a prefix covers every path and prefix starting with its base.
fn within(limit: &OriginPath, p: &str) -> bool {
    if limit.is_prefix() {
        p.starts_with(limit.base())
    } else {
        p == limit.as_str()
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(prefixes: &str, tags: &str, scopes: &[&str]) -> KeyLimits {
        KeyLimits::parse(prefixes, tags, &scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_key_without_limits_may_do_anything() {
        let none = KeyLimits::default();
        assert!(none.is_empty());
        for scope in Scope::ALL {
            assert!(none.check(scope, &["/x".into()]).is_ok());
        }
        assert_eq!(none.describe(), "no limits");
    }

    #[test]
    fn prefixes_bound_paths_and_exclude_all_and_unnamed_tags() {
        let blog = limits("/sample.li/blog/*", "", &[]);
        assert!(blog
            .check(Scope::Original, &["/sample.li/blog/a.jpg".into(), "/sample.li/blog/2024/*".into()])
            .is_ok());
        let e =
            blog.check(Scope::Original, &["/sample.li/blog/a.jpg".into(), "/sample.li/shop/b.jpg".into()]).unwrap_err();
        assert!(e.contains("\"/sample.li/shop/b.jpg\"") && e.contains("/sample.li/blog/*"), "{e}");
        assert!(blog.check(Scope::All, &[]).unwrap_err().contains("scope \"all\""));
        assert!(blog.check(Scope::Tag, &["products".into()]).unwrap_err().contains("\"products\""));
        let exact = limits("/sample.li/logo.png", "", &[]);
        assert!(exact.check(Scope::Original, &["/sample.li/logo.png".into()]).is_ok());
        assert!(exact.check(Scope::Original, &["/sample.li/logo.png.bak".into()]).is_err());
        assert_eq!(blog.describe(), "paths under /sample.li/blog/*");
    }

    #[test]
    fn tags_and_scopes_bound_their_own() {
        let shop = limits("", "products shoes", &["tag"]);
        assert!(shop.check(Scope::Tag, &["shoes".into()]).is_ok());
        assert!(shop.check(Scope::Tag, &["hats".into()]).unwrap_err().contains("\"hats\""));
        assert!(shop.check(Scope::Original, &["/a.jpg".into()]).unwrap_err().contains("scope \"original\""));
        let only_original = limits("", "", &["original"]);
        assert!(only_original.check(Scope::Original, &["/anything.jpg".into()]).is_ok());
        assert!(only_original.check(Scope::All, &[]).is_err());
        assert_eq!(shop.describe(), "tags products, shoes; scopes tag");
    }

    #[test]
    fn bad_entries_are_named_by_field() {
        let errors = KeyLimits::parse("blog/*\n/ok/*", "a b,imgflush-x", &["sometimes".into()]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit_prefixes", "limit_tags", "limit_scopes"]);
        let json = serde_json::to_string(&limits("/a/*", "t", &["tag"])).unwrap();
        assert_eq!(json, r#"{"prefixes":["/a/*"],"tags":["t"],"scopes":["tag"]}"#);
        assert_eq!(serde_json::from_str::<KeyLimits>("{}").unwrap(), KeyLimits::default());
    }
}
