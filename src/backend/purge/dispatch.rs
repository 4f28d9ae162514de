//! One entry for every target kind: the address checked, the credentials
//! opened, then the kind's driver.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;

use super::coalesce::Coalescer;
use super::driver::{Ctx, Progress};
use super::pacing::Pacing;
use super::registry::driver;
use super::report::{client, PurgeCall, PurgeError, PurgeResult};
use crate::backend::model::Target;
use crate::backend::network::NetworkPolicy;
use crate::backend::vault::{Credentials, Vault};

/// Purges targets of every kind: the HTTP client that reaches only the
/// allowed networks, the key that opens providers' credentials, and the
/// shared pacing of provider accounts.
#[derive(Clone)]
pub struct Purger {
    client: Client,
    /// Each call's timeout (the client is rebuilt with it for a new network).
    timeout: Duration,
    network: Arc<NetworkPolicy>,
    vault: Vault,
    pacing: Pacing,
    coalescer: Arc<Coalescer>,
}

impl Purger {
    /// Calls time out after `timeout`; no credential key, no pacing.
    pub fn new(timeout: Duration, network: NetworkPolicy) -> Self {
        Purger {
            client: client(timeout, &network),
            timeout,
            network: Arc::new(network),
            vault: Vault::none(),
            pacing: Pacing::unpaced(),
            coalescer: Default::default(),
        }
    }

    /// Reaches `network`'s addresses besides public ones (the operator's
    /// `targets.allowed_networks`): a new client, the same key and pacing.
    pub fn with_network(mut self, network: NetworkPolicy) -> Self {
        self.client = client(self.timeout, &network);
        self.network = Arc::new(network);
        self
    }

    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = vault;
        self
    }

    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn network(&self) -> &NetworkPolicy {
        &self.network
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Purges `call` on `target` with the contract of its kind, starting no
    /// provider call past `deadline`.
    pub async fn purge(&self, target: &Target, call: &PurgeCall, deadline: Instant) -> PurgeResult {
        let ctx = self.ctx(target, deadline)?;
        driver(target.kind).purge(&ctx, call).await
    }

    /// The kind's harmless check of the target (ten seconds at most).
    pub async fn test(&self, target: &Target, call: &PurgeCall) -> Result<String, PurgeError> {
        let ctx = self.ctx(target, Instant::now() + Duration::from_secs(10))?;
        driver(target.kind).test(&ctx, call).await
    }

    /// What a purge of `call` would remove on `target` (ten seconds at most);
    /// `None`: the kind cannot say.
    pub async fn count(&self, target: &Target, call: &PurgeCall) -> Result<Option<(u64, u64)>, PurgeError> {
        let ctx = self.ctx(target, Instant::now() + Duration::from_secs(10))?;
        driver(target.kind).count(&ctx, call).await
    }

    /// Whether `target` holds the variant, asked from its cache only (five
    /// seconds at most); `None`: the kind cannot be asked.
    pub async fn probe(
        &self,
        target: &Target,
        req: &crate::domain::probe::ProbeRequest,
    ) -> Result<Option<crate::domain::probe::ProbeAnswer>, PurgeError> {
        let ctx = self.ctx(target, Instant::now() + Duration::from_secs(5))?;
        driver(target.kind).probe(&ctx, req).await
    }

    /// Where the purges `pending` on `target` stand.
    pub async fn poll(&self, target: &Target, pending: &[String], deadline: Instant) -> Result<Progress, PurgeError> {
        let ctx = self.ctx(target, deadline)?;
        driver(target.kind).poll(&ctx, pending).await
    }

    /// A URL whose host is an address literal is checked against the policy
    /// here (the resolver is not asked for literals); names are checked on
    /// their resolved addresses.
    fn ctx<'a>(&'a self, target: &'a Target, deadline: Instant) -> Result<Ctx<'a>, PurgeError> {
        let url = reqwest::Url::parse(&target.url).map_err(|_| PurgeError::Other("invalid URL".into()))?;
        self.network.check_url(&url).map_err(PurgeError::NotAllowed)?;
        let creds = match &target.credentials {
            Some(sealed) => self.vault.open(sealed).map_err(|e| PurgeError::Credentials(e.to_string()))?,
            None => Credentials::default(),
        };
        Ok(Ctx { client: &self.client, target, url, creds, pacing: &self.pacing, coalescer: &self.coalescer, deadline })
    }
}
