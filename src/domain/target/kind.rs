use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::fields::{self, SettingSpec};
use crate::domain::status::Status;
use crate::domain::text::{excerpt, trim_input};

/// A cache layer that receives purge requests. What the pipeline, the forms
/// and the API need to know of a kind is its [`KindSpec`], one row of
/// [`KINDS`]; the purge itself is its driver (`backend/purge/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// Flushed in the resizing-servers step, ahead of the CDN layers.
    Edge,
    Varnish,
    Webhook,
    Cloudflare,
    Fastly,
    Cloudfront,
    Akamai,
    Bunny,
}

/// Phase of an invalidation during which a target is purged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    ResizingServers,
    CdnServers,
}

/// Everything about a target kind but its purge calls.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: TargetKind,
    /// The stored and typed name (`cloudfront`).
    pub name: &'static str,
    pub label: &'static str,
    pub step: Step,
    /// Verification can ask it for purged URLs afterwards (a node, or a CDN
    /// target with a public URL).
    pub verifiable: bool,
    /// Paths (or keys) one call carries at most; `None`: one call for all.
    pub per_call: Option<usize>,
    /// The provider accepts a purge and finishes it later: the worker polls
    /// until it says done (CloudFront).
    pub completes_later: bool,
    /// The provider's public API, used when the URL field is left empty;
    /// `None`: the operator names the target's URL.
    pub default_url: Option<&'static str>,
    /// What the URL field means for this kind, with an example.
    pub url_help: &'static str,
    /// Whether the kind takes the generic bearer secret (`secret` column).
    pub bearer_secret: bool,
    /// Its own settings and credentials, in form order.
    pub settings: &'static [SettingSpec],
    /// The response header its CDN reads cache tags from; the edges label
    /// every response of a project with a target of this kind with it.
    pub tag_header: Option<&'static str>,
}

/// Every kind's spec, in [`TargetKind::ALL`] order. A new driver adds a
/// variant, its row here and its module under `backend/purge/`.
pub static KINDS: [KindSpec; 8] = [
    KindSpec {
        kind: TargetKind::Edge,
        name: "edge",
        label: "Edge",
        step: Step::ResizingServers,
        verifiable: false,
        per_call: None,
        completes_later: false,
        default_url: None,
        url_help: "the edge's purge endpoint, e.g. http://127.0.0.1:8091/_purge",
        bearer_secret: true,
        settings: fields::EDGE,
        tag_header: None,
    },
    KindSpec {
        kind: TargetKind::Varnish,
        name: "varnish",
        label: "Varnish",
        step: Step::CdnServers,
        verifiable: true,
        per_call: None,
        completes_later: false,
        default_url: None,
        url_help: "the node's address, e.g. http://127.0.0.1:6081/",
        bearer_secret: true,
        settings: &[],
        tag_header: None,
    },
    KindSpec {
        kind: TargetKind::Webhook,
        name: "webhook",
        label: "Webhook",
        step: Step::CdnServers,
        verifiable: false,
        per_call: None,
        completes_later: false,
        default_url: None,
        url_help: "the URL that receives the signed purge request, e.g. https://hooks.example.com/purge",
        bearer_secret: true,
        settings: &[],
        tag_header: None,
    },
    KindSpec {
        kind: TargetKind::Cloudflare,
        name: "cloudflare",
        label: "Cloudflare",
        step: Step::CdnServers,
        verifiable: true,
        per_call: Some(100),
        completes_later: false,
        default_url: Some("https://api.cloudflare.com/client/v4"),
        url_help: "leave empty for https://api.cloudflare.com/client/v4",
        bearer_secret: false,
        settings: fields::CLOUDFLARE,
        tag_header: Some("cache-tag"),
    },
    KindSpec {
        kind: TargetKind::Fastly,
        name: "fastly",
        label: "Fastly",
        step: Step::CdnServers,
        verifiable: true,
        per_call: Some(256),
        completes_later: false,
        default_url: Some("https://api.fastly.com"),
        url_help: "leave empty for https://api.fastly.com",
        bearer_secret: false,
        settings: fields::FASTLY,
        tag_header: Some("surrogate-key"),
    },
    KindSpec {
        kind: TargetKind::Cloudfront,
        name: "cloudfront",
        label: "Amazon CloudFront",
        step: Step::CdnServers,
        verifiable: true,
        per_call: Some(3000),
        completes_later: true,
        default_url: Some("https://cloudfront.amazonaws.com"),
        url_help: "leave empty for https://cloudfront.amazonaws.com",
        bearer_secret: false,
        settings: fields::CLOUDFRONT,
        tag_header: None,
    },
    KindSpec {
        kind: TargetKind::Akamai,
        name: "akamai",
        label: "Akamai Fast Purge",
        step: Step::CdnServers,
        verifiable: true,
        // Tags per call: the body's 50,000-byte bound allows about 900 path keys.
        per_call: Some(500),
        completes_later: false,
        default_url: None,
        url_help: "your API client's host, e.g. https://akab-xxxx.purge.akamaiapis.net",
        bearer_secret: false,
        settings: fields::AKAMAI,
        tag_header: Some("edge-cache-tag"),
    },
    KindSpec {
        kind: TargetKind::Bunny,
        name: "bunny",
        label: "Bunny CDN",
        step: Step::CdnServers,
        verifiable: true,
        per_call: Some(1),
        completes_later: false,
        default_url: Some("https://api.bunny.net"),
        url_help: "leave empty for https://api.bunny.net",
        bearer_secret: false,
        settings: fields::BUNNY,
        tag_header: Some("cdn-tag"),
    },
];

impl TargetKind {
    pub const ALL: [TargetKind; 8] = [
        Self::Edge,
        Self::Varnish,
        Self::Webhook,
        Self::Cloudflare,
        Self::Fastly,
        Self::Cloudfront,
        Self::Akamai,
        Self::Bunny,
    ];

    pub fn spec(&self) -> &'static KindSpec {
        &KINDS[*self as usize]
    }

    /// Its position in [`Self::ALL`] (for per-kind arrays).
    pub fn index(&self) -> usize {
        *self as usize
    }

    /// Accepts the kind's name (`cloudfront`) or label in any letter case.
    pub fn parse(value: &str) -> Result<TargetKind, UnknownTargetKind> {
        let v = trim_input(value);
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(v) || k.label().eq_ignore_ascii_case(v))
            .ok_or_else(|| UnknownTargetKind { value: v.to_owned() })
    }

    pub fn as_str(&self) -> &'static str {
        self.spec().name
    }

    pub fn label(&self) -> &'static str {
        self.spec().label
    }

    pub fn step(&self) -> Step {
        self.spec().step
    }

    pub fn verifiable(&self) -> bool {
        self.spec().verifiable
    }

    pub fn per_call(&self) -> Option<usize> {
        self.spec().per_call
    }

    pub fn completes_later(&self) -> bool {
        self.spec().completes_later
    }

    /// A provider's purge API (credentials in settings, rate limits per
    /// account), rather than a node or hook the operator runs.
    pub fn is_provider(&self) -> bool {
        !self.spec().bearer_secret
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

    /// Targets of this step as the status notes name them.
    pub fn what(&self) -> &'static str {
        match self {
            Self::ResizingServers => "resizing server",
            Self::CdnServers => "CDN",
        }
    }

    /// The status an invalidation ends in when a target of this step fails.
    pub fn failed_status(&self) -> Status {
        match self {
            Self::ResizingServers => Status::Error,
            Self::CdnServers => Status::ErrorCdnNode,
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
#[error("unknown target kind {:?}; use one of: {}", excerpt(.value), kind_names())]
pub struct UnknownTargetKind {
    pub value: String,
}

fn kind_names() -> String {
    TargetKind::ALL.map(|k| format!("\"{}\"", k.as_str())).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serde_roundtrip() {
        for k in TargetKind::ALL {
            assert_eq!(k.spec().kind, k, "KINDS is in ALL order");
            assert_eq!(TargetKind::ALL[k.index()], k);
            assert_eq!(TargetKind::parse(k.as_str()), Ok(k));
            assert_eq!(k.label().parse::<TargetKind>(), Ok(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            assert_eq!(serde_json::from_str::<TargetKind>(&json).unwrap(), k);
            assert_eq!(k.is_provider(), k.spec().default_url.is_some() || k == TargetKind::Akamai);
            if let Some(h) = k.spec().tag_header {
                assert!(crate::domain::cache_key::tag_header_value::<&str>(h, "demo", "/x", &[]).is_some(), "{k}: {h}");
            }
        }
    }

    #[test]
    fn steps_and_their_statuses() {
        assert_eq!(TargetKind::Edge.step(), Step::ResizingServers);
        for k in TargetKind::ALL.into_iter().skip(1) {
            assert_eq!(k.step(), Step::CdnServers, "{k}");
        }
        assert_eq!(Step::ResizingServers.status(), Status::FlushingResizingServers);
        assert_eq!(Step::CdnServers.status(), Status::FlushingCdnServers);
        assert_eq!(Step::CdnServers.failed_status(), Status::ErrorCdnNode);
        assert!(Step::ResizingServers < Step::CdnServers);
        assert_eq!(serde_json::to_string(&Step::CdnServers).unwrap(), "\"cdn_servers\"");
        assert!(TargetKind::Cloudfront.completes_later());
        assert!(!TargetKind::Cloudflare.completes_later());
        assert_eq!(TargetKind::Bunny.per_call(), Some(1));
    }

    #[test]
    fn unknown_kind_names_valid_values() {
        let e = TargetKind::parse("squid").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown target kind \"squid\"; use one of: \"edge\", \"varnish\", \"webhook\", \"cloudflare\", \
             \"fastly\", \"cloudfront\", \"akamai\", \"bunny\""
        );
    }
}
