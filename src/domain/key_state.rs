//! An API key's state as its lists show it (the keys page, `server key list`).

use serde::{Deserialize, Serialize};

/// An API key's state when the list was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Active,
    /// Expires within 7 days: roll it. `hours` left, at least 1.
    ExpiresSoon {
        hours: i64,
    },
    /// Rolled: its successor is in use; it works until it expires.
    Rolled,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn usable(self) -> bool {
        matches!(self, KeyState::Active | KeyState::ExpiresSoon { .. } | KeyState::Rolled)
    }

    /// "active", "expires in 3 days", "rolled", "expired", "revoked".
    pub fn label(self) -> String {
        match self {
            KeyState::Active => "active".into(),
            KeyState::ExpiresSoon { hours } if hours < 48 => format!("expires in {hours} h"),
            KeyState::ExpiresSoon { hours } => format!("expires in {} days", hours / 24),
            KeyState::Rolled => "rolled: valid until it expires".into(),
            KeyState::Expired => "expired".into(),
            KeyState::Revoked => "revoked".into(),
        }
    }
}
