//! The intake rules, as pure code without I/O: normalisation, validation and triage.
//!
//! - [`normalise`]: how submitted text is stored (NFC, trimmed, one-line subjects, a subject
//!   derived from the description when none is given).
//! - [`validate`]: what a submission must look like; every violation names the request path
//!   of its field (`complaint.customer.email`).
//! - [`classify`]: category, severity and the unhappy flag with their reasons, configurable
//!   per tenant through [`ClassifierConfig`]; [`taxonomy`], [`severity`] and [`sentiment`]
//!   hold the parts of that configuration and their defaults.
//! - [`settings`]: a tenant's classification settings over the defaults, checked field by field.
//! - [`survey`]: detractors, passives and promoters, and the cases low surveys and reviews open.
//! - [`similarity`]: how alike two complaint texts are, for repeat contacts.
//! - [`repeat`]: whether a complaint joins one of the customer's recent cases, and how a
//!   repeat contact raises severity.
//! - [`text`]: the folded form in which all of the above compare text.

pub mod classify;
pub mod normalise;
pub mod repeat;
pub mod sentiment;
pub mod settings;
pub mod severity;
pub mod similarity;
pub mod survey;
pub mod taxonomy;
pub mod text;
pub mod types;
pub mod validate;

pub use classify::{Classifier, ClassifierConfig, ComplaintInput, ConfigError, Triage};
pub use normalise::{
    normalise_complaint, normalise_description, normalise_review, normalise_subject, normalise_survey_response,
    subject_or_derived,
};
pub use repeat::{PriorCase, RepeatDecision, RepeatRules};
pub use similarity::{Fingerprint, NEAR_IDENTICAL_THRESHOLD, is_near_identical, similarity};
pub use survey::{ReviewInput, SurveyClass, SurveyDecision, SurveyInput, SurveyScale, SurveyThresholds};
pub use types::{Channel, CustomerTier, Severity};
pub use validate::{Violation, validate_complaint, validate_review, validate_survey_response};
