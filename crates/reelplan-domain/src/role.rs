//! Roles on a project and the permission policy: who may do what.

use serde::{Deserialize, Serialize};

/// A caller's role on a project, weakest first: the derived order is the hierarchy.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[schema(as = role)]
pub enum Role {
    /// Reads everything, may comment and chat.
    Viewer,
    /// Also edits phases, memos and files.
    Editor,
    /// Also edits the project and manages members.
    Manager,
    /// The creator: everything, including deleting the project. Never a `members` row.
    Owner,
}

impl Role {
    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    /// Parses a stored or requested role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "manager" => Some(Role::Manager),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    /// Whether a member may be given this role (the owner is never a member row).
    pub fn is_assignable(self) -> bool {
        self != Role::Owner
    }
}

/// Something a member may try to do on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the project, its members, feedback, memos and files.
    Read,
    /// Post a comment or a message.
    Discuss,
    /// Change phase dates, add or delete memos and files, upload the video.
    Edit,
    /// Change the project's fields and manage members.
    Manage,
    /// Delete the project.
    Delete,
}

impl Action {
    /// The weakest role allowed to perform this action.
    pub fn minimum_role(self) -> Role {
        match self {
            Action::Read | Action::Discuss => Role::Viewer,
            Action::Edit => Role::Editor,
            Action::Manage => Role::Manager,
            Action::Delete => Role::Owner,
        }
    }
}

impl Role {
    /// Whether this role may perform `action`.
    pub fn allows(self, action: Action) -> bool {
        self >= action.minimum_role()
    }

    /// Whether a caller with this role may give a member `new_role`, or change or remove a
    /// member whose role is `current` (None when adding). Only the owner touches managers.
    pub fn may_manage_member(self, current: Option<Role>, new_role: Option<Role>) -> bool {
        if !self.allows(Action::Manage) {
            return false;
        }
        let touches_manager = current == Some(Role::Manager) || new_role == Some(Role::Manager);
        !touches_manager || self == Role::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_orders_roles() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Manager);
        assert!(Role::Manager < Role::Owner);
    }

    #[test]
    fn actions_need_their_minimum_role() {
        assert!(Role::Viewer.allows(Action::Discuss));
        assert!(!Role::Viewer.allows(Action::Edit));
        assert!(Role::Editor.allows(Action::Edit));
        assert!(!Role::Editor.allows(Action::Manage));
        assert!(!Role::Manager.allows(Action::Delete));
        assert!(Role::Owner.allows(Action::Delete));
    }

    #[test]
    fn only_the_owner_grants_or_touches_managers() {
        assert!(Role::Manager.may_manage_member(None, Some(Role::Editor)));
        assert!(!Role::Manager.may_manage_member(None, Some(Role::Manager)));
        assert!(!Role::Manager.may_manage_member(Some(Role::Manager), Some(Role::Viewer)));
        assert!(!Role::Manager.may_manage_member(Some(Role::Manager), None));
        assert!(Role::Owner.may_manage_member(Some(Role::Manager), None));
        assert!(!Role::Editor.may_manage_member(Some(Role::Viewer), None));
    }

    #[test]
    fn names_round_trip() {
        for role in [Role::Viewer, Role::Editor, Role::Manager, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
