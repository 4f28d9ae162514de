use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::status::Status;
use crate::domain::text::{excerpt, trim_input};

/// A cache layer that receives purge requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// Flushed in the resizing-servers step, ahead of the CDN layers.
    Edge,
    Varnish,
    Webhook,
}

/// Phase of an invalidation during which a target is purged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    ResizingServers,
    CdnServers,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [Self::Edge, Self::Varnish, Self::Webhook];

    /// Accepts `edge` / `varnish` / `webhook` in any letter case.
    pub fn parse(value: &str) -> Result<TargetKind, UnknownTargetKind> {
        let v = trim_input(value);
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| UnknownTargetKind { value: v.to_owned() })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Edge => "edge",
            Self::Varnish => "varnish",
            Self::Webhook => "webhook",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Edge => "Edge",
            Self::Varnish => "Varnish",
            Self::Webhook => "Webhook",
        }
    }

    pub fn step(&self) -> Step {
        match self {
            Self::Edge => Step::ResizingServers,
            Self::Varnish | Self::Webhook => Step::CdnServers,
        }
    }
}

impl Step {
    /// In execution order.
    pub const ALL: [Step; 2] = [Self::ResizingServers, Self::CdnServers];

    /// Status an invalidation shows while this step runs.
    pub fn status(&self) -> Status {
        match self {
            Self::ResizingServers => Status::FlushingResizingServers,
            Self::CdnServers => Status::FlushingCdnServers,
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TargetKind {
    type Err = UnknownTargetKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown target kind {:?}; use \"edge\", \"varnish\" or \"webhook\"", excerpt(.value))]
pub struct UnknownTargetKind {
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serde_roundtrip() {
        for k in TargetKind::ALL {
            assert_eq!(TargetKind::parse(k.as_str()), Ok(k));
            assert_eq!(k.label().parse::<TargetKind>(), Ok(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            assert_eq!(serde_json::from_str::<TargetKind>(&json).unwrap(), k);
        }
    }

    #[test]
    fn steps_and_their_statuses() {
        assert_eq!(TargetKind::Edge.step(), Step::ResizingServers);
        assert_eq!(TargetKind::Varnish.step(), Step::CdnServers);
        assert_eq!(TargetKind::Webhook.step(), Step::CdnServers);
        assert_eq!(Step::ResizingServers.status(), Status::FlushingResizingServers);
        assert_eq!(Step::CdnServers.status(), Status::FlushingCdnServers);
        assert!(Step::ResizingServers < Step::CdnServers);
        assert_eq!(serde_json::to_string(&Step::CdnServers).unwrap(), "\"cdn_servers\"");
    }

    #[test]
    fn unknown_kind_names_valid_values() {
        let e = TargetKind::parse("akamai").unwrap_err();
        assert_eq!(e.to_string(), "unknown target kind \"akamai\"; use \"edge\", \"varnish\" or \"webhook\"");
    }
}
