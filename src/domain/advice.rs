//! Plain-language next steps for a failed purge target, from the recorded
//! outcome text (see `PurgeError`'s `Display` in `backend::purge`): what the
//! details page and the support summary say to do.

use crate::domain::target::TargetKind;

/// What to do about a target whose last outcome was `detail`.
pub fn next_step(kind: TargetKind, detail: &str) -> String {
    let d = detail.trim();
    if d == "timed out" {
        return "The node did not answer in time: is it up and reachable from the console? Then Retry.".into();
    }
    if d.starts_with("connection refused") {
        return "Nothing answered at the target's address: check that the node runs and the URL on Settings is \
                right, then Retry."
            .into();
    }
    if d.starts_with("refused: ") {
        return "The target's address is outside the networks purges may reach: ask the operator to allow it \
                (targets.allowed_networks) or fix the URL on Settings."
            .into();
    }
    if d.starts_with("the target was removed") {
        return "The target no longer exists; nothing to do for it.".into();
    }
    if let Some(code) = http_status(d) {
        return match code {
            401 | 403 => format!(
                "The node refused the secret (HTTP {code}): check the target's secret on Settings and the \
                 secret configured on the {} node, then Retry.",
                kind.label()
            ),
            404 | 405 => format!(
                "The node does not accept purges at this URL (HTTP {code}): check the target's URL on Settings."
            ),
            429 => "The node is rate limiting purges (HTTP 429): wait a moment, then Retry.".into(),
            500..=599 => format!("The node failed (HTTP {code}): check its logs; once it is healthy, Retry."),
            _ => format!("The node answered HTTP {code}: check its logs and the target on Settings, then Retry."),
        };
    }
    "The purge call failed: check the target's URL on Settings and the node's logs, then Retry.".into()
}

/// The status code of an `HTTP 503 …` outcome.
pub fn http_status(detail: &str) -> Option<u16> {
    let rest = detail.strip_prefix("HTTP ")?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_gets_its_own_advice() {
        let v = TargetKind::Varnish;
        assert!(next_step(v, "HTTP 401 Unauthorized: bad secret").contains("refused the secret"));
        assert!(next_step(v, "HTTP 403 Forbidden").contains("Settings"));
        assert!(next_step(v, "timed out").contains("Retry"));
        assert!(next_step(v, "connection refused or unreachable").contains("runs"));
        assert!(next_step(v, "refused: 10.0.0.1 is private").contains("allowed_networks"));
        assert!(next_step(v, "HTTP 503 Service Unavailable").contains("HTTP 503"));
        assert!(next_step(v, "request failed: x").contains("Retry"));
        assert_eq!(http_status("HTTP 502 Bad Gateway: x"), Some(502));
        assert_eq!(http_status("timed out"), None);
    }
}
