//! Case references: a short code to quote to the customer, derived from the case id.

/// Crockford's base32 alphabet: no I, L, O or U, so references read aloud well.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The reference of the case with `id`: `RD-` and eight characters from the id's random bits.
pub fn for_id(id: uuid::Uuid) -> String {
    let bytes = id.as_bytes();
    // The last five bytes of a UUIDv7 are random.
    let mut bits: u64 = 0;
    for byte in &bytes[11..16] {
        bits = (bits << 8) | u64::from(*byte);
    }
    let mut code = String::with_capacity(11);
    code.push_str("RD-");
    for i in (0..8).rev() {
        code.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_and_distinct() {
        let a = for_id(uuid::Uuid::now_v7());
        let b = for_id(uuid::Uuid::now_v7());
        assert_eq!(a.len(), 11);
        assert!(a.starts_with("RD-"));
        assert_ne!(a, b);
        assert!(a[3..].chars().all(|c| ALPHABET.contains(&(c as u8))));
    }
}
