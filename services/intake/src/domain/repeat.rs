//! Repeat contacts: whether a complaint joins one of the customer's recent cases.
//!
//! The same customer with a near-identical complaint (similarity at or above the threshold)
//! within the window (24 hours by default) joins the most similar case that is still open,
//! and the repeat contact raises that case's severity. A near-identical complaint whose
//! case is already resolved or closed opens a new case linked to it.

use std::time::Duration;

use super::classify::{Classifier, Triage};
use super::similarity::{Fingerprint, NEAR_IDENTICAL_THRESHOLD};
use super::types::Severity;

/// When a complaint is a repeat contact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatRules {
    /// How long after a case opens a near-identical complaint joins it.
    pub window: Duration,
    /// The similarity, 0 to 1, at or above which two complaints are near-identical.
    pub threshold: f64,
}

impl Default for RepeatRules {
    fn default() -> Self {
        RepeatRules { window: Duration::from_secs(24 * 3600), threshold: NEAR_IDENTICAL_THRESHOLD }
    }
}

/// One of the customer's earlier cases, as the decision sees it.
#[derive(Debug, Clone)]
pub struct PriorCase {
    /// How long ago it was opened.
    pub age: Duration,
    /// Whether it is still open (not resolved or closed).
    pub open: bool,
    /// The fingerprint of its description.
    pub fingerprint: Fingerprint,
}

/// What a complaint comes to, given the customer's earlier cases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RepeatDecision {
    /// Join the open case at this index of the prior cases.
    Join {
        /// The case's index.
        index: usize,
        /// How alike the two complaints are.
        similarity: f64,
    },
    /// Open a new case, linked to the resolved or closed case at this index when it is the
    /// same complaint again.
    Open {
        /// The near-identical case that is no longer open, if any.
        linked: Option<usize>,
    },
}

impl RepeatRules {
    /// Decides whether `complaint` joins one of `prior`: the most similar open case within
    /// the window at or above the threshold, the most recent among equals.
    pub fn decide(&self, complaint: &Fingerprint, prior: &[PriorCase]) -> RepeatDecision {
        let mut best_open: Option<(usize, f64, Duration)> = None;
        let mut best_closed: Option<(usize, f64, Duration)> = None;
        for (index, case) in prior.iter().enumerate() {
            if case.age > self.window {
                continue;
            }
            let similarity = complaint.similarity(&case.fingerprint);
            if similarity < self.threshold {
                continue;
            }
            let slot = if case.open { &mut best_open } else { &mut best_closed };
            let better = match slot {
                None => true,
                Some((_, s, age)) => similarity > *s || (similarity == *s && case.age < *age),
            };
            if better {
                *slot = Some((index, similarity, case.age));
            }
        }
        match best_open {
            Some((index, similarity, _)) => RepeatDecision::Join { index, similarity },
            None => RepeatDecision::Open { linked: best_closed.map(|(index, _, _)| index) },
        }
    }
}

impl Classifier {
    /// The severity of a case a repeat contact joins: one level above its current severity
    /// (up to the rules' ceiling, critical staying critical), and never below the repeat
    /// contact's own triage.
    pub fn repeat_contact_severity(&self, current: Severity, repeat: &Triage) -> Severity {
        current.raised(self.rules.ceiling).max(repeat.severity)
    }

    /// How many earlier cases make a repeat complainant.
    pub fn repeat_threshold(&self) -> u32 {
        self.rules.repeat_threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClassifierConfig, ComplaintInput, types::Channel};

    const HOUR: Duration = Duration::from_secs(3600);

    fn prior(hours: u64, open: bool, text: &str) -> PriorCase {
        PriorCase { age: HOUR * hours as u32, open, fingerprint: Fingerprint::new(text) }
    }

    #[test]
    fn near_identical_complaints_join_the_open_case_within_the_window() {
        let rules = RepeatRules::default();
        let text = "My parcel never arrived and the tracking says delivered. I want a refund.";
        let again = Fingerprint::new("My parcel never arrived, the tracking says delivered! I want a refund please.");
        let cases = [
            prior(30, true, text),
            prior(2, true, "The kettle leaks from the bottom."),
            prior(5, true, text),
            prior(1, false, text),
        ];
        match rules.decide(&again, &cases) {
            RepeatDecision::Join { index, similarity } => {
                assert_eq!(index, 2, "the open case within 24 hours");
                assert!(similarity >= 0.8, "{similarity}");
            }
            other => panic!("expected a join, got {other:?}"),
        }
        // Only a resolved copy within the window: a new case linked to it.
        assert_eq!(rules.decide(&again, &cases[..2]), RepeatDecision::Open { linked: None });
        assert_eq!(rules.decide(&again, &[cases[3].clone()]), RepeatDecision::Open { linked: Some(0) });
        // Identical twice: the more recent wins.
        let twins = [prior(3, true, text), prior(1, true, text)];
        assert!(matches!(rules.decide(&Fingerprint::new(text), &twins), RepeatDecision::Join { index: 1, .. }));
        // A narrower window or a stricter threshold changes the answer.
        let narrow = RepeatRules { window: HOUR * 4, ..rules };
        assert_eq!(narrow.decide(&again, &cases[..3]), RepeatDecision::Open { linked: None });
        let strict = RepeatRules { threshold: 1.0, ..rules };
        assert_eq!(strict.decide(&again, &cases[..3]), RepeatDecision::Open { linked: None });
    }

    #[test]
    fn a_repeat_contact_raises_severity_up_to_the_ceiling() {
        let classifier = Classifier::new(ClassifierConfig::default()).expect("defaults compile");
        let triage = classifier.classify(&ComplaintInput {
            repeat_contact: true,
            ..ComplaintInput::new(Channel::Email, "", "Where is my parcel?")
        });
        assert_eq!(triage.severity, Severity::High);
        assert!(triage.reasons.iter().any(|r| r.contains("repeat contact")), "{:?}", triage.reasons);
        assert_eq!(classifier.repeat_contact_severity(Severity::Low, &triage), Severity::High);
        assert_eq!(classifier.repeat_contact_severity(Severity::Medium, &triage), Severity::High);
        assert_eq!(classifier.repeat_contact_severity(Severity::High, &triage), Severity::High);
        assert_eq!(classifier.repeat_contact_severity(Severity::Critical, &triage), Severity::Critical);
        assert_eq!(classifier.repeat_threshold(), 2);
    }
}
