//! Text folded for matching: the form in which phrases, lexicons and similarity compare text.
//!
//! Folding lowercases, removes accents (`é` → `e`, `ü` → `u`), writes `ß` as `ss`, joins the
//! English `n't` (`didn't` → `didnt`), turns every other non-alphanumeric character into a
//! word break and sentence punctuation (`.`, `!`, `?`, `;`, `:`, line breaks) into a `.`
//! token. Words are separated by exactly one space and the folded text begins and ends with
//! a space, so `" never arrived "` finds the words "never arrived" and nothing inside a
//! longer word.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The token folding writes for a sentence break.
pub const BREAK: &str = ".";

/// Folds `text` for matching; see the module documentation.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    fold_into(text, &mut out);
    out
}

/// Folds several texts (a subject and a description) into one, with a sentence break
/// between them.
pub fn fold_all(texts: &[&str]) -> String {
    let mut out = String::with_capacity(texts.iter().map(|t| t.len() + 3).sum::<usize>() + 2);
    out.push(' ');
    for text in texts {
        fold_push(text, &mut out);
        push_break(&mut out);
    }
    if out.ends_with(" . ") {
        out.truncate(out.len() - 2);
    }
    out
}

/// Folds `text` into `out`, replacing what `out` held.
pub fn fold_into(text: &str, out: &mut String) {
    out.clear();
    out.push(' ');
    fold_push(text, out);
    push_space(out);
}

fn fold_push(text: &str, out: &mut String) {
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if is_sentence_break(c) {
                push_break(out);
            } else if c == '\'' && joins(out, &text[at + 1..]) {
                // "didn't" → "didnt", "customer's" → "customers": the apostrophe is dropped.
            } else {
                push_space(out);
            }
        } else if is_combining_mark(c) {
            // An accent on the previous letter: dropped, the word goes on.
        } else if c == 'ß' || c == 'ẞ' {
            out.push_str("ss");
        } else if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                decompose_canonical(lower, |part| {
                    if !is_combining_mark(part) {
                        out.push(part);
                    }
                });
            }
        } else if is_sentence_break(c) {
            push_break(out);
        } else if matches!(c, '\u{2019}' | '\u{02BC}') && joins(out, &text[at + c.len_utf8()..]) {
            // A typographic apostrophe in "didn’t" or "customer’s".
        } else {
            push_space(out);
        }
    }
}

/// The words of folded text, sentence breaks included.
pub fn tokens(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(' ').filter(|t| !t.is_empty())
}

fn is_sentence_break(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';' | ':' | '\n' | '\r' | '。' | '！' | '？' | '¡' | '¿' | '…' | '\u{2029}')
}

fn push_space(out: &mut String) {
    if !out.ends_with(' ') {
        out.push(' ');
    }
}

fn push_break(out: &mut String) {
    if out.ends_with(" . ") || out.len() == 1 {
        return;
    }
    push_space(out);
    out.push_str(". ");
}

/// Whether an apostrophe between what was written so far and `rest` is the English `n't`
/// or possessive `'s`, which fold into the word ("didnt", "customers").
fn joins(out: &str, rest: &str) -> bool {
    let mut after = rest.chars();
    let letter = after.next();
    let ends_word = !after.next().is_some_and(char::is_alphanumeric);
    let before = out.chars().next_back();
    ends_word
        && match letter {
            Some('t' | 'T') => before == Some('n'),
            Some('s' | 'S') => before.is_some_and(char::is_alphanumeric),
            _ => false,
        }
}

/// A fast, non-cryptographic 64-bit hash (FNV-1a) for tables whose keys are fixed by
/// configuration and only looked up with request text.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by configuration, looked up with request text.
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
/// A set of configuration words, looked up with request text.
pub type FnvSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;

/// The FNV-1a hash of one string.
pub fn hash_str(s: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(s.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("Le colis n'est JAMAIS arrivé!"), " le colis n est jamais arrive . ");
        assert_eq!(fold("I didn't get it, and it isn’t here."), " i didnt get it and it isnt here . ");
        assert_eq!(fold("Another customer's details"), " another customers details ");
        assert_eq!(fold("l'état, s'il"), " l etat s il ");
        assert_eq!(fold("Straße über Größe"), " strasse uber grosse ");
        assert_eq!(fold("  next-day   delivery\t\n\n"), " next day delivery . ");
        assert_eq!(fold("e\u{301}te\u{301}"), " ete ");
        assert_eq!(fold(""), " ");
        assert_eq!(fold("!!!"), " ");
        assert_eq!(fold("'n't"), " nt ");
    }

    #[test]
    fn several_texts_fold_with_breaks_between() {
        assert_eq!(fold_all(&["Parcel lost", "It never came!"]), " parcel lost . it never came ");
        assert_eq!(fold_all(&["", "Hello"]), " hello ");
        assert_eq!(fold_all(&[]), " ");
    }

    #[test]
    fn tokens_skip_empty_words() {
        let folded = fold("Hello,   world. Again");
        assert_eq!(tokens(&folded).collect::<Vec<_>>(), ["hello", "world", ".", "again"]);
    }
}
