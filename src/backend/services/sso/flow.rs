//! The authorization code flow with PKCE (S256), `state` and `nonce`, by the
//! maintained `openidconnect` crate: discovery (with the issuer's JWKS), the
//! code exchange, and the ID token's checks (signature, issuer, audience,
//! expiry, nonce). What the flow keeps between the two legs is a [`Pending`]
//! the caller holds in the browser's session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreClient, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use subtle::ConstantTimeEq;

use super::http::{chain, clip};
use super::service::{SsoService, SECRET};
use super::types::{Callback, Pending, Refusal, Started};
use crate::backend::audit::RequestMeta;
use crate::backend::now_ms;
use crate::backend::store::{SsoProvider, StoreError, User};
use crate::backend::ServiceError;

/// The client `from_provider_metadata` makes: its authorization endpoint
/// set, the token and user info endpoints as discovery found them.
type DiscoveredClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// A sign-in started and not finished yet is good for this long.
const PENDING_MS: i64 = 10 * 60_000;

impl SsoService {
    /// Starts a sign-in with provider `id`; `redirect` is this console's
    /// callback URL, `login_hint` what the provider may pre-fill.
    pub async fn start(
        &self,
        id: i64,
        redirect: &str,
        next: &str,
        login_hint: Option<&str>,
    ) -> Result<Started, Refusal> {
        let provider = self.store.sso_provider(id).await?;
        let client = self.client(&provider, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge);
        if let Some(claim) = &provider.groups_claim {
            request = request.add_scope(Scope::new(claim.clone()));
        }
        if let Some(hint) = login_hint.filter(|h| h.len() <= 254 && !h.chars().any(char::is_control)) {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, state, nonce) = request.url();
        let pending = Pending {
            provider_id: id,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_owned(),
            created_ms: now_ms(),
        };
        Ok(Started { url: url.to_string(), pending })
    }

    /// Finishes the sign-in `pending` started: checks `state`, exchanges
    /// `code`, verifies the ID token, then finds or makes the account. Every
    /// refusal is audited; the caller signs the user in.
    #[tracing::instrument(skip_all, fields(provider = pending.provider_id))]
    pub async fn finish(
        &self,
        pending: &Pending,
        callback: &Callback,
        redirect: &str,
        meta: &RequestMeta,
    ) -> Result<User, Refusal> {
        let provider = match self.store.sso_provider(pending.provider_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Err(Refusal::Provider("removed while signing in".into())),
            Err(e) => return Err(e.into()),
        };
        let result = self.verified(&provider, pending, callback, redirect).await;
        let result = match result {
            Ok((email, groups)) => self.account(&provider, &email, &groups, meta).await,
            Err(e) => Err(e),
        };
        if let Err(refusal) = &result {
            self.refused(&provider.name, refusal, meta).await;
        }
        result
    }

    /// The e-mail and groups of the ID token the code is exchanged for.
    async fn verified(
        &self,
        provider: &SsoProvider,
        pending: &Pending,
        callback: &Callback,
        redirect: &str,
    ) -> Result<(String, Vec<String>), Refusal> {
        let given = callback.state.as_deref().unwrap_or_default();
        let fresh = now_ms() - pending.created_ms < PENDING_MS;
        if !fresh || !bool::from(given.as_bytes().ct_eq(pending.state.as_bytes())) {
            return Err(Refusal::State);
        }
        if let Some(error) = &callback.error {
            return Err(Refusal::Provider(format!("it answered {}", clip(error))));
        }
        if callback.iss.as_deref().is_some_and(|iss| iss != provider.issuer) {
            return Err(Refusal::Provider("the answer names another issuer".into()));
        }
        let code = callback.code.clone().ok_or_else(|| Refusal::Provider("no code in its answer".into()))?;
        let client = self.client(provider, redirect).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Refusal::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http.0)
            .await
            .map_err(|e| Refusal::Provider(format!("the code exchange failed: {}", chain(&e))))?;
        let id_token = token.id_token().ok_or_else(|| Refusal::Token("none in the token response".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token.claims(&client.id_token_verifier(), &nonce).map_err(|e| Refusal::Token(chain(&e)))?;
        let email = claims.email().map(|e| e.as_str().to_owned()).unwrap_or_default();
        if email.is_empty() || claims.email_verified() != Some(true) {
            return Err(Refusal::Unverified(if email.is_empty() { "(none given)".into() } else { email }));
        }
        // Read from the token whose signature and claims were just verified.
        let groups = match &provider.groups_claim {
            Some(claim) => groups_in(&id_token.to_string(), claim),
            None => Vec::new(),
        };
        Ok((email, groups))
    }

    /// The provider's client: discovery each time (keys rotate), secret opened.
    async fn client(&self, provider: &SsoProvider, redirect: &str) -> Result<DiscoveredClient, Refusal> {
        let metadata = self.http.discover(&provider.issuer).await.map_err(Refusal::Provider)?;
        let secret = self
            .vault
            .open(&provider.client_secret)
            .and_then(|c| c.require(SECRET).map(str::to_owned))
            .map_err(|e| Refusal::Internal(ServiceError::Internal(format!("the client secret: {e}"))))?;
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| Refusal::Internal(ServiceError::Internal(format!("the callback URL: {e}"))))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret)),
        );
        Ok(client.set_redirect_uri(redirect))
    }
}

/// The strings of `claim` in a JWT's payload (a list, or one string).
fn groups_in(jwt: &str, claim: &str) -> Vec<String> {
    let payload = jwt.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
    let value: Option<serde_json::Value> = payload.and_then(|p| serde_json::from_slice(&p).ok());
    match value.as_ref().and_then(|v| v.get(claim)) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_the_named_claim() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"groups":["a","b",3],"role":"ops"}"#);
        let jwt = format!("h.{payload}.s");
        assert_eq!(groups_in(&jwt, "groups"), ["a", "b"]);
        assert_eq!(groups_in(&jwt, "role"), ["ops"]);
        assert!(groups_in(&jwt, "missing").is_empty());
        assert!(groups_in("not a jwt", "groups").is_empty());
    }
}
