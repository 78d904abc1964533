//! Repeat-contact similarity: how alike two complaint texts are, from 0 (nothing in common)
//! to 1 (the same words in the same order).
//!
//! Both texts are folded (lower case, no accents, no punctuation) and described by the
//! counts of their words and of their adjacent word pairs; the similarity is the cosine of
//! the two count vectors. Single words make a reworded or reordered complaint still score
//! high; word pairs make the same words in a different story score lower. Changing one word
//! in twenty scores about 0.95; two complaints about different things on the same topic
//! score well under 0.5.

use super::text::{BREAK, fold, hash_str, tokens};

/// The similarity at or above which two complaints from the same customer are
/// near-identical, so that a second one within 24 hours joins the first case. At 0.8, a
/// resend with a few words changed or added is a repeat; a new complaint about the same
/// order in other words is not.
pub const NEAR_IDENTICAL_THRESHOLD: f64 = 0.8;

/// A text reduced to what similarity compares: sorted feature hashes with their counts.
/// Computing it once lets one complaint be compared with many recent ones cheaply.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    features: Vec<(u64, u32)>,
    norm: f64,
}

impl Fingerprint {
    /// The fingerprint of a text.
    pub fn new(text: &str) -> Self {
        let folded = fold(text);
        let words: Vec<u64> = tokens(&folded).filter(|w| *w != BREAK).map(hash_str).collect();
        let mut hashes: Vec<u64> = Vec::with_capacity(words.len() * 2);
        hashes.extend(&words);
        // A word pair hashes differently from any single word: the pair's hash is mixed
        // with a constant that a single word's hash never is.
        hashes.extend(words.windows(2).map(|w| w[0].rotate_left(29) ^ w[1] ^ 0x9e37_79b9_7f4a_7c15));
        hashes.sort_unstable();
        let mut features: Vec<(u64, u32)> = Vec::with_capacity(hashes.len());
        for h in hashes {
            match features.last_mut() {
                Some((last, count)) if *last == h => *count = count.saturating_add(1),
                _ => features.push((h, 1)),
            }
        }
        let norm = features.iter().map(|(_, c)| f64::from(*c) * f64::from(*c)).sum::<f64>().sqrt();
        Fingerprint { features, norm }
    }

    /// Whether the text had no words.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The cosine similarity with another fingerprint, between 0 and 1. Two texts without
    /// words are identical (1); a text without words is like nothing else (0).
    pub fn similarity(&self, other: &Fingerprint) -> f64 {
        match (self.is_empty(), other.is_empty()) {
            (true, true) => return 1.0,
            (true, false) | (false, true) => return 0.0,
            (false, false) => {}
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0f64);
        while let (Some((a, ca)), Some((b, cb))) = (self.features.get(i), other.features.get(j)) {
            match a.cmp(b) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += f64::from(*ca) * f64::from(*cb);
                    i += 1;
                    j += 1;
                }
            }
        }
        (dot / (self.norm * other.norm)).clamp(0.0, 1.0)
    }
}

/// The similarity of two texts, between 0 and 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    Fingerprint::new(a).similarity(&Fingerprint::new(b))
}

/// Whether two texts are near-identical: similarity at or above
/// [`NEAR_IDENTICAL_THRESHOLD`].
pub fn is_near_identical(a: &str, b: &str) -> bool {
    similarity(a, b) >= NEAR_IDENTICAL_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "My parcel for order 5521 never arrived. The tracking says it was delivered on Monday \
                            but nothing was left at my door and none of my neighbours have it.";

    #[test]
    fn identical_texts_score_one_whatever_the_case_and_punctuation() {
        assert!((similarity(ORIGINAL, ORIGINAL) - 1.0).abs() < 1e-9);
        let shouted = ORIGINAL.to_uppercase().replace('.', "!!!");
        assert!((similarity(ORIGINAL, &shouted) - 1.0).abs() < 1e-9);
        assert!((similarity("Colis jamais arrivé", "colis JAMAIS arrive") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_resend_with_small_changes_is_near_identical() {
        let resent = "Hello, my parcel for order 5521 never arrived. The tracking says it was delivered on Monday \
                      but nothing was left at my door and none of my neighbours have it. Please help!";
        let s = similarity(ORIGINAL, resent);
        assert!(s >= NEAR_IDENTICAL_THRESHOLD, "{s}");
        assert!(s < 1.0);
        assert!(is_near_identical(ORIGINAL, resent));
    }

    #[test]
    fn a_different_complaint_is_not() {
        let other = "The jacket I received in order 5521 has a broken zip and the sleeve is torn. \
                     I would like a replacement please.";
        let s = similarity(ORIGINAL, other);
        assert!(s < 0.5, "{s}");
        let same_topic = "Order 5521 arrived two days late and the box was damaged.";
        let s = similarity(ORIGINAL, same_topic);
        assert!(s < NEAR_IDENTICAL_THRESHOLD, "{s}");
        assert!(!is_near_identical(ORIGINAL, same_topic));
    }

    #[test]
    fn word_order_matters_a_little() {
        let s = similarity("the dog bit the postman", "the postman bit the dog");
        assert!(s > 0.5 && s < 0.95, "{s}");
    }

    #[test]
    fn empty_texts() {
        assert_eq!(similarity("", ""), 1.0);
        assert_eq!(similarity("...", "  "), 1.0);
        assert_eq!(similarity("", "hello"), 0.0);
        assert_eq!(similarity("hello", "!!"), 0.0);
        let fingerprint = Fingerprint::new("");
        assert!(fingerprint.is_empty());
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let texts = ["a b c", "c b a", "a a a a", "b", "x y z a", ORIGINAL];
        for a in texts {
            for b in texts {
                let ab = similarity(a, b);
                assert!((0.0..=1.0).contains(&ab));
                assert!((ab - similarity(b, a)).abs() < 1e-12);
            }
        }
    }
}
