//! Checks shared by every service's request validation. Each returns whether the value is
//! acceptable; callers record a violation naming the field.

use crate::error::Violations;

/// The longest idempotency key accepted.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Checks a page size: 1 to 1000, or 0 for `default`.
pub fn page_size(v: &mut Violations, value: i32, default: u64) -> u64 {
    match value {
        0 => default,
        1..=1000 => value as u64,
        _ => {
            v.add("page_size", "must be 1 to 1000");
            default
        }
    }
}

/// A pragmatic email syntax check: `local@domain.tld`, no spaces, at most 254 characters.
pub fn is_email(value: &str) -> bool {
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else { return false };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// An ISO 4217-shaped currency code: three upper-case letters.
pub fn is_currency_code(value: &str) -> bool {
    value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase())
}

/// Whether text contains control characters other than tab, carriage return and line feed.
pub fn has_control_chars(value: &str) -> bool {
    value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
}

/// Checks a required idempotency key.
pub fn request_id(violations: &mut Violations, field: &str, value: &str, required: bool) {
    if value.is_empty() {
        violations.check(required, field, "required: a client-chosen idempotency key, such as a UUID");
    } else if value.len() > MAX_REQUEST_ID_LEN || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        violations.add(field, format!("must be 1 to {MAX_REQUEST_ID_LEN} printable characters without spaces"));
    }
}

/// Checks that a proto enum field holds a known value other than the zero `_UNSPECIFIED`
/// (unless `allow_unspecified`).
pub fn enum_value<E>(violations: &mut Violations, field: &str, value: i32, allow_unspecified: bool) -> Option<E>
where
    E: TryFrom<i32>,
{
    match E::try_from(value) {
        Ok(known) if value != 0 || allow_unspecified => Some(known),
        Ok(_) => {
            violations.add(field, "required");
            None
        }
        Err(_) => {
            violations.add(field, format!("unknown value {value}"));
            None
        }
    }
}

/// Checks a text field's length in characters and its characters.
pub fn text(violations: &mut Violations, field: &str, value: &str, max_chars: usize, required: bool) {
    if value.trim().is_empty() {
        violations.check(required, field, "required");
        return;
    }
    if value.chars().count() > max_chars {
        violations.add(field, format!("at most {max_chars} characters"));
    }
    if has_control_chars(value) {
        violations.add(field, "must not contain control characters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["ana@example.com", "a.b+c@mail.example.co.uk"] {
            assert!(is_email(good), "{good}");
        }
        for bad in
            ["", "ana", "ana@", "@example.com", "ana@example", "a na@example.com", "ana@@example.com", "ana@.com"]
        {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert!(is_e164("+447700900123"));
        for bad in ["447700900123", "+0447700900", "+44 7700 900123", "+1234", "+1234567890123456"] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn enums() {
        use redress_proto::common::v1::Channel;
        let mut v = Violations::new();
        assert_eq!(enum_value::<Channel>(&mut v, "channel", 2, false), Some(Channel::Email));
        assert!(enum_value::<Channel>(&mut v, "channel", 0, false).is_none());
        assert!(enum_value::<Channel>(&mut v, "channel", 99, false).is_none());
        let status = tonic::Status::from(v.finish().unwrap_err());
        assert!(status.message().contains("channel: required"));
        assert!(status.message().contains("channel: unknown value 99"));
    }
}
