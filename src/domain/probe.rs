//! "Is this URL fresh?": what each edge and Varnish node answers when asked,
//! from its cache only, whether it holds a variant and since when.

use serde::{Deserialize, Serialize};

use super::TargetKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub name: String,
    pub kind: TargetKind,
    pub state: Probe,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Probe {
    /// Held for `age_secs`; `stale` once past its TTL (served while refetched).
    Cached {
        age_secs: u64,
        stale: bool,
        /// The object's cache tags (edges only).
        #[serde(default)]
        tags: Vec<String>,
    },
    NotCached,
    /// The kind cannot be asked (hooks and CDNs).
    NotProbeable,
    /// The node did not answer: the reason, without secrets.
    Failed {
        reason: String,
    },
}

/// The answer of an edge's `POST /_lookup` and of a Varnish node's probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswer {
    pub cached: bool,
    #[serde(default)]
    pub age: Option<i64>,
    #[serde(default)]
    pub ttl: Option<i64>,
    #[serde(default)]
    pub stale: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The body of an edge's `POST /_lookup`: one variant of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRequest {
    pub token: String,
    /// Canonical origin path.
    pub path: String,
    /// The raw query (the variant), if any.
    #[serde(default)]
    pub query: Option<String>,
}

impl From<ProbeAnswer> for Probe {
    fn from(a: ProbeAnswer) -> Probe {
        if !a.cached {
            return Probe::NotCached;
        }
        let age = a.age.unwrap_or(0).max(0) as u64;
        Probe::Cached { age_secs: age, stale: a.stale.unwrap_or(false) || a.ttl.is_some_and(|t| t < 0), tags: a.tags }
    }
}

impl ProbeResult {
    /// Whether this node's copy was stored before `purged_secs_ago` (the last
    /// DONE purge that covered it): it should not be there.
    pub fn older_than(&self, purged_secs_ago: u64) -> bool {
        matches!(self.state, Probe::Cached { age_secs, .. } if age_secs > purged_secs_ago)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_probes() {
        let miss: ProbeAnswer = serde_json::from_str(r#"{"cached": false}"#).unwrap();
        assert_eq!(Probe::from(miss), Probe::NotCached);
        let hit: ProbeAnswer =
            serde_json::from_str(r#"{"cached": true, "age": 12, "ttl": -3, "stale": true}"#).unwrap();
        assert_eq!(Probe::from(hit), Probe::Cached { age_secs: 12, stale: true, tags: vec![] });
        let r = ProbeResult {
            name: "edge-1".into(),
            kind: TargetKind::Edge,
            state: Probe::Cached { age_secs: 100, stale: false, tags: vec![] },
        };
        assert!(r.older_than(50) && !r.older_than(200));
    }
}
