//! Which events a stream shows: those of the projects its user takes part in, following the
//! user's own membership changes as they arrive (API.md: a removed member's last event of a
//! project is their `member.removed`; an added member's first is `member.added`).

use std::collections::HashSet;

use reelplan_domain::{EventType, ProjectId, UserId};
use reelplan_store::Event;

/// A stream's user and the projects it follows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Whose stream it is.
    pub user: UserId,
    /// The projects whose events it shows.
    pub projects: HashSet<ProjectId>,
}

/// What an event does to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not the stream's business.
    Skip,
    /// Shown; the stream's projects are unchanged.
    Show,
    /// Shown, and the stream follows the project from now on.
    ShowAndFollow,
    /// Shown as the project's last event on this stream.
    ShowAndLeave,
}

impl Membership {
    /// Decides what `event` does to this stream and applies it to the followed projects.
    pub fn admit(&mut self, event: &Event) -> Verdict {
        let verdict = self.judge(event);
        match verdict {
            Verdict::ShowAndFollow => {
                self.projects.insert(event.project_id);
            }
            Verdict::ShowAndLeave => {
                self.projects.remove(&event.project_id);
            }
            Verdict::Skip | Verdict::Show => {}
        }
        verdict
    }

    fn judge(&self, event: &Event) -> Verdict {
        let mine = event.subject_id == Some(self.user);
        let follows = self.projects.contains(&event.project_id);
        match event.kind {
            EventType::MemberAdded | EventType::ProjectUpdated if mine => Verdict::ShowAndFollow,
            EventType::MemberRemoved if mine => Verdict::ShowAndLeave,
            EventType::ProjectDeleted if follows => Verdict::ShowAndLeave,
            _ if follows => Verdict::Show,
            _ => Verdict::Skip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventType, project: i64, subject: Option<i64>) -> Event {
        Event {
            id: 1,
            kind,
            project_id: ProjectId(project),
            object_id: 9,
            actor_id: UserId(100),
            created: chrono::Utc::now(),
            subject_id: subject.map(UserId),
        }
    }

    fn ann_in(projects: &[i64]) -> Membership {
        Membership { user: UserId(1), projects: projects.iter().copied().map(ProjectId).collect() }
    }

    #[test]
    fn a_followed_project_shows_and_another_does_not() {
        let mut ann = ann_in(&[10]);
        assert_eq!(ann.admit(&event(EventType::CommentCreated, 10, None)), Verdict::Show);
        assert_eq!(ann.admit(&event(EventType::CommentCreated, 11, None)), Verdict::Skip);
    }

    #[test]
    fn being_added_follows_the_project_and_being_removed_leaves_it_after_the_event() {
        let mut ann = ann_in(&[]);
        assert_eq!(ann.admit(&event(EventType::MemberAdded, 11, Some(1))), Verdict::ShowAndFollow);
        assert_eq!(ann.admit(&event(EventType::PhaseUpdated, 11, None)), Verdict::Show);
        assert_eq!(ann.admit(&event(EventType::MemberRemoved, 11, Some(1))), Verdict::ShowAndLeave);
        assert_eq!(ann.admit(&event(EventType::PhaseUpdated, 11, None)), Verdict::Skip);
    }

    #[test]
    fn someone_elses_membership_is_shown_only_on_a_followed_project() {
        let mut ann = ann_in(&[10]);
        assert_eq!(ann.admit(&event(EventType::MemberAdded, 10, Some(2))), Verdict::Show);
        assert_eq!(ann.admit(&event(EventType::MemberAdded, 12, Some(2))), Verdict::Skip);
        assert_eq!(ann.admit(&event(EventType::MemberRemoved, 12, Some(2))), Verdict::Skip);
    }

    #[test]
    fn creating_a_project_follows_it_and_its_deletion_is_the_last_event() {
        let mut ann = ann_in(&[]);
        let created = event(EventType::ProjectUpdated, 13, Some(1));
        assert_eq!(ann.admit(&created), Verdict::ShowAndFollow);
        assert_eq!(ann.admit(&event(EventType::ProjectDeleted, 13, None)), Verdict::ShowAndLeave);
        assert!(ann.projects.is_empty());
    }
}
