//! What the tuner says to the user: the notice line, and the status pane's calls.
//!
//! Its fields are private: a notice is said, hushed or taken back, a call's line is added
//! or answered, through the methods below, never written by hand.

use std::collections::VecDeque;
use std::time::Duration;

use super::{STATUS_HISTORY, StatusEntry, StatusOutcome};

#[derive(Debug, Clone, Default)]
pub struct Feedback {
    /// A one-line message for the footer.
    notice: Option<String>,
    /// The last notice about the preview's results, taken back when they are read whole.
    preview_notice: Option<String>,
    /// The calls, newest first, at most `STATUS_HISTORY`.
    status: VecDeque<StatusEntry>,
    /// Writing the history failed once (said once, not at every call).
    history_write_failed: bool,
}

impl Feedback {
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn status(&self) -> &VecDeque<StatusEntry> {
        &self.status
    }

    /// Shows `text` until something else is said or it is hushed.
    pub(super) fn say(&mut self, text: String) {
        self.notice = Some(text);
    }

    pub(super) fn hush(&mut self) {
        self.notice = None;
    }

    /// A notice about the preview's results, taken back once they are read whole.
    pub(super) fn say_about_preview(&mut self, text: &str) {
        self.notice = Some(text.to_string());
        self.preview_notice = Some(text.to_string());
    }

    /// Takes back the last notice about the results, unless another replaced it.
    pub(super) fn take_back_preview_notice(&mut self) {
        if let Some(said) = self.preview_notice.take()
            && self.notice.as_ref() == Some(&said)
        {
            self.notice = None;
        }
    }

    /// Writing the history failed: said once, the tuning goes on.
    pub(super) fn history_not_kept(&mut self, why: &str) {
        if !std::mem::replace(&mut self.history_write_failed, true) {
            self.notice = Some(format!("the history is not kept: {why}"));
        }
    }

    /// A call's line, newest first.
    pub(super) fn push_status(&mut self, entry: StatusEntry) {
        self.status.push_front(entry);
        self.status.truncate(STATUS_HISTORY);
    }

    /// A retry takes the place of the attempt before it: one line per burst.
    pub(super) fn drop_failed_attempt(&mut self) {
        if self
            .status
            .front()
            .is_some_and(|e| matches!(e.outcome, StatusOutcome::Failed(_)))
        {
            self.status.pop_front();
        }
    }

    /// Call `request_id` answered after `latency`.
    pub(super) fn answered(&mut self, request_id: u64, latency: Duration, outcome: StatusOutcome) {
        if let Some(entry) = self.status.iter_mut().find(|e| e.request_id == request_id) {
            entry.latency = Some(latency);
            entry.outcome = outcome;
        }
    }
}
