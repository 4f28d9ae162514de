//! What an action answered (a member added, a key created, a target tested
//! or removed), for the page's notice right after it.

use serde::{Deserialize, Serialize};

use imgflush::domain::Role;

/// A member just added; a new user's invitation link is shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedMember {
    pub email: String,
    pub role: Role,
    pub invite_path: Option<String>,
    /// The same link in full (`server.public_url` or the request's host),
    /// as it is sent to the new member.
    pub invite_url: Option<String>,
}

/// A member whose role changed (`role`), or who was removed (`None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberChanged {
    pub email: String,
    pub role: Option<Role>,
}

/// What a purge target's Test answered, shown beside that target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetTestAnswer {
    pub target_id: i64,
    /// "ok: …" or "failed: …", in plain words.
    pub answer: String,
}

/// What Remove did, for the page's notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRemoved {
    pub name: String,
}

/// A freshly created key: the only time its secret leaves the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub name: String,
    pub secret: String,
    /// A roll: the replaced key's prefix and the end of its grace period.
    #[serde(default)]
    pub replaces: Option<(String, crate::timestamp::Timestamp)>,
}
