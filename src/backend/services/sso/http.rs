//! The HTTP client for identity providers and the discovery call.

use std::time::Duration;

use openidconnect::core::CoreProviderMetadata;
use openidconnect::IssuerUrl;

/// The HTTP client for the provider: no redirects (openidconnect's advice:
/// a redirect would let a provider's answer point requests elsewhere).
#[derive(Clone)]
pub(super) struct Http(pub(super) openidconnect::reqwest::Client);

impl Http {
    pub(super) fn new() -> Self {
        let client = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Http(client)
    }

    /// The provider's discovery document and keys, checked for `issuer`.
    pub(super) async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, String> {
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("not a URL: {e}"))?;
        CoreProviderMetadata::discover_async(url, &self.0)
            .await
            .map_err(|e| format!("its discovery document could not be read: {}", chain(&e)))
    }
}

/// An error and its causes on one line.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    clip(&out)
}

pub(super) fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(300).collect()
}
