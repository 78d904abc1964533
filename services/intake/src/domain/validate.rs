//! Validation: what a submission must look like, with every problem named by the request
//! path a gRPC client sees (`complaint.customer.email`, `complaint.attachments[3].uri`,
//! `survey_response.score`, `review.rating`).
//!
//! The `check_*` functions look at one plain value and say what is wrong with it; the
//! `validate_*` functions take a whole generated message, run every check and collect every
//! violation rather than stopping at the first. Lengths are those of the stored value, so
//! validation runs on a normalised submission (see [`super::normalise`]).

use std::fmt;

use redress_kit::validate::{is_e164, is_email};
use redress_proto::common::v1::{CaseReferences, Customer};
use redress_proto::intake::v1::{Complaint, Review, SurveyResponse};

use super::survey::SurveyScale;
use super::types::{Channel, CustomerTier};

/// The longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 300;
/// The longest description, comment or review text, in bytes (64 KiB).
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// The most attachments on one complaint.
pub const MAX_ATTACHMENTS: usize = 20;
/// The longest email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest desired outcome, in characters.
pub const MAX_DESIRED_OUTCOME_CHARS: usize = 4_000;
/// The longest handle, filename or external reference, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 256;
/// The longest customer id or reference (order, product, location), in characters: what
/// the case service keeps.
pub const MAX_ID_CHARS: usize = 128;
/// The longest customer display name, in characters: what the case service keeps.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest attachment or review URI, in characters.
pub const MAX_URI_CHARS: usize = 2_048;
/// The most tags on one complaint.
pub const MAX_TAGS: usize = 50;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// The longest review platform name, in characters.
pub const MAX_PLATFORM_CHARS: usize = 64;
/// The longest BCP 47 locale tag, in characters.
pub const MAX_LOCALE_CHARS: usize = 35;
/// Attachments past this many are counted but not checked one by one, so that a hostile
/// request cannot make the list of violations unbounded.
pub const MAX_ATTACHMENTS_CHECKED: usize = 100;

/// One field that does not fit, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The request path of the field, for example `complaint.attachments[3].uri`.
    pub field: String,
    /// What is wrong, in words a client developer can act on.
    pub description: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// What a check says about a value: `Err` carries the description of the problem.
pub type Check = Result<(), String>;

/// Collects violations while a message is validated.
#[derive(Debug, Default)]
struct Collector(Vec<Violation>);

impl Collector {
    fn check(&mut self, field: impl FnOnce() -> String, result: Check) {
        if let Err(description) = result {
            self.0.push(Violation { field: field(), description });
        }
    }

    fn add(&mut self, field: String, description: impl Into<String>) {
        self.0.push(Violation { field, description: description.into() });
    }

    fn finish(self) -> Result<(), Vec<Violation>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

fn at(prefix: &str, field: &str) -> impl FnOnce() -> String {
    move || format!("{prefix}.{field}")
}

/// A pragmatic email syntax check: `local@domain` with a dot in the domain, no spaces, at
/// most 254 characters.
pub fn check_email(value: &str) -> Check {
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("at most {MAX_EMAIL_CHARS} characters"));
    }
    if is_email(value) { Ok(()) } else { Err("not an email address: expected name@example.com, without spaces".into()) }
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
pub fn check_phone(value: &str) -> Check {
    if is_e164(value) {
        Ok(())
    } else {
        Err("must be in E.164 form: + and 8 to 15 digits, the first not 0, for example +447700900123".into())
    }
}

/// A subject: at most 300 characters once whitespace is collapsed, as it is stored.
pub fn check_subject(value: &str) -> Check {
    let chars = collapsed_chars(value);
    if chars > MAX_SUBJECT_CHARS { Err(format!("at most {MAX_SUBJECT_CHARS} characters, got {chars}")) } else { Ok(()) }
}

/// A description: required (not blank) and at most 64 KiB in UTF-8.
pub fn check_description(value: &str) -> Check {
    if value.trim().is_empty() {
        return Err("required: the complaint in the customer's own words".into());
    }
    check_text_bytes(value, MAX_DESCRIPTION_BYTES)
}

/// Free text of at most `max` bytes in UTF-8.
pub fn check_text_bytes(value: &str, max: usize) -> Check {
    if value.len() > max {
        Err(format!("at most {max} bytes ({} KiB), got {} bytes", max / 1024, value.len()))
    } else {
        Ok(())
    }
}

/// Text of at most `max` characters.
pub fn check_chars(value: &str, max: usize) -> Check {
    // Counting stops early: a hostile value is not walked to its end twice.
    if value.chars().nth(max).is_some() { Err(format!("at most {max} characters")) } else { Ok(()) }
}

/// Text without control characters other than tab, carriage return and line feed.
pub fn check_no_control_chars(value: &str) -> Check {
    match value.chars().enumerate().find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\r' | '\n')) {
        None => Ok(()),
        Some((index, c)) => Err(format!(
            "must not contain control characters (only tab, CR and LF are allowed); found U+{:04X} at character {index}",
            u32::from(c)
        )),
    }
}

/// The number of attachments on one complaint: at most 20.
pub fn check_attachment_count(count: usize) -> Check {
    if count > MAX_ATTACHMENTS { Err(format!("at most {MAX_ATTACHMENTS} attachments, got {count}")) } else { Ok(()) }
}

/// A URI with a scheme (`https://…`, `s3://…`), without spaces, at most 2,048 characters.
pub fn check_uri(value: &str) -> Check {
    if value.is_empty() {
        return Err("required: where the file is, for example https://files.example.com/a.jpg".into());
    }
    check_chars(value, MAX_URI_CHARS)?;
    let well_formed = value.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
    }) && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(())
    } else {
        Err("must be a URI with a scheme and no spaces, for example https://files.example.com/a.jpg".into())
    }
}

/// A media type such as `image/jpeg`, optionally with parameters (`text/plain; charset=utf-8`).
pub fn check_media_type(value: &str) -> Check {
    if value.is_empty() {
        return Err("required: a media type such as image/jpeg".into());
    }
    let essence = value.split(';').next().unwrap_or_default().trim();
    let name = |part: &str| {
        (1..=127).contains(&part.len())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
            && part.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
    };
    let well_formed = essence.split_once('/').is_some_and(|(kind, sub)| name(kind) && name(sub))
        && !value.chars().any(char::is_control)
        && value.len() <= 255;
    if well_formed { Ok(()) } else { Err("must be a media type of the form type/subtype, such as image/jpeg".into()) }
}

/// An attachment size in bytes: not negative.
pub fn check_size_bytes(size: i64) -> Check {
    if size < 0 { Err(format!("must not be negative, got {size}")) } else { Ok(()) }
}

/// The channel of a complaint: one of phone, email, web, chat, social or in person.
pub fn check_complaint_channel(value: i32) -> Result<Channel, String> {
    match Channel::from_proto(value) {
        Some(Channel::ReviewSite) => Err("review-site complaints are submitted with SubmitReview".into()),
        Some(Channel::Survey) => Err("survey responses are submitted with SubmitSurveyResponse".into()),
        Some(channel) => Ok(channel),
        None if value == 0 => Err(format!("required: one of {}", COMPLAINT_CHANNEL_NAMES.join(", "))),
        None => Err(format!("unknown value {value}")),
    }
}

const COMPLAINT_CHANNEL_NAMES: [&str; 6] =
    ["CHANNEL_PHONE", "CHANNEL_EMAIL", "CHANNEL_WEB", "CHANNEL_CHAT", "CHANNEL_SOCIAL", "CHANNEL_IN_PERSON"];

/// A customer tier: unspecified (standard) or a known tier.
pub fn check_customer_tier(value: i32) -> Result<CustomerTier, String> {
    CustomerTier::from_proto(value).ok_or_else(|| format!("unknown value {value}"))
}

/// A survey scale: CSAT or NPS.
pub fn check_survey_scale(value: i32) -> Result<SurveyScale, String> {
    match SurveyScale::from_proto(value) {
        Some(scale) => Ok(scale),
        None if value == 0 => Err("required: SURVEY_SCALE_CSAT or SURVEY_SCALE_NPS".into()),
        None => Err(format!("unknown value {value}")),
    }
}

/// A CSAT score: 1 to 5.
pub fn check_csat(score: i32) -> Check {
    check_range("CSAT score", score, 1, 5)
}

/// An NPS score: 0 to 10.
pub fn check_nps(score: i32) -> Check {
    check_range("NPS score", score, 0, 10)
}

/// A score on its scale.
pub fn check_survey_score(scale: SurveyScale, score: i32) -> Check {
    match scale {
        SurveyScale::Csat => check_csat(score),
        SurveyScale::Nps => check_nps(score),
    }
}

/// A review rating: 1 to 5.
pub fn check_rating(rating: i32) -> Check {
    if rating == 0 {
        return Err("required: a rating from 1 to 5".into());
    }
    check_range("rating", rating, 1, 5)
}

fn check_range(what: &str, value: i32, min: i32, max: i32) -> Check {
    if (min..=max).contains(&value) { Ok(()) } else { Err(format!("{what} must be {min} to {max}, got {value}")) }
}

/// A BCP 47 language tag such as `fr-CA`: letters, digits and hyphens, at most 35 characters.
pub fn check_locale(value: &str) -> Check {
    let well_formed = value.len() <= MAX_LOCALE_CHARS
        && value
            .split('-')
            .all(|part| (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric()))
        && value.split('-').next().is_some_and(|lang| lang.bytes().all(|b| b.is_ascii_alphabetic()));
    if well_formed { Ok(()) } else { Err("must be a BCP 47 language tag such as fr-CA".into()) }
}

/// The number of characters of `value` once trimmed and with whitespace runs collapsed.
fn collapsed_chars(value: &str) -> usize {
    value.split_whitespace().map(|word| word.chars().count() + 1).sum::<usize>().saturating_sub(1)
}

/// Checks a short text field: length in characters and no control characters.
fn short_text(v: &mut Collector, prefix: &str, field: &str, value: &str, max: usize) {
    v.check(at(prefix, field), check_chars(value, max));
    v.check(at(prefix, field), check_no_control_chars(value));
}

/// Checks a long text field: length in bytes and no control characters.
fn long_text(v: &mut Collector, prefix: &str, field: &str, value: &str) {
    v.check(at(prefix, field), check_text_bytes(value, MAX_DESCRIPTION_BYTES));
    v.check(at(prefix, field), check_no_control_chars(value));
}

fn validate_customer(v: &mut Collector, prefix: &str, customer: &Customer, require_identity: bool) {
    let blank = |s: &str| s.trim().is_empty();
    if require_identity && blank(&customer.customer_id) && blank(&customer.email) && blank(&customer.phone) {
        v.add(prefix.to_owned(), "at least one of customer_id, email or phone is required");
    }
    short_text(v, prefix, "customer_id", &customer.customer_id, MAX_ID_CHARS);
    short_text(v, prefix, "display_name", &customer.display_name, MAX_NAME_CHARS);
    if !customer.email.is_empty() {
        v.check(at(prefix, "email"), check_email(&customer.email));
    }
    if !customer.phone.is_empty() {
        v.check(at(prefix, "phone"), check_phone(&customer.phone));
    }
    v.check(at(prefix, "tier"), check_customer_tier(customer.tier).map(drop));
    if !customer.locale.is_empty() {
        v.check(at(prefix, "locale"), check_locale(&customer.locale));
    }
}

fn validate_references(v: &mut Collector, prefix: &str, references: &CaseReferences) {
    short_text(v, prefix, "order_id", &references.order_id, MAX_ID_CHARS);
    short_text(v, prefix, "product_id", &references.product_id, MAX_ID_CHARS);
    short_text(v, prefix, "location_id", &references.location_id, MAX_ID_CHARS);
}

/// Validates a complaint, naming fields `complaint.…`. Every violation is returned.
pub fn validate_complaint(complaint: &Complaint) -> Result<(), Vec<Violation>> {
    const P: &str = "complaint";
    let mut v = Collector::default();
    match &complaint.customer {
        None => v.add(format!("{P}.customer"), "required: at least one of customer_id, email or phone"),
        Some(customer) => validate_customer(&mut v, "complaint.customer", customer, true),
    }
    v.check(at(P, "channel"), check_complaint_channel(complaint.channel).map(drop));
    v.check(at(P, "subject"), check_subject(&complaint.subject));
    v.check(at(P, "subject"), check_no_control_chars(&complaint.subject));
    v.check(at(P, "description"), check_description(&complaint.description));
    v.check(at(P, "description"), check_no_control_chars(&complaint.description));
    short_text(&mut v, P, "desired_outcome", &complaint.desired_outcome, MAX_DESIRED_OUTCOME_CHARS);
    if let Some(references) = &complaint.references {
        validate_references(&mut v, "complaint.references", references);
    }
    v.check(at(P, "attachments"), check_attachment_count(complaint.attachments.len()));
    for (i, attachment) in complaint.attachments.iter().enumerate().take(MAX_ATTACHMENTS_CHECKED) {
        let field = |name: &'static str| move || format!("{P}.attachments[{i}].{name}");
        v.check(field("uri"), check_uri(&attachment.uri));
        v.check(field("media_type"), check_media_type(&attachment.media_type));
        v.check(field("size_bytes"), check_size_bytes(attachment.size_bytes));
        v.check(field("filename"), check_chars(&attachment.filename, MAX_SHORT_TEXT_CHARS));
        v.check(field("filename"), check_no_control_chars(&attachment.filename));
    }
    short_text(&mut v, P, "external_reference", &complaint.external_reference, MAX_SHORT_TEXT_CHARS);
    if complaint.tags.len() > MAX_TAGS {
        v.add(format!("{P}.tags"), format!("at most {MAX_TAGS} tags, got {}", complaint.tags.len()));
    }
    for (i, tag) in complaint.tags.iter().enumerate().take(MAX_TAGS + 1) {
        v.check(|| format!("{P}.tags[{i}]"), check_chars(tag, MAX_TAG_CHARS));
        v.check(|| format!("{P}.tags[{i}]"), check_no_control_chars(tag));
    }
    v.finish()
}

/// Validates a survey answer, naming fields `survey_response.…`. The `case` name is checked
/// against the caller's tenant by the gRPC layer.
pub fn validate_survey_response(response: &SurveyResponse) -> Result<(), Vec<Violation>> {
    const P: &str = "survey_response";
    let mut v = Collector::default();
    if let Some(customer) = &response.customer {
        validate_customer(&mut v, "survey_response.customer", customer, false);
    }
    match check_survey_scale(response.scale) {
        Ok(scale) => v.check(at(P, "score"), check_survey_score(scale, response.score)),
        Err(problem) => v.add(format!("{P}.scale"), problem),
    }
    long_text(&mut v, P, "comment", &response.comment);
    short_text(&mut v, P, "external_reference", &response.external_reference, MAX_SHORT_TEXT_CHARS);
    v.finish()
}

/// Validates a third-party review, naming fields `review.…`.
pub fn validate_review(review: &Review) -> Result<(), Vec<Violation>> {
    const P: &str = "review";
    let mut v = Collector::default();
    if review.platform.trim().is_empty() {
        v.add(format!("{P}.platform"), "required: the review site, for example trustpilot");
    }
    short_text(&mut v, P, "platform", &review.platform, MAX_PLATFORM_CHARS);
    if !review.url.is_empty() {
        v.check(at(P, "url"), check_uri(&review.url));
    }
    v.check(at(P, "rating"), check_rating(review.rating));
    v.check(at(P, "title"), check_subject(&review.title));
    v.check(at(P, "title"), check_no_control_chars(&review.title));
    long_text(&mut v, P, "text", &review.text);
    short_text(&mut v, P, "author_handle", &review.author_handle, MAX_SHORT_TEXT_CHARS);
    if let Some(customer) = &review.customer {
        validate_customer(&mut v, "review.customer", customer, false);
    }
    if let Some(references) = &review.references {
        validate_references(&mut v, "review.references", references);
    }
    short_text(&mut v, P, "external_reference", &review.external_reference, MAX_SHORT_TEXT_CHARS);
    v.finish()
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
