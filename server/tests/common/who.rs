//! The callers of the role matrices: instance roles, project roles and an
//! outsider, each a fresh signed-in user.

use imgflush::backend::store::Project;
use imgflush::domain::{InstanceRole, Role};

use super::TestApp;

/// Who calls, in the role matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    Owner,
    Staff,
    Admin,
    Editor,
    Support,
    Outsider,
}

pub const EVERYONE: [Who; 6] = [Who::Owner, Who::Staff, Who::Admin, Who::Editor, Who::Support, Who::Outsider];

/// Signs in a fresh user who is `who` for the demo project (owners, staff
/// and the outsider are members of `other` only) and returns their cookie.
pub async fn caller(t: &TestApp, who: Who, other: &Project) -> String {
    let email = format!("{who:?}-{}@example.com", uuid::Uuid::new_v4().simple()).to_lowercase();
    let (role, project, instance) = match who {
        Who::Owner => (Role::Support, other, Some(InstanceRole::Owner)),
        Who::Staff => (Role::Support, other, Some(InstanceRole::Staff)),
        Who::Admin => (Role::Admin, &t.demo, None),
        Who::Editor => (Role::Editor, &t.demo, None),
        Who::Support => (Role::Support, &t.demo, None),
        Who::Outsider => (Role::Admin, other, None),
    };
    let id = t.user(&email, role, project).await;
    t.store.set_instance_role(id, instance).await.unwrap();
    t.login(&email).await
}
