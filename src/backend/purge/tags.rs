//! What a provider purges for one call: the edge's labels (the token key,
//! each path's key, see `domain/cache_key.rs`), which every provider with
//! tags purges by, and prefixes, which each provider handles its own way.
//! Also the reading of providers' JSON answers, shared by the drivers.

use reqwest::Response;

use super::report::{read_bounded, PurgeCall, PurgeError};
use crate::domain::{cache_key, OriginPath, Scope};

/// A call's purge, in provider terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Labels to purge: path keys, or the token key for scope All.
    pub keys: Vec<String>,
    /// Canonical prefixes (`/host/dir/`) of `dir/*` entries.
    pub prefixes: Vec<String>,
    /// Scope All on a target dedicated to the project: empty it all.
    pub everything: bool,
}

impl Selection {
    /// `call` as labels and prefixes; scope All purges the token's label
    /// unless the target is `dedicated` to the project.
    pub fn of(call: &PurgeCall, dedicated: bool) -> Self {
        let mut out = Selection::default();
        match call.scope {
            Scope::All if dedicated => out.everything = true,
            Scope::All => out.keys.push(cache_key::token_key(&call.token)),
            Scope::Tag => out.keys.extend(call.tags.iter().map(|t| cache_key::tag_key(&call.token, t))),
            Scope::Original => {
                for p in &call.paths {
                    match OriginPath::parse(p) {
                        Ok(op) if op.is_prefix() => out.prefixes.push(op.base().to_owned()),
                        _ => out.keys.push(cache_key::path_key(&call.token, p)),
                    }
                }
            }
        }
        out
    }

    /// For providers without prefix purges: the token's label instead of the
    /// prefixes (more than asked, never less); answers whether it did.
    pub fn prefixes_as_token(&mut self, token: &str) -> bool {
        if self.prefixes.is_empty() {
            return false;
        }
        self.prefixes.clear();
        self.keys.push(cache_key::token_key(token));
        true
    }
}

/// The note a driver adds when it purged the token for prefixes.
pub const WIDENED: &str = "; this provider has no prefix purge, so the project's whole token was purged";

/// A provider's answer as JSON (`Value::Null` when it is not JSON).
pub async fn json(resp: Response) -> serde_json::Value {
    let body = read_bounded(resp).await.unwrap_or_default();
    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
}

/// A provider's refusal: its status and message, and what to do about it.
pub fn refused(status: u16, message: &str, next_step: &str) -> PurgeError {
    let message: String = message.trim().chars().take(300).collect();
    PurgeError::Refused { status, message: format!("{message} — {next_step}") }
}

/// What a provider's non-2xx answer becomes: a 5xx the worker tries again,
/// anything else a refusal with its next step. An empty message reads as
/// the status.
pub fn failure(status: reqwest::StatusCode, message: String, next_step: &str) -> PurgeError {
    let message = if message.is_empty() { format!("HTTP {}", status.as_u16()) } else { message };
    if status.is_server_error() {
        return server_error(status, &message);
    }
    refused(status.as_u16(), &message, next_step)
}

/// A 5xx answer: the worker tries again.
pub fn server_error(status: reqwest::StatusCode, message: &str) -> PurgeError {
    PurgeError::Status { status, body: message.trim().chars().take(200).collect() }
}

/// A call of project `demo` with `origin_hosts`, for the drivers' tests.
#[cfg(test)]
pub(super) fn test_call(scope: Scope, paths: &[&str], origin_hosts: &[&str]) -> PurgeCall {
    let items: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let request = crate::domain::PurgeRequest::new(None, "demo", scope, &items);
    PurgeCall::one_off(request, origin_hosts.iter().map(|h| h.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(scope: Scope, paths: &[&str]) -> PurgeCall {
        test_call(scope, paths, &[])
    }

    #[test]
    fn paths_become_their_keys_and_all_the_token_unless_dedicated() {
        let s = Selection::of(&call(Scope::Original, &["/sample.li/flat1.jpg", "/sample.li/dir/*"]), false);
        assert_eq!(s.keys, ["imgflush-p-929bcaecf1065ab7821f783b4113ffdf8d380dca"]);
        assert_eq!(s.prefixes, ["/sample.li/dir/"]);
        assert!(!s.everything);
        let all = Selection::of(&call(Scope::All, &[]), false);
        assert_eq!(all.keys, ["imgflush-t-demo"]);
        assert!(Selection::of(&call(Scope::All, &[]), true).everything);
        let mut widened = s.clone();
        assert!(widened.prefixes_as_token("demo"));
        assert!(widened.prefixes.is_empty() && widened.keys.contains(&"imgflush-t-demo".to_owned()));
    }

    #[test]
    fn tags_become_their_project_keys_even_on_a_dedicated_target() {
        for dedicated in [false, true] {
            let s = Selection::of(&call(Scope::Tag, &["products", "shoes"]), dedicated);
            let want = [cache_key::tag_key("demo", "products"), cache_key::tag_key("demo", "shoes")];
            assert_eq!(s.keys, want);
            assert!(s.prefixes.is_empty() && !s.everything);
        }
        assert_eq!(cache_key::tag_key("demo", "products"), "imgflush-g-90ab64dd11d63d0f032aca11cde1f939bef6d46a");
    }
}
