//! The details page's summary for a support ticket.

use imgflush::domain::Scope;

use crate::model::{DetailView, Timestamp};

impl DetailView {
    /// A plain-text summary to paste into a support ticket: what, when
    /// (`time` writes each moment: the reader's time zone in the browser),
    /// the outcome, every target with its result, and the next step that
    /// fits the reader's role.
    pub fn support_text(&self, time: &dyn Fn(Timestamp) -> String) -> String {
        let r = &self.row;
        let mut out = format!(
            "Invalidation {}\nProject: {}\nStatus: {}\nScope: {}\nSubmitted: {} by {}\nAttempt: {}\n",
            r.id,
            self.token,
            r.status.code(),
            r.scope.as_str(),
            time(r.created),
            r.submitted_by,
            r.attempt
        );
        if let Some(f) = self.finished {
            out += &format!("Finished: {}\n", time(f));
        }
        if !r.paths.is_empty() {
            let what = if r.scope == Scope::Tag { "Tags" } else { "Paths" };
            out += &format!("{what}: {}\n", r.paths.join(", "));
        }
        if let Some(e) = &self.error {
            out += &format!("Error: {e}\n");
        }
        for t in &self.targets {
            let calls = if t.attempts == 1 { "1 call".to_owned() } else { format!("{} calls", t.attempts) };
            let result =
                t.detail.as_deref().unwrap_or(if t.state == "error" { "failed" } else { "no answer recorded" });
            let label = if t.state == "error" { "Failed target" } else { "Target" };
            out += &format!(
                "{label}: {} ({}), {}, {calls}, last at {}: {result}\n",
                t.name,
                t.kind.label(),
                t.state,
                time(t.updated)
            );
            if let Some(step) = &t.next_step {
                out += &format!("  Next step: {}\n", self.fit_to_reader(step));
            }
        }
        out += &format!("Details: {}\n", self.permalink());
        out
    }

    /// A next step as the reader can take it: someone who cannot Retry is
    /// told who can.
    fn fit_to_reader(&self, step: &str) -> String {
        if self.role.can_retry() {
            return step.to_owned();
        }
        let who = match self.admins.as_slice() {
            [] => "the project's admins".to_owned(),
            admins => format!("the project's admins ({})", admins.join(", ")),
        };
        format!("{step} (Retry and settings are for {who}: ask them.)")
    }
}
