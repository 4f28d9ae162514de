//! An API key's lifetime and where it may be used from: an optional expiry,
//! an allow-list of source networks, and the refusals they cause. A refusal
//! is told only to a caller that presented the whole secret (the hash
//! matched): anyone else learns nothing about the key.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ipnet::IpNet;

use crate::backend::network::canonical;
use crate::backend::store::ApiKey;
use crate::domain::FieldError;

/// A key expiring within this is warned about: on the keys page, in
/// `/metrics`, and once to the project's notification hooks.
pub const NOTICE_BEFORE: Duration = Duration::days(7);
/// The longest lifetime a key may be given.
pub const MAX_DAYS: i64 = 3650;
/// The longest grace period of a roll: the old key's last day is at most this far.
pub const MAX_GRACE_HOURS: i64 = 30 * 24;
/// At most this many networks per key.
pub const MAX_NETWORKS: usize = 32;

/// The lifetime and networks of a new key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRules {
    pub expires: Option<DateTime<Utc>>,
    /// Normalised CIDRs (`203.0.113.0/24`, `2001:db8::/32`, `198.51.100.7/32`).
    pub allowed_ips: Vec<String>,
}

impl KeyRules {
    /// The form's and the API's fields: `expires_in_days` (a whole number of
    /// days) or `expires_at` (a date, valid through its last second in UTC,
    /// or an RFC 3339 time), and `allowed_ips` (addresses or CIDRs separated
    /// by spaces, commas or lines). Every problem is reported at once.
    pub fn parse(
        expires_in_days: Option<&str>,
        expires_at: Option<&str>,
        allowed_ips: &str,
        now: DateTime<Utc>,
    ) -> Result<KeyRules, Vec<FieldError>> {
        let mut errors = Vec::new();
        let days = expires_in_days.map(str::trim).filter(|s| !s.is_empty());
        let at = expires_at.map(str::trim).filter(|s| !s.is_empty());
        let expires = match (days, at) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "expires_at",
                    "give either expires_in_days or expires_at, not both (e.g. expires_in_days=90)",
                ));
                None
            }
            (Some(days), None) => match days.parse::<i64>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => Some(now + Duration::days(n)),
                _ => {
                    errors.push(FieldError::new(
                        "expires_in_days",
                        format!("a whole number of days from 1 to {MAX_DAYS} (e.g. 90); leave it empty for no expiry"),
                    ));
                    None
                }
            },
            (None, Some(at)) => match parse_time(at) {
                Some(t) if t > now && t <= now + Duration::days(MAX_DAYS) => Some(t),
                Some(_) => {
                    errors.push(FieldError::new(
                        "expires_at",
                        format!("the expiry must be in the future and within {MAX_DAYS} days"),
                    ));
                    None
                }
                None => {
                    errors.push(FieldError::new(
                        "expires_at",
                        "a date as YYYY-MM-DD (valid through that day, UTC) or an RFC 3339 time such as \
                         2027-03-01T12:00:00Z",
                    ));
                    None
                }
            },
            (None, None) => None,
        };
        let allowed_ips = match parse_networks(allowed_ips) {
            Ok(nets) => nets,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        if errors.is_empty() {
            Ok(KeyRules { expires, allowed_ips })
        } else {
            Err(errors)
        }
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Addresses or CIDRs, normalised (`10.1.2.3/8` → `10.0.0.0/8`, an address → `/32` or `/128`).
pub fn parse_networks(text: &str) -> Result<Vec<String>, FieldError> {
    let mut nets: Vec<String> = Vec::new();
    for entry in text.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()) {
        let net = entry
            .parse::<IpNet>()
            .map(|n| n.trunc())
            .or_else(|_| entry.parse::<IpAddr>().map(|ip| IpNet::from(canonical(ip))))
            .map_err(|_| {
                FieldError::new(
                    "allowed_ips",
                    "list addresses or networks in CIDR notation, separated by spaces or commas \
                     (e.g. 203.0.113.0/24 2001:db8::/32); leave it empty to accept any address",
                )
                .with_entry(entry)
            })?;
        let net = net.to_string();
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    if nets.len() > MAX_NETWORKS {
        return Err(FieldError::new("allowed_ips", format!("at most {MAX_NETWORKS} networks per key")));
    }
    Ok(nets)
}

/// Why a key whose secret matched is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    /// It expired at this time (its grace period ended, after a roll).
    Expired(DateTime<Utc>),
    /// The request came from an address outside the key's networks (or from
    /// an unknown one, when the key has networks).
    AddressNotAllowed(Option<IpAddr>),
}

impl std::fmt::Display for KeyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRefusal::Expired(at) => write!(
                f,
                "the API key expired at {}; create a new key (or roll it before it expires) on the API keys page",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            KeyRefusal::AddressNotAllowed(Some(ip)) => write!(
                f,
                "the API key is not accepted from {ip}; an admin can add this address to its allowed networks"
            ),
            KeyRefusal::AddressNotAllowed(None) => {
                write!(f, "the API key accepts only listed networks, and this request's address is unknown")
            }
        }
    }
}

/// Whether `key` (its secret already matched) may be used at `now` from `source`.
pub fn admits(key: &ApiKey, now: DateTime<Utc>, source: Option<IpAddr>) -> Result<(), KeyRefusal> {
    if let Some(at) = key.expires.filter(|at| *at <= now) {
        return Err(KeyRefusal::Expired(at));
    }
    if key.allowed_ips.is_empty() {
        return Ok(());
    }
    let Some(ip) = source.map(canonical) else {
        return Err(KeyRefusal::AddressNotAllowed(None));
    };
    let inside = key.allowed_ips.iter().filter_map(|n| n.parse::<IpNet>().ok()).any(|net| net.contains(&ip));
    if inside {
        Ok(())
    } else {
        Err(KeyRefusal::AddressNotAllowed(Some(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn expiry_in_days_or_at_a_date() {
        let r = KeyRules::parse(Some("90"), None, "", now()).unwrap();
        assert_eq!(r.expires, Some(now() + Duration::days(90)));
        let r = KeyRules::parse(None, Some("2027-03-01"), "", now()).unwrap();
        assert_eq!(r.expires.unwrap().to_rfc3339(), "2027-03-02T00:00:00+00:00", "valid through the day");
        let r = KeyRules::parse(None, Some("2026-12-08T09:30:00+01:00"), "", now()).unwrap();
        assert_eq!(r.expires.unwrap().to_rfc3339(), "2026-12-08T08:30:00+00:00");
        assert_eq!(KeyRules::parse(Some(""), Some(" "), "", now()).unwrap(), KeyRules::default());
    }

    #[test]
    fn bad_expiries_name_their_field() {
        for (days, at, field) in [
            (Some("0"), None, "expires_in_days"),
            (Some("3651"), None, "expires_in_days"),
            (Some("ninety"), None, "expires_in_days"),
            (None, Some("2026-12-06"), "expires_at"),
            (None, Some("tomorrow"), "expires_at"),
            (Some("3"), Some("2027-01-01"), "expires_at"),
        ] {
            let errors = KeyRules::parse(days, at, "", now()).unwrap_err();
            assert_eq!(errors[0].field, field, "{days:?} {at:?}");
        }
    }

    #[test]
    fn networks_are_normalised_and_checked() {
        let nets = parse_networks("10.1.2.3/8, 2001:db8::1/32\n198.51.100.7 ::ffff:192.0.2.1 10.0.0.0/8").unwrap();
        assert_eq!(nets, ["10.0.0.0/8", "2001:db8::/32", "198.51.100.7/32", "192.0.2.1/32"]);
        let e = parse_networks("10.0.0.0/8 example.com").unwrap_err();
        assert_eq!((e.field.as_str(), e.entry.as_deref()), ("allowed_ips", Some("example.com")));
        assert!(parse_networks("10.0.0.0/33").is_err());
    }

    fn key(expires: Option<DateTime<Utc>>, nets: &[&str]) -> ApiKey {
        ApiKey {
            id: 1,
            project_id: 1,
            name: "ci".into(),
            prefix: "p".into(),
            secret_hash: String::new(),
            role: crate::domain::Role::Editor,
            created: now(),
            last_used: None,
            revoked: None,
            limits: Default::default(),
            expires,
            allowed_ips: nets.iter().map(|s| s.to_string()).collect(),
            last_used_addr: None,
            rolled_to: None,
        }
    }

    #[test]
    fn expired_and_outside_keys_are_refused() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(admits(&key(None, &[]), now(), None), Ok(()));
        let soon = now() + Duration::seconds(1);
        assert_eq!(admits(&key(Some(soon), &[]), now(), None), Ok(()));
        assert_eq!(admits(&key(Some(now()), &[]), now(), None), Err(KeyRefusal::Expired(now())));
        let k = key(None, &["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(admits(&k, now(), ip("10.9.8.7")), Ok(()));
        assert_eq!(admits(&k, now(), ip("::ffff:10.9.8.7")), Ok(()), "an IPv4-mapped address is its IPv4 one");
        assert_eq!(admits(&k, now(), ip("2001:db8::5")), Ok(()));
        assert_eq!(admits(&k, now(), ip("11.0.0.1")), Err(KeyRefusal::AddressNotAllowed(ip("11.0.0.1"))));
        assert_eq!(admits(&k, now(), None), Err(KeyRefusal::AddressNotAllowed(None)));
    }
}
