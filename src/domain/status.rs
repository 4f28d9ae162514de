use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::text::{excerpt, trim_input};

/// Lifecycle of an invalidation, serialised as the public API code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Scope All under the project's two-person rule: stored, waiting for
    /// another admin's approval (not one of the anchor's statuses: its API
    /// reports it as `RECEIVED`).
    #[serde(rename = "AWAITING_APPROVAL")]
    AwaitingApproval,
    #[serde(rename = "RECEIVED")]
    Received,
    #[serde(rename = "PREPARING")]
    Preparing,
    #[serde(rename = "FLUSHINGCLOUDIMAGESERVER")]
    FlushingResizingServers,
    #[serde(rename = "FLUSHINGCDNSERVERS")]
    FlushingCdnServers,
    #[serde(rename = "DONE")]
    Done,
    #[serde(rename = "ERROR_CDN_NODE")]
    ErrorCdnNode,
    #[serde(rename = "ERROR")]
    Error,
    /// Withdrawn while still queued, before any worker claimed it.
    #[serde(rename = "CANCELLED")]
    Cancelled,
}

impl Status {
    /// In lifecycle order.
    pub const ALL: [Status; 9] = [
        Self::AwaitingApproval,
        Self::Received,
        Self::Preparing,
        Self::FlushingResizingServers,
        Self::FlushingCdnServers,
        Self::Done,
        Self::ErrorCdnNode,
        Self::Error,
        Self::Cancelled,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Self::AwaitingApproval => "AWAITING_APPROVAL",
            Self::Received => "RECEIVED",
            Self::Preparing => "PREPARING",
            Self::FlushingResizingServers => "FLUSHINGCLOUDIMAGESERVER",
            Self::FlushingCdnServers => "FLUSHINGCDNSERVERS",
            Self::Done => "DONE",
            Self::ErrorCdnNode => "ERROR_CDN_NODE",
            Self::Error => "ERROR",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Text shown in the console. Errors keep their code so support can
    /// search for it verbatim.
    pub fn label(&self) -> &'static str {
        match self {
            Self::AwaitingApproval => "Awaiting approval",
            Self::Received => "Received",
            Self::Preparing => "Preparing",
            Self::FlushingResizingServers => "Flushing resizing servers",
            Self::FlushingCdnServers => "Flushing CDN servers",
            Self::Done => "Done",
            Self::ErrorCdnNode => "ERROR_CDN_NODE",
            Self::Error => "ERROR",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Accepts the API code in any letter case.
    pub fn parse(code: &str) -> Result<Status, UnknownStatus> {
        let code = trim_input(code);
        Self::ALL
            .into_iter()
            .find(|s| s.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| UnknownStatus { value: code.to_owned() })
    }

    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done | Self::ErrorCdnNode | Self::Error | Self::Cancelled)
    }

    /// Only a queued invalidation can be cancelled (and only before a worker
    /// claims it), or one still awaiting approval.
    pub fn allows_cancel(&self) -> bool {
        matches!(self, Self::Received | Self::AwaitingApproval)
    }

    /// The status the anchor's API reports (it has no approval step).
    pub fn anchor(&self) -> Status {
        match self {
            Self::AwaitingApproval => Self::Received,
            s => *s,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Self::ErrorCdnNode | Self::Error)
    }

    pub fn allows_retry(&self) -> bool {
        self.is_error()
    }

    pub fn is_in_progress(&self) -> bool {
        matches!(self, Self::Preparing | Self::FlushingResizingServers | Self::FlushingCdnServers)
    }

    pub fn css_class(&self) -> &'static str {
        match self {
            Self::AwaitingApproval => "badge badge-approval",
            Self::Received => "badge badge-received",
            Self::Preparing | Self::FlushingResizingServers | Self::FlushingCdnServers => "badge badge-progress",
            Self::Done => "badge badge-done",
            Self::ErrorCdnNode | Self::Error => "badge badge-error",
            Self::Cancelled => "badge badge-cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {:?}; use one of {}", excerpt(.value), valid_codes())]
pub struct UnknownStatus {
    pub value: String,
}

fn valid_codes() -> String {
    Status::ALL.map(|s| s.code()).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_roundtrip_through_parse_and_serde() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Ok(s));
            assert_eq!(Status::parse(&s.code().to_lowercase()), Ok(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), s);
            assert_eq!(s.to_string(), s.code());
        }
        assert_eq!(" done ".parse::<Status>(), Ok(Status::Done));
    }

    #[test]
    fn labels() {
        assert_eq!(Status::FlushingResizingServers.label(), "Flushing resizing servers");
        assert_eq!(Status::FlushingCdnServers.label(), "Flushing CDN servers");
        assert_eq!(Status::ErrorCdnNode.label(), "ERROR_CDN_NODE");
        assert_eq!(Status::Received.label(), "Received");
    }

    #[test]
    fn unknown_status_lists_valid_codes() {
        let e = Status::parse("FINISHED").unwrap_err();
        assert_eq!(e.value, "FINISHED");
        let msg = e.to_string();
        assert!(msg.starts_with("unknown status \"FINISHED\"; use one of AWAITING_APPROVAL, RECEIVED, "), "{msg}");
        assert!(msg.ends_with("ERROR_CDN_NODE, ERROR, CANCELLED"), "{msg}");
        assert!(serde_json::from_str::<Status>("\"FINISHED\"").is_err());
    }

    #[test]
    fn predicates_partition_the_lifecycle() {
        use Status::*;
        let finals: Vec<_> = Status::ALL.into_iter().filter(Status::is_final).collect();
        assert_eq!(finals, [Done, ErrorCdnNode, Error, Cancelled]);
        let cancel: Vec<_> = Status::ALL.into_iter().filter(Status::allows_cancel).collect();
        assert_eq!(cancel, [AwaitingApproval, Received]);
        let errors: Vec<_> = Status::ALL.into_iter().filter(Status::is_error).collect();
        assert_eq!(errors, [ErrorCdnNode, Error]);
        let retry: Vec<_> = Status::ALL.into_iter().filter(Status::allows_retry).collect();
        assert_eq!(retry, errors);
        let busy: Vec<_> = Status::ALL.into_iter().filter(Status::is_in_progress).collect();
        assert_eq!(busy, [Preparing, FlushingResizingServers, FlushingCdnServers]);
        assert!(!Received.is_final() && !Received.is_in_progress());
        assert!(!AwaitingApproval.is_final() && !AwaitingApproval.is_in_progress());
        // The anchor's API has no approval step.
        assert_eq!(AwaitingApproval.anchor(), Received);
        assert_eq!(Done.anchor(), Done);
        assert_eq!(AwaitingApproval.label(), "Awaiting approval");
    }

    #[test]
    fn css_classes() {
        assert_eq!(Status::Received.css_class(), "badge badge-received");
        assert_eq!(Status::FlushingCdnServers.css_class(), "badge badge-progress");
        assert_eq!(Status::Done.css_class(), "badge badge-done");
        assert_eq!(Status::Error.css_class(), "badge badge-error");
        assert_eq!(Status::ErrorCdnNode.css_class(), "badge badge-error");
    }
}
