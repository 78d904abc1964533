//! Normalisation: how a submission's text is stored.
//!
//! Every text is put in Unicode NFC and trimmed. A subject is one line: runs of whitespace
//! (line breaks included) become one space. A description is kept in the customer's own
//! words, verbatim apart from NFC and trimming. A complaint without a subject gets one
//! derived from the first sentence or line of its description.

use redress_proto::common::v1::{CaseReferences, Customer};
use redress_proto::intake::v1::{Complaint, Review, SurveyResponse};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::validate::MAX_SUBJECT_CHARS;

/// `text` in Unicode NFC.
pub fn nfc(text: &str) -> String {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes { text.to_owned() } else { text.nfc().collect() }
}

/// A subject as stored: NFC, trimmed, every run of whitespace collapsed to one space.
pub fn normalise_subject(subject: &str) -> String {
    collapse_whitespace(&nfc(subject))
}

/// A description as stored: NFC and trimmed, otherwise verbatim.
pub fn normalise_description(description: &str) -> String {
    let trimmed = description.trim();
    let composed = nfc(trimmed);
    // Composition never adds whitespace at the ends, but a combining mark left alone at
    // the start may compose with nothing: trimming again is cheap and keeps the promise.
    match composed.trim() {
        t if t.len() == composed.len() => composed,
        t => t.to_owned(),
    }
}

/// Any other free text (a desired outcome, a comment, a review): NFC and trimmed.
pub fn normalise_text(text: &str) -> String {
    normalise_description(text)
}

/// A short identifier-like value (an email, a phone number, an external reference): trimmed.
pub fn normalise_identifier(value: &str) -> String {
    value.trim().to_owned()
}

/// The subject to store: the given one normalised, or, when it is empty, one derived from
/// the description.
pub fn subject_or_derived(subject: &str, description: &str) -> String {
    let subject = normalise_subject(subject);
    if subject.is_empty() { derive_subject(description) } else { subject }
}

/// A subject derived from a description: its first sentence or line, whitespace collapsed,
/// at most [`MAX_SUBJECT_CHARS`] characters. A longer first sentence is cut on a character
/// boundary (never inside a character or between a letter and its accents), preferably
/// after a word, and ends with "…".
pub fn derive_subject(description: &str) -> String {
    let text = description.trim_start();
    let first = first_sentence(text);
    let mut line = collapse_whitespace(&nfc(first));
    if line.chars().count() > MAX_SUBJECT_CHARS {
        line = truncate_chars(&line, MAX_SUBJECT_CHARS - 1);
        line.push('…');
    }
    line
}

/// The first sentence or line of `text`: up to the first line break, or the first `.`, `!`
/// or `?` (and their full-width forms) followed by whitespace or the end. Looks at most a
/// few kilobytes ahead.
fn first_sentence(text: &str) -> &str {
    const LOOKAHEAD_BYTES: usize = 4 * 1024;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if at > LOOKAHEAD_BYTES {
            return &text[..at];
        }
        match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => return &text[..at],
            '。' | '！' | '？' => return &text[..at + c.len_utf8()],
            '.' | '!' | '?' => match chars.peek() {
                None => return text,
                Some((_, next)) if next.is_whitespace() => return &text[..at + c.len_utf8()],
                Some(_) => {}
            },
            _ => {}
        }
    }
    text
}

/// At most `max` characters of `text`. When it must cut, it cuts after the last word that
/// fits if that keeps at least two thirds of the text, else at the character limit; it
/// never separates a letter from the combining marks that follow it.
fn truncate_chars(text: &str, max: usize) -> String {
    let Some((mut cut, _)) = text.char_indices().nth(max) else { return text.to_owned() };
    // Step back over combining marks so a letter keeps its accents.
    while cut > 0 && text[cut..].chars().next().is_some_and(is_combining_mark) {
        cut = text[..cut].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    let head = &text[..cut];
    if let Some(space) = head.rfind(' ')
        && head[..space].chars().count() * 3 >= max * 2
    {
        return head[..space].trim_end().to_owned();
    }
    head.trim_end().to_owned()
}

/// Trims and replaces every run of whitespace with one space.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The complaint as it will be stored: subject normalised (or derived from the
/// description), description, desired outcome and references in NFC and trimmed, customer
/// identifiers, contact details, tags, external reference and attachment fields trimmed.
/// Empty tags are dropped. Validation measures what is stored, so it runs on the result.
pub fn normalise_complaint(complaint: &Complaint) -> Complaint {
    let mut out = complaint.clone();
    out.description = normalise_description(&complaint.description);
    out.subject = subject_or_derived(&complaint.subject, &out.description);
    out.desired_outcome = normalise_text(&complaint.desired_outcome);
    out.external_reference = normalise_identifier(&complaint.external_reference);
    if let Some(customer) = out.customer.as_mut() {
        normalise_customer(customer);
    }
    if let Some(references) = out.references.as_mut() {
        normalise_references(references);
    }
    for attachment in &mut out.attachments {
        attachment.uri = normalise_identifier(&attachment.uri);
        attachment.media_type = normalise_identifier(&attachment.media_type).to_ascii_lowercase();
        attachment.filename = normalise_subject(&attachment.filename);
    }
    out.tags = complaint.tags.iter().map(|t| normalise_subject(t)).filter(|t| !t.is_empty()).collect();
    out
}

/// A customer as stored: identifiers and contact details trimmed, the name on one line.
pub fn normalise_customer(customer: &mut Customer) {
    customer.customer_id = normalise_identifier(&customer.customer_id);
    customer.display_name = collapse_whitespace(&nfc(&customer.display_name));
    customer.email = normalise_identifier(&customer.email);
    customer.phone = normalise_identifier(&customer.phone);
    customer.locale = normalise_identifier(&customer.locale);
}

fn normalise_references(references: &mut CaseReferences) {
    references.order_id = normalise_identifier(&references.order_id);
    references.product_id = normalise_identifier(&references.product_id);
    references.location_id = normalise_identifier(&references.location_id);
}

/// A survey answer as stored: the comment in NFC and trimmed, identifiers trimmed.
pub fn normalise_survey_response(response: &SurveyResponse) -> SurveyResponse {
    let mut out = response.clone();
    out.comment = normalise_text(&response.comment);
    out.case = normalise_identifier(&response.case);
    out.external_reference = normalise_identifier(&response.external_reference);
    if let Some(customer) = out.customer.as_mut() {
        normalise_customer(customer);
    }
    out
}

/// A review as stored: the title on one line, the text in NFC and trimmed, the platform in
/// lower case, identifiers trimmed.
pub fn normalise_review(review: &Review) -> Review {
    let mut out = review.clone();
    out.platform = normalise_identifier(&review.platform).to_lowercase();
    out.url = normalise_identifier(&review.url);
    out.title = normalise_subject(&review.title);
    out.text = normalise_text(&review.text);
    out.author_handle = normalise_identifier(&review.author_handle);
    out.external_reference = normalise_identifier(&review.external_reference);
    if let Some(customer) = out.customer.as_mut() {
        normalise_customer(customer);
    }
    if let Some(references) = out.references.as_mut() {
        normalise_references(references);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line_in_nfc() {
        assert_eq!(normalise_subject("  Parcel \t never\n\n arrived  "), "Parcel never arrived");
        // "e" + combining acute becomes the single character "é".
        assert_eq!(normalise_subject("Colis livre\u{301}"), "Colis livré");
        assert_eq!(normalise_subject(" \u{3000}\u{a0} "), "");
    }

    #[test]
    fn descriptions_keep_their_lines_and_spacing() {
        let text = "  Dear team,\n\n  the parcel   never arrived.\r\n\tThanks  ";
        assert_eq!(normalise_description(text), "Dear team,\n\n  the parcel   never arrived.\r\n\tThanks");
        assert_eq!(normalise_description("Cafe\u{301}"), "Café");
    }

    #[test]
    fn subjects_derive_from_the_first_sentence_or_line() {
        assert_eq!(derive_subject("My parcel never arrived. I want a refund."), "My parcel never arrived.");
        assert_eq!(derive_subject("\n\nOrder 123 missing\nIt was due Monday"), "Order 123 missing");
        assert_eq!(derive_subject("Version 2.5 of the app crashes"), "Version 2.5 of the app crashes");
        assert_eq!(derive_subject("Wrong item!Again"), "Wrong item!Again");
        assert_eq!(derive_subject("商品が届きません。返金してください"), "商品が届きません。");
        assert_eq!(derive_subject(""), "");
        assert_eq!(subject_or_derived("  ", "Broken zip. Please help"), "Broken zip.");
        assert_eq!(subject_or_derived(" Zip ", "Broken zip. Please help"), "Zip");
    }

    #[test]
    fn long_derived_subjects_are_cut_on_a_boundary() {
        let long = "word ".repeat(200);
        let subject = derive_subject(&long);
        assert!(subject.chars().count() <= MAX_SUBJECT_CHARS);
        assert!(subject.ends_with("word…"), "{subject}");

        let unbroken = "é".repeat(400);
        let subject = derive_subject(&unbroken);
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);

        // Letters each followed by two combining marks that have no composed form: the
        // cut never leaves a mark without its letter.
        let marked = "q\u{301}\u{323}".repeat(200);
        let subject = derive_subject(&marked);
        assert!(subject.chars().count() <= MAX_SUBJECT_CHARS);
        let body = subject.trim_end_matches('…');
        assert!(body.chars().last().is_some_and(is_combining_mark), "{body}");
        assert_eq!(body.chars().count() % 3, 0);
    }

    #[test]
    fn complaints_are_normalised_field_by_field() {
        let complaint = Complaint {
            customer: Some(Customer {
                email: " ana@example.com ".into(),
                display_name: " Ana \n Silva ".into(),
                ..Default::default()
            }),
            subject: String::new(),
            description: "  The kettle leaks.\nBadly. ".into(),
            tags: vec![" vip ".into(), "  ".into()],
            ..Default::default()
        };
        let n = normalise_complaint(&complaint);
        assert_eq!(n.subject, "The kettle leaks.");
        assert_eq!(n.description, "The kettle leaks.\nBadly.");
        assert_eq!(n.tags, ["vip"]);
        let customer = n.customer.unwrap_or_default();
        assert_eq!(customer.email, "ana@example.com");
        assert_eq!(customer.display_name, "Ana Silva");
    }
}
