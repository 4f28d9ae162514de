//! The Settings page's form: every field checked at once, each error naming
//! its field, before anything is stored.

use crate::backend::store::{EdgeSettings, OriginScheme, Project, ProjectSettingsUpdate};
use crate::backend::ServiceError;
use crate::domain::FieldError;

/// The Settings page's form, as posted: every field text, checked as a whole.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub name: String,
    /// One host per line or comma: `img.example.com`, `img.example.com:8080`, `*.example.com`.
    pub origin_hosts: String,
    pub max_age_secs: String,
    pub s_maxage_secs: String,
    pub origin_scheme: String,
    pub custom_host: String,
    /// Instance owners only (ignored otherwise): any private origin address,
    /// and the `host:port` origins allowed on one (one per line or comma).
    pub allow_private_origins: bool,
    pub private_origins_allowed: String,
    /// Empty keeps the current salt; see `clear_sign_salt`.
    pub sign_salt: String,
    pub clear_sign_salt: bool,
    pub sign_length: String,
    pub sealed: bool,
    pub strict_seal: bool,
    pub no_upscale: bool,
    pub auto_format: bool,
    pub linear_light: bool,
    pub soft_purge: bool,
    pub verify: bool,
    /// Origin headers to read cache tags from (space or comma separated).
    /// For this and the next three, `None` keeps the current value.
    pub tag_sources: Option<String>,
    /// One rule per line: `{path or prefix} {tag}`.
    pub tag_rules: Option<String>,
    /// Thresholds above which a purge needs a confirmation: objects, and
    /// megabytes (empty: none).
    pub confirm_above_objects: Option<String>,
    pub confirm_above_mb: Option<String>,
    /// The two-person rule for scope All (`None`: keep), and how many hours
    /// a request waits for approval (`None`: keep; empty: 24).
    pub approval_for_all: Option<bool>,
    pub approval_hours: Option<String>,
}

/// Ten years: longer caching intervals are a typo.
pub const MAX_TTL_SECS: i64 = 10 * 365 * 24 * 3600;

pub(super) fn validate_settings(
    input: &SettingsInput,
    current: &Project,
) -> Result<ProjectSettingsUpdate, ServiceError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "give the project a name of 1 to 100 characters"));
    }
    let mut origin_hosts = Vec::new();
    for host in input.origin_hosts.split([',', '\n', '\r']).map(str::trim).filter(|h| !h.is_empty()) {
        match normalize_host(host, true) {
            Some(h) => origin_hosts.push(h),
            None => errors.push(FieldError::new(
                "origin_hosts",
                format!("{host:?} is not a host name: use e.g. img.example.com, img.example.com:8080 or *.example.com"),
            )),
        }
    }
    if origin_hosts.len() > 50 {
        errors.push(FieldError::new("origin_hosts", "at most 50 origin hosts"));
    }
    let mut ttl = |field: &str, raw: &str| match raw.trim().parse::<i64>() {
        Ok(n) if (0..=MAX_TTL_SECS).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(field, format!("a number of seconds from 0 to {MAX_TTL_SECS}, e.g. 2592000")));
            0
        }
    };
    let max_age_secs = ttl("max_age_secs", &input.max_age_secs);
    let s_maxage_secs = ttl("s_maxage_secs", &input.s_maxage_secs);
    let origin_scheme = match input.origin_scheme.trim() {
        "" | "https" => OriginScheme::Https,
        "http" => OriginScheme::Http,
        other => {
            errors.push(FieldError::new("origin_scheme", format!("{other:?}: choose https or http")));
            OriginScheme::Https
        }
    };
    let custom_host = match input.custom_host.trim() {
        "" => None,
        h => match normalize_host(h, false) {
            Some(h) if is_address(&h) => {
                errors.push(FieldError::new(
                    "custom_host",
                    format!(
                        "{h:?} is an address: use a host name of your own pointed (CNAME) at the edge, \
                         e.g. images.example.com"
                    ),
                ));
                None
            }
            Some(h) if !h.contains(':') => Some(h),
            _ => {
                errors.push(FieldError::new(
                    "custom_host",
                    format!("{h:?} is not a host name: use e.g. images.example.com (no scheme, port or path)"),
                ));
                None
            }
        },
    };
    let salt = input.sign_salt.trim();
    let sign_salt = if input.clear_sign_salt {
        None
    } else if salt.is_empty() {
        current.edge.sign_salt.clone()
    } else if salt.len() < 8 || salt.len() > 128 || !salt.bytes().all(|b| b.is_ascii_graphic()) {
        errors.push(FieldError::new("sign_salt", "8 to 128 visible ASCII characters, no spaces"));
        None
    } else {
        Some(salt.to_owned())
    };
    let sign_length = match input.sign_length.trim() {
        "" => None,
        raw => match raw.parse::<u8>() {
            Ok(n) if (6..=40).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new("sign_length", "a whole number from 6 to 40 (18 when empty)"));
                None
            }
        },
    };
    let mut private_origins_allowed = Vec::new();
    for host in input.private_origins_allowed.split([',', '\n', '\r']).map(str::trim).filter(|h| !h.is_empty()) {
        match normalize_host(host, false) {
            Some(h) if h.contains(':') => private_origins_allowed.push(h),
            _ => errors.push(FieldError::new(
                "private_origins_allowed",
                format!("{host:?}: give host:port entries, e.g. 127.0.0.1:3003"),
            )),
        }
    }
    let tag_sources = match &input.tag_sources {
        None => current.edge.tag_sources.clone(),
        Some(text) => Some(
            crate::domain::tag::parse_tag_sources(text, "tag_sources").map_err(|e| errors.push(e)).unwrap_or_default(),
        ),
    };
    let tag_rules = match &input.tag_rules {
        None => current.edge.tag_rules.clone(),
        Some(text) => {
            crate::domain::tag::parse_tag_rules(text, "tag_rules").map_err(|e| errors.extend(e)).unwrap_or_default()
        }
    };
    let mut threshold = |field: &str, raw: &str, example: &str| match raw.trim() {
        "" => None,
        raw => match raw.replace([',', '_'], "").parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("a whole number above 0, e.g. {example}, or empty for no limit"),
                ));
                None
            }
        },
    };
    let confirm_above_objects = match &input.confirm_above_objects {
        None => current.edge.confirm_above_objects,
        Some(raw) => threshold("confirm_above_objects", raw, "10000"),
    };
    let confirm_above_bytes = match &input.confirm_above_mb {
        None => current.edge.confirm_above_bytes,
        Some(raw) => threshold("confirm_above_mb", raw, "500").map(|mb| mb.saturating_mul(1 << 20)),
    };
    let approval_hours = match &input.approval_hours {
        None => current.edge.approval_hours,
        Some(raw) if raw.trim().is_empty() => None,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(h) if (1..=168).contains(&h) => Some(h),
            _ => {
                errors.push(FieldError::new("approval_hours", "a whole number of hours from 1 to 168 (24 when empty)"));
                None
            }
        },
    };
    if input.sealed && sign_salt.is_none() {
        errors.push(FieldError::new("sealed", "sealed URLs need a signing salt: set one, or untick sealed"));
    }
    if input.strict_seal && !input.sealed {
        errors.push(FieldError::new("strict_seal", "a strict seal needs sealed URLs: tick sealed, or untick strict"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    Ok(ProjectSettingsUpdate {
        name: name.to_owned(),
        origin_hosts,
        max_age_secs,
        s_maxage_secs,
        edge: EdgeSettings {
            origin_scheme,
            allow_private_origins: input.allow_private_origins,
            private_origins_allowed,
            custom_host_pending: false,
            custom_host,
            sign_salt,
            sign_length,
            sealed: input.sealed,
            strict_seal: input.strict_seal,
            no_upscale: input.no_upscale,
            auto_format: input.auto_format,
            linear_light: input.linear_light,
            soft_purge: input.soft_purge,
            verify: input.verify,
            tag_sources,
            tag_rules,
            confirm_above_objects,
            confirm_above_bytes,
            approval_for_all: input.approval_for_all.unwrap_or(current.edge.approval_for_all),
            approval_hours,
        },
    })
}

/// What an update changes, for the audit trail: old → new for plain fields,
/// only the name of the signing salt (a secret).
pub(super) fn changed_fields(current: &Project, update: &ProjectSettingsUpdate) -> String {
    let mut out = Vec::new();
    let mut diff = |name: &str, old: String, new: String| {
        if old != new {
            out.push(format!("{name}: {old} → {new}"));
        }
    };
    let (e0, e1) = (&current.edge, &update.edge);
    diff("name", current.name.clone(), update.name.clone());
    diff("origin_hosts", current.origin_hosts.join(" "), update.origin_hosts.join(" "));
    diff("max_age_secs", current.max_age_secs.to_string(), update.max_age_secs.to_string());
    diff("s_maxage_secs", current.s_maxage_secs.to_string(), update.s_maxage_secs.to_string());
    diff("origin_scheme", e0.origin_scheme.as_str().into(), e1.origin_scheme.as_str().into());
    diff("custom_host", e0.custom_host.clone().unwrap_or_default(), e1.custom_host.clone().unwrap_or_default());
    diff("custom_host_pending", e0.custom_host_pending.to_string(), e1.custom_host_pending.to_string());
    diff("allow_private_origins", e0.allow_private_origins.to_string(), e1.allow_private_origins.to_string());
    diff("private_origins_allowed", e0.private_origins_allowed.join(" "), e1.private_origins_allowed.join(" "));
    diff("sign_length", format!("{:?}", e0.sign_length), format!("{:?}", e1.sign_length));
    diff("sealed", e0.sealed.to_string(), e1.sealed.to_string());
    diff("strict_seal", e0.strict_seal.to_string(), e1.strict_seal.to_string());
    diff("no_upscale", e0.no_upscale.to_string(), e1.no_upscale.to_string());
    diff("auto_format", e0.auto_format.to_string(), e1.auto_format.to_string());
    diff("linear_light", e0.linear_light.to_string(), e1.linear_light.to_string());
    diff("soft_purge", e0.soft_purge.to_string(), e1.soft_purge.to_string());
    diff("verify", e0.verify.to_string(), e1.verify.to_string());
    diff("tag_sources", e0.tag_sources().join(" "), e1.tag_sources().join(" "));
    diff(
        "tag_rules",
        crate::domain::tag::format_tag_rules(&e0.tag_rules),
        crate::domain::tag::format_tag_rules(&e1.tag_rules),
    );
    let limit = |n: Option<u64>| n.map_or("none".to_owned(), |n| n.to_string());
    diff("confirm_above_objects", limit(e0.confirm_above_objects), limit(e1.confirm_above_objects));
    diff("confirm_above_bytes", limit(e0.confirm_above_bytes), limit(e1.confirm_above_bytes));
    diff("approval_for_all", e0.approval_for_all.to_string(), e1.approval_for_all.to_string());
    diff("approval_hours", format!("{:?}", e0.approval_hours), format!("{:?}", e1.approval_hours));
    if e0.sign_salt != e1.sign_salt {
        out.push(if e1.sign_salt.is_some() { "sign_salt: set (not shown)" } else { "sign_salt: removed" }.into());
    }
    if out.is_empty() {
        "nothing changed".into()
    } else {
        out.join("; ")
    }
}

/// Whether `host` (normalised) is an IP address in any spelling a URL
/// parser accepts (`127.0.0.1`, `2130706433`, `0x7f.1`), not a name.
fn is_address(host: &str) -> bool {
    // The parser writes addresses canonically: `2130706433` -> `127.0.0.1`.
    match reqwest::Url::parse(&format!("http://{host}/")) {
        Ok(u) => u.host_str().is_none_or(|h| h.starts_with('[') || h.parse::<std::net::IpAddr>().is_ok()),
        Err(_) => true,
    }
}

/// Whether `host` is `localhost`, one of `names` (the edges' own names,
/// a port ignored) or a name below one.
pub(super) fn is_edge_name(host: &str, names: &[String]) -> bool {
    let own = |name: &str| {
        let name = name.trim().to_ascii_lowercase();
        let name = name.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(name.as_str(), |(h, _)| h);
        !name.is_empty() && (host == name || host.strip_suffix(name).is_some_and(|l| l.ends_with('.')))
    };
    host == "localhost" || names.iter().any(|n| own(n))
}

/// Lowercase `host`, `host:port` (and `*.domain` when `wildcard`), or `None`.
fn normalize_host(raw: &str, wildcard: bool) -> Option<String> {
    let host = raw.trim().to_ascii_lowercase();
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') => (n, Some(p)),
        _ => (host.as_str(), None),
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return None;
    }
    let name = match name.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        _ => name,
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    (name.len() <= 253 && name.split('.').all(label_ok)).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project {
            id: 1,
            token: "demo".into(),
            name: "Demo".into(),
            origin_hosts: vec![],
            max_age_secs: 1,
            s_maxage_secs: 1,
            edge: EdgeSettings { sign_salt: Some("old-salt-1".into()), ..Default::default() },
        }
    }

    fn input() -> SettingsInput {
        SettingsInput {
            name: "Shop".into(),
            origin_hosts: "Img.Example.com\n*.cdn.example.com, localhost:8080".into(),
            max_age_secs: "60".into(),
            s_maxage_secs: "3600".into(),
            ..Default::default()
        }
    }

    #[test]
    fn accepts_and_normalises_a_good_form() {
        let u = validate_settings(&input(), &project()).unwrap();
        assert_eq!(u.origin_hosts, ["img.example.com", "*.cdn.example.com", "localhost:8080"]);
        assert_eq!((u.max_age_secs, u.s_maxage_secs), (60, 3600));
        // An empty salt field keeps the current salt; the box clears it.
        assert_eq!(u.edge.sign_salt.as_deref(), Some("old-salt-1"));
        let cleared = validate_settings(&SettingsInput { clear_sign_salt: true, ..input() }, &project()).unwrap();
        assert_eq!(cleared.edge.sign_salt, None);
    }

    #[test]
    fn names_every_bad_field() {
        let bad = SettingsInput {
            name: "".into(),
            origin_hosts: "http://x.example/".into(),
            max_age_secs: "-1".into(),
            s_maxage_secs: "soon".into(),
            origin_scheme: "ftp".into(),
            custom_host: "img.example.com/path".into(),
            sign_salt: "short".into(),
            sign_length: "99".into(),
            ..Default::default()
        };
        let Err(ServiceError::Invalid(errors)) = validate_settings(&bad, &project()) else { panic!("invalid") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "origin_hosts",
                "max_age_secs",
                "s_maxage_secs",
                "origin_scheme",
                "custom_host",
                "sign_salt",
                "sign_length"
            ]
        );
    }

    #[test]
    fn output_rules_are_off_unless_ticked_and_a_strict_seal_needs_a_seal() {
        let u = validate_settings(&input(), &project()).unwrap();
        assert!(!u.edge.strict_seal && !u.edge.no_upscale);
        let on = SettingsInput { sealed: true, strict_seal: true, no_upscale: true, ..input() };
        let u = validate_settings(&on, &project()).unwrap();
        assert!(u.edge.strict_seal && u.edge.no_upscale);
        assert!(changed_fields(&project(), &u).contains("strict_seal: false → true; no_upscale: false → true"));
        let loose = SettingsInput { strict_seal: true, ..input() };
        let Err(ServiceError::Invalid(errors)) = validate_settings(&loose, &project()) else { panic!("invalid") };
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["strict_seal"]);
        // Documents stored before these settings existed keep today's behaviour.
        let old: EdgeSettings = serde_json::from_str(r#"{"sealed":true,"sign_salt":"old-salt-1"}"#).unwrap();
        assert!(old.sealed && !old.strict_seal && !old.no_upscale);
    }

    #[test]
    fn a_custom_host_is_a_name_of_the_projects_own() {
        for addr in ["127.0.0.1", "2130706433", "0x7f.0.0.1", "10.1.2.3", "169.254.169.254"] {
            let form = SettingsInput { custom_host: addr.into(), ..input() };
            let Err(ServiceError::Invalid(errors)) = validate_settings(&form, &project()) else { panic!("{addr}") };
            assert_eq!(errors[0].field, "custom_host", "{addr}");
            assert!(errors[0].message.contains("CNAME"), "{}", errors[0].message);
        }
        let names = ["img.example.net".to_owned(), "edge.internal:8081".to_owned()];
        for own in ["localhost", "img.example.net", "demo.img.example.net", "edge.internal"] {
            assert!(is_edge_name(own, &names), "{own}");
        }
        for other in ["images.shop.example", "notimg.example.net", "edge.internal.shop"] {
            assert!(!is_edge_name(other, &names), "{other}");
        }
    }

    #[test]
    fn tags_and_thresholds_are_checked_and_kept() {
        let form = SettingsInput {
            tag_sources: Some("Surrogate-Key cache-tag".into()),
            tag_rules: Some("/sample.li/products/* products".into()),
            confirm_above_objects: Some("10,000".into()),
            confirm_above_mb: Some("500".into()),
            ..input()
        };
        let u = validate_settings(&form, &project()).unwrap();
        assert_eq!(u.edge.tag_sources(), ["surrogate-key", "cache-tag"]);
        assert_eq!(u.edge.tag_rules[0].tag.as_str(), "products");
        assert_eq!((u.edge.confirm_above_objects, u.edge.confirm_above_bytes), (Some(10_000), Some(500 << 20)));
        assert!(changed_fields(&project(), &u).contains("confirm_above_objects: none → 10000"));
        let bad = SettingsInput {
            tag_sources: Some("bad:header".into()),
            tag_rules: Some("/a.jpg".into()),
            confirm_above_objects: Some("-3".into()),
            confirm_above_mb: Some("lots".into()),
            ..input()
        };
        let Err(ServiceError::Invalid(errors)) = validate_settings(&bad, &project()) else { panic!("invalid") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tag_sources", "tag_rules", "confirm_above_objects", "confirm_above_mb"]);
        // A form without the fields keeps them; documents stored before tags read the default headers.
        let kept = validate_settings(&input(), &Project { edge: u.edge.clone(), ..project() }).unwrap();
        assert_eq!((kept.edge.tag_rules.len(), kept.edge.confirm_above_objects), (1, Some(10_000)));
        assert_eq!(EdgeSettings::default().tag_sources(), ["surrogate-key", "cache-tag", "xkey"]);
    }

    #[test]
    fn the_salt_never_prints() {
        assert!(!format!("{:?}", project().edge).contains("old-salt-1"));
    }
}
