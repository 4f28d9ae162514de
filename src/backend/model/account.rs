//! Accounts, memberships and invitation links.

use chrono::{DateTime, Utc};

use super::project::Project;
use crate::domain::{InstanceRole, Role};

#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// Bumped when the password changes or the user is removed: sessions
    /// signed in under an older epoch end.
    pub session_epoch: i64,
    /// `owner` or `staff` across every project, beside the memberships.
    pub instance_role: Option<InstanceRole>,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// False for an account an invitation created, until its holder sets a
    /// password (through the link, or `server user passwd`).
    pub password_set: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("session_epoch", &self.session_epoch)
            .field("instance_role", &self.instance_role)
            .field("password_set", &self.password_set)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub project: Project,
    pub role: Role,
}

/// A user as the owners' Users page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub instance_role: Option<InstanceRole>,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// How many projects they are a member of.
    pub projects: i64,
    /// Of how many of those they are an admin.
    pub admin_of: i64,
    /// Whether they sign in with a second factor.
    pub two_step: bool,
}

/// A member of a project as its admins see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// Whether the member has not accepted yet: a new account that has
    /// never set a password, or an existing one asked to join.
    pub invited: bool,
    /// Asked to join (an existing account): not a member, no access, until
    /// they accept with their own password.
    pub pending: bool,
}

/// What an invitation link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKind {
    /// Sets the password of a new account (which the issuing project already lists).
    Password,
    /// Asks an existing account to join a project; works only with that
    /// account's own password.
    Join,
}

impl InvitationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationKind::Password => "password",
            InvitationKind::Join => "join",
        }
    }

    pub fn parse(raw: &str) -> Option<InvitationKind> {
        match raw {
            "password" => Some(InvitationKind::Password),
            "join" => Some(InvitationKind::Join),
            _ => None,
        }
    }
}

/// A link to issue: for whom, what it does, and which project issued it
/// (with the role it offers).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub user_id: i64,
    pub kind: InvitationKind,
    pub project_id: Option<i64>,
    pub role: Option<Role>,
}

/// An open (unused, unexpired) link, resolved from its token.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub user_id: i64,
    pub email: String,
    pub kind: InvitationKind,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    pub role: Option<Role>,
    pub expires: DateTime<Utc>,
}

/// A join link used: the membership it made.
#[derive(Debug, Clone)]
pub struct Joined {
    pub user_id: i64,
    pub project_id: i64,
    pub role: Role,
}

/// One signed-in browser session of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    /// Random; kept in the session's data (never shown in full).
    pub id: String,
    pub user_id: i64,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub ended: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewSignIn {
    pub id: String,
    pub user_id: i64,
    pub now_ms: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A user's authenticator-app secret (TOTP, RFC 6238).
#[derive(Debug, Clone, PartialEq)]
pub struct TotpFactor {
    /// Base32, as the authenticator app shows it.
    pub secret: String,
    /// `None` until the user typed a first code from the app.
    pub confirmed: Option<DateTime<Utc>>,
    /// The last time step accepted (a code is accepted once).
    pub last_step: i64,
}

/// A user's registered passkey (WebAuthn credential).
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRecord {
    pub id: i64,
    pub user_id: i64,
    /// The authenticator's credential id, base64url.
    pub credential_id: String,
    /// The WebAuthn user id the credential holds (one UUID per account).
    pub user_handle: String,
    pub name: String,
    /// The relying party's record (public key, counter), JSON.
    pub passkey: String,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}
