//! Page tokens for the escalation service's lists: a position bound to the tenant and the list
//! it came from, with a checksum, so a forged or reused token is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redress_kit::ApiError;
use redress_kit::caller::Caller;
use tonic::Status;

fn checksum(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn seal(caller: &Caller, list: &str, value: &str) -> String {
    let sum = checksum(&["redress-escalation-page", caller.tenant.as_str(), list, value]);
    URL_SAFE_NO_PAD.encode(format!("{value}\u{1f}{sum:016x}"))
}

fn open(caller: &Caller, list: &str, token: &str) -> Result<String, Status> {
    let refuse =
        || Status::from(ApiError::invalid("page_token", format!("not a token from a previous call listing {list}")));
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| refuse())?;
    let text = String::from_utf8(raw).map_err(|_| refuse())?;
    let (value, sum) = text.rsplit_once('\u{1f}').ok_or_else(refuse)?;
    let expected = format!("{:016x}", checksum(&["redress-escalation-page", caller.tenant.as_str(), list, value]));
    if sum != expected {
        return Err(refuse());
    }
    Ok(value.to_string())
}

fn size(page_size: i32) -> Result<usize, Status> {
    match page_size {
        0 => Ok(100),
        1..=1000 => Ok(page_size as usize),
        _ => Err(ApiError::invalid("page_size", "must be 1 to 1000").into()),
    }
}

/// The page size and the key to continue after.
pub fn after(caller: &Caller, list: &str, page_size: i32, token: &str) -> Result<(usize, String), Status> {
    let limit = size(page_size)?;
    let after = if token.is_empty() { String::new() } else { open(caller, list, token)? };
    Ok((limit, after))
}

/// A token to continue after `key`.
pub fn after_token(caller: &Caller, list: &str, key: &str) -> String {
    seal(caller, list, key)
}

/// The page size and the offset to continue from.
pub fn offset(caller: &Caller, list: &str, page_size: i32, token: &str) -> Result<(usize, usize), Status> {
    let limit = size(page_size)?;
    if token.is_empty() {
        return Ok((limit, 0));
    }
    let value = open(caller, list, token)?;
    let offset = value.parse().map_err(|_| Status::from(ApiError::invalid("page_token", "not a page token")))?;
    Ok((limit, offset))
}

/// A token to continue from `offset`.
pub fn offset_token(caller: &Caller, list: &str, offset: usize) -> String {
    seal(caller, list, &offset.to_string())
}

/// The first `limit` of `found` (up to `limit` + 1 items with their keys) and a token to
/// continue after the last when there are more.
pub fn keyed<T>(caller: &Caller, list: &str, found: Vec<(String, T)>, limit: usize) -> (Vec<T>, String) {
    let more = found.len() > limit;
    let page: Vec<(String, T)> = found.into_iter().take(limit).collect();
    let next_page_token = match page.last() {
        Some((key, _)) if more => after_token(caller, list, key),
        _ => String::new(),
    };
    (page.into_iter().map(|(_, item)| item).collect(), next_page_token)
}
