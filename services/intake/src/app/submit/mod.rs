//! Handling a validated, normalised submission: classify it, decide what it comes to, and
//! carry that out in the case service, exactly once per request_id.
//!
//! - [`complaint`]: open a case, or join the customer's open case as a repeat contact.
//! - [`survey`]: detractors open or reopen unhappy cases; every answer is kept.
//! - [`review`]: low ratings open public, unhappy cases with a "reply publicly" task.

mod complaint;
mod review;
mod survey;

use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::TenantId;
use redress_kit::time::{from_timestamp, timestamp};
use redress_proto::case::v1::Case;
use redress_proto::common::v1::TimeRange;

use super::Intake;
use crate::error::Error;
use crate::store::{Plan, Submission, request_hash};

/// What is known of a request_id before handling it.
enum Seen<R> {
    /// Never seen: decide afresh.
    New,
    /// Being carried out (or interrupted): carry out this plan.
    Pending(Plan),
    /// Answered: give the same answer.
    Done(R),
}

/// The case service's request_id for `step` of the submission `request_id`: deterministic,
/// so a retry repeats no change, and at most 128 characters like every request_id.
pub(crate) fn derived_request_id(request_id: &str, step: &str) -> String {
    if request_id.len() <= 96 {
        format!("intake:{request_id}{step}")
    } else {
        let digest: String = request_hash(request_id.as_bytes()).iter().take(20).map(|b| format!("{b:02x}")).collect();
        format!("intake:h:{digest}{step}")
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut with "…".
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl Intake {
    fn check_seen<R: Message + Default>(
        existing: Submission,
        request_id: &str,
        method: &str,
        hash: &[u8],
    ) -> Result<Seen<R>, Error> {
        if existing.method != method || existing.request_hash != hash {
            return Err(Error::RequestIdReused { request_id: request_id.to_string(), method: existing.method });
        }
        match existing.response {
            Some(bytes) => R::decode(bytes.as_slice()).map(Seen::Done).map_err(|e| Error::Corrupt(e.to_string())),
            None => Ok(Seen::Pending(existing.plan)),
        }
    }

    /// Records `plan` for `request_id`; when another call recorded one first, what it recorded.
    async fn begin<R: Message + Default>(
        &self,
        tenant: &TenantId,
        request_id: &str,
        method: &str,
        hash: &[u8],
        plan: &Plan,
    ) -> Result<Seen<R>, Error> {
        match self.store.begin(tenant, request_id, method, hash, plan).await? {
            None => Ok(Seen::New),
            Some(existing) => Self::check_seen(existing, request_id, method, hash),
        }
    }

    /// Records the answer to `request_id`.
    async fn finish<R: Message>(&self, tenant: &TenantId, request_id: &str, response: &R) -> Result<(), Error> {
        self.store.finish(tenant, request_id, response.encode_to_vec(), None).await
    }

    /// The customer's cases within the tenant's repeat-complainant `window`, newest first;
    /// none when the customer has no id.
    async fn recent_cases(&self, tenant: &TenantId, customer_id: &str, window: Duration) -> Result<Vec<Case>, Error> {
        if customer_id.is_empty() {
            return Ok(Vec::new());
        }
        let window = chrono::Duration::from_std(window).unwrap_or_else(|_| chrono::Duration::days(30));
        let range = TimeRange { start_time: Some(timestamp(Utc::now() - window)), end_time: None };
        self.peer.customer_cases(tenant, customer_id, range).await
    }
}

/// How long ago `case` was opened.
pub(crate) fn age(case: &Case, now: DateTime<Utc>) -> Duration {
    let created = case.create_time.as_ref().and_then(from_timestamp).unwrap_or(now);
    (now - created).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_request_ids_are_deterministic_and_bounded() {
        assert_eq!(derived_request_id("abc", ""), "intake:abc");
        assert_eq!(derived_request_id("abc", ":repeat"), "intake:abc:repeat");
        let long = "x".repeat(128);
        let derived = derived_request_id(&long, ":reply-task");
        assert!(derived.len() <= 128, "{}", derived.len());
        assert_eq!(derived, derived_request_id(&long, ":reply-task"));
        assert_ne!(derived_request_id(&long, ""), derived_request_id(&"y".repeat(128), ""));
    }

    #[test]
    fn cuts_keep_characters_whole() {
        assert_eq!(cut("abc", 10), "abc");
        let cut_text = cut(&"é".repeat(10), 8);
        assert!(cut_text.len() <= 8, "{cut_text}");
        assert!(cut_text.ends_with('…'));
    }
}
