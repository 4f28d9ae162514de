use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AddedMember, MemberChanged, MembersView};

#[server(prefix = "/sfn", endpoint = "list_members", output = crate::codec::Json)]
pub async fn list_members(project: String) -> Result<MembersView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let members = services.team.members(&actor).await?;
    Ok(MembersView {
        members: members.into_iter().map(Into::into).collect(),
        role: actor.role,
        me: actor.user_id().unwrap_or_default(),
    })
}

/// Adds a member; a new user gets a one-time invitation link, shown once.
#[server(prefix = "/sfn", endpoint = "add_member", output = crate::codec::Json)]
pub async fn add_member(project: String, email: String, role: String) -> Result<AddedMember, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let added = services.team.add(&actor, &email, &role).await?;
    let added = AddedMember {
        email: added.email,
        role: added.role,
        invite_path: added.invitation.as_ref().map(|t| format!("/invite/{t}")),
        invite_url: None,
    };
    let base = crate::ssr::base_url().await;
    let added = AddedMember { invite_url: added.invite_path.as_ref().map(|p| format!("{base}{p}")), ..added };
    if let Ok(json) = serde_json::to_string(&added) {
        crate::ssr::flash_for_plain_form("invite", &json).await;
    }
    Ok(added)
}

/// A new one-time link for a member who has not set a password yet.
#[server(prefix = "/sfn", endpoint = "reinvite_member", output = crate::codec::Json)]
pub async fn reinvite_member(project: String, user_id: i64) -> Result<AddedMember, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let added = services.team.reinvite(&actor, user_id).await?;
    let added = AddedMember {
        email: added.email,
        role: added.role,
        invite_path: added.invitation.as_ref().map(|t| format!("/invite/{t}")),
        invite_url: None,
    };
    let base = crate::ssr::base_url().await;
    let added = AddedMember { invite_url: added.invite_path.as_ref().map(|p| format!("{base}{p}")), ..added };
    if let Ok(json) = serde_json::to_string(&added) {
        crate::ssr::flash_for_plain_form("invite", &json).await;
    }
    Ok(added)
}

#[server(prefix = "/sfn", endpoint = "change_member_role", output = crate::codec::Json)]
pub async fn change_member_role(project: String, user_id: i64, role: String) -> Result<MemberChanged, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let (email, role) = services.team.set_role(&actor, user_id, &role).await?;
    let changed = MemberChanged { email, role: Some(role) };
    if let Ok(json) = serde_json::to_string(&changed) {
        crate::ssr::flash_for_plain_form("member_changed", &json).await;
    }
    Ok(changed)
}

#[server(prefix = "/sfn", endpoint = "remove_member", output = crate::codec::Json)]
pub async fn remove_member(project: String, user_id: i64) -> Result<MemberChanged, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let email = services.team.remove(&actor, user_id).await?;
    let removed = MemberChanged { email, role: None };
    if let Ok(json) = serde_json::to_string(&removed) {
        crate::ssr::flash_for_plain_form("member_changed", &json).await;
    }
    Ok(removed)
}
