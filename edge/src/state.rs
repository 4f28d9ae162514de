//! What every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, Shared};
use tokio::sync::Semaphore;

use crate::cache::{DiskCache, Key, Object};
use crate::config::EdgeConfig;
use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::misses::MissLimits;
use crate::origin::OriginClient;
use crate::settings::SettingsSource;
use crate::shield::client::ParentClient;

pub type Inflight = Shared<BoxFuture<'static, Result<Object, EdgeError>>>;

pub struct EdgeState {
    pub config: EdgeConfig,
    pub settings: Arc<dyn SettingsSource>,
    pub cache: Arc<DiskCache>,
    pub origin: OriginClient,
    /// A child edge's way to its shield (`EdgeConfig::parent`).
    pub parent: Option<ParentClient>,
    pub metrics: Metrics,
    pub misses: MissLimits,
    /// Bounds concurrent decode/resize/encode jobs to the cores.
    pub transforms: Arc<Semaphore>,
    /// Single flight: concurrent misses of one key share one origin fetch,
    /// with its token's purge epoch when it started.
    pub inflight: Mutex<HashMap<Key, (u64, Inflight)>>,
}
