//! A target's own settings, as given (form, CLI, API) and as kept: public
//! values in [`TargetSettings`], credentials apart (stored encrypted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fields::{Check, SettingSpec};
use super::kind::TargetKind;
use crate::domain::FieldError;

/// A target's non-secret settings by key (`zone_id`, `dedicated`, …),
/// defaults filled in. Credentials are never in here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TargetSettings(pub BTreeMap<String, String>);

impl TargetSettings {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A flag setting (`on`/`off`).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("on")
    }

    pub fn number(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// The purge wave of an edge that is no shield (shields' are their tiers, 1 to 3).
    pub const LAST_WAVE: u64 = 4;

    /// An edge's purge wave: a shield's tier (1 to 3), then the edges that
    /// are no shield ([`Self::LAST_WAVE`]). Each wave is purged after the one
    /// before it, so no edge fetches a purged copy back from a parent not
    /// purged yet.
    pub fn purge_wave(&self) -> u64 {
        if self.flag(super::fields::SHIELD.key) {
            self.number(super::fields::SHIELD_TIER.key).unwrap_or(1).clamp(1, Self::LAST_WAVE - 1)
        } else {
            Self::LAST_WAVE
        }
    }
}

/// Checked settings of a kind: the public values and the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedSettings {
    pub settings: TargetSettings,
    pub credentials: BTreeMap<String, String>,
}

impl std::fmt::Debug for CheckedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&String> = self.credentials.keys().collect();
        f.debug_struct("CheckedSettings").field("settings", &self.settings).field("credentials", &keys).finish()
    }
}

/// Checks `given` (keys as in the kind's specs; unknown keys refused) and
/// reports every bad field at once. Empty values count as absent.
/// `keep`: credentials already stored, kept when not given again.
pub fn check_settings(
    kind: TargetKind,
    given: &BTreeMap<String, String>,
    keep: &[&str],
) -> Result<CheckedSettings, Vec<FieldError>> {
    let specs = kind.spec().settings;
    let mut errors = Vec::new();
    for key in given.keys() {
        if !specs.iter().any(|s| s.key == key) {
            let known: Vec<&str> = specs.iter().map(|s| s.key).collect();
            let hint = if known.is_empty() {
                format!("a {} target takes no settings", kind.label())
            } else {
                format!("a {} target takes: {}", kind.label(), known.join(", "))
            };
            errors.push(FieldError::new(key, format!("unknown setting; {hint}")));
        }
    }
    let mut out = CheckedSettings { settings: TargetSettings::default(), credentials: BTreeMap::new() };
    for spec in specs {
        let value = given.get(spec.key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let value = match (value, spec.default) {
            (Some(v), _) => v.to_owned(),
            (None, Some(d)) => d.to_owned(),
            (None, None) if spec.required && !(spec.secret && keep.contains(&spec.key)) => {
                errors.push(FieldError::new(spec.key, format!("enter the {}: {}", spec.label, spec.help)));
                continue;
            }
            (None, None) => continue,
        };
        match check_value(spec, &value) {
            Ok(v) if spec.secret => {
                out.credentials.insert(spec.key.to_owned(), v);
            }
            Ok(v) => {
                out.settings.0.insert(spec.key.to_owned(), v);
            }
            Err(why) => errors.push(FieldError::new(spec.key, why)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The value as kept, or what is wrong with it and how to fix it.
fn check_value(spec: &SettingSpec, v: &str) -> Result<String, String> {
    let label = spec.label;
    if v.len() > 512 || v.chars().any(char::is_control) {
        return Err(format!("the {label} must be at most 512 printable bytes"));
    }
    let ok = match spec.check {
        Check::Text => true,
        Check::Hex32 => v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()),
        Check::Ident => v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        Check::Upper => v.len() <= 64 && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        Check::Number(lo, hi) => v.parse::<u64>().is_ok_and(|n| (lo..=hi).contains(&n)),
        Check::Choice(words) => {
            let lower = v.to_ascii_lowercase();
            return words
                .iter()
                .find(|w| **w == lower)
                .map(|w| (*w).to_owned())
                .ok_or_else(|| format!("the {label} must be one of: {}", words.join(", ")));
        }
        Check::Flag => {
            return match v.to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" | "1" => Ok("on".into()),
                "off" | "false" | "no" | "0" => Ok("off".into()),
                _ => Err(format!("the {label} is on or off")),
            };
        }
        Check::Url => return check_url(label, v),
        Check::Path => v.starts_with('/') && !v.contains(['?', '#', ' ']),
    };
    if ok {
        Ok(v.to_owned())
    } else {
        Err(match spec.check {
            Check::Hex32 => format!("the {label} is 32 hexadecimal digits ({})", spec.help),
            Check::Ident => format!("the {label} has letters, digits, - and _ only"),
            Check::Upper => format!("the {label} has capital letters and digits only, e.g. EDFDVBD6EXAMPLE"),
            Check::Number(lo, hi) => format!("the {label} is a whole number from {lo} to {hi}"),
            Check::Path => format!("the {label} starts with / and has no ?, # or spaces, e.g. /demo"),
            _ => format!("the {label} is not valid: {}", spec.help),
        })
    }
}

fn check_url(label: &str, v: &str) -> Result<String, String> {
    let fix = format!(
        "the {label} is an absolute https:// or http:// URL without user or password, e.g. https://img.example.com"
    );
    let (scheme, rest) = v.split_once("://").ok_or_else(|| fix.clone())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('@') || rest.contains(['?', '#']) {
        return Err(fix);
    }
    Ok(v.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn cloudflare_settings_split_credentials_and_fill_defaults() {
        let zone = "023e105f4ecef8ad9ca31a8372d0c353";
        let c =
            check_settings(TargetKind::Cloudflare, &map(&[("zone_id", zone), ("api_token", " tok ")]), &[]).unwrap();
        assert_eq!(c.settings.get("zone_id"), Some(zone));
        assert_eq!(c.settings.get("plan"), Some("free"));
        assert_eq!(c.settings.number("per_call"), Some(100));
        assert!(!c.settings.flag("dedicated"));
        assert_eq!(c.credentials.get("api_token").map(String::as_str), Some("tok"));
        assert!(c.settings.get("api_token").is_none(), "credentials never sit with the settings");
        assert!(!format!("{c:?}").contains("tok\""), "Debug names credentials, never their values");
    }

    #[test]
    fn every_bad_field_is_named_with_its_fix() {
        let given = map(&[("zone_id", "nope"), ("plan", "gold"), ("public_url", "ftp://x"), ("colour", "red")]);
        let errors = check_settings(TargetKind::Cloudflare, &given, &[]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["colour", "zone_id", "api_token", "plan", "public_url"]);
        assert!(errors[0].message.contains("zone_id, api_token"), "{}", errors[0].message);
        assert!(errors[2].message.contains("Cache Purge"), "{}", errors[2].message);
        assert!(errors[3].message.contains("free, pro, business, enterprise"));
    }

    #[test]
    fn a_kept_credential_need_not_be_given_again() {
        let given = map(&[("pull_zone_id", "42")]);
        assert!(check_settings(TargetKind::Bunny, &given, &[]).is_err());
        let c = check_settings(TargetKind::Bunny, &given, &["access_key"]).unwrap();
        assert!(c.credentials.is_empty());
        let errors = check_settings(TargetKind::Varnish, &given, &[]).unwrap_err();
        assert!(errors[0].message.contains("takes no settings"));
        assert!(check_settings(TargetKind::Varnish, &BTreeMap::new(), &[]).is_ok());
    }

    #[test]
    fn values_are_normalised() {
        let given = map(&[
            ("distribution_id", "EDFDVBD6EXAMPLE"),
            ("access_key_id", "AKID"),
            ("secret_access_key", "s"),
            ("public_url", "https://img.example.com/"),
            ("dedicated", "true"),
            ("path_prefix", "demo"),
        ]);
        let errors = check_settings(TargetKind::Cloudfront, &given, &[]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "path_prefix");
        let mut given = given;
        given.insert("path_prefix".into(), "/demo".into());
        let c = check_settings(TargetKind::Cloudfront, &given, &[]).unwrap();
        assert_eq!(c.settings.get("public_url"), Some("https://img.example.com"));
        assert!(c.settings.flag("dedicated"));
        assert_eq!(c.credentials.len(), 2);
    }
}
