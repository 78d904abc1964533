//! Sentiment: how negative a complaint reads, from a lexicon with negation handling.
//!
//! Each lexicon term (a word or a short phrase) has a valence from −4 (very negative) to +4.
//! A negator ("not", "never", "pas", "nicht") turns the terms in the next few words: "not
//! happy" is negative, "not bad" mildly positive. Phrases are read before single words, so
//! "no problem at all" is a positive phrase and "never again" a negative one rather than a
//! negated "again". Modifiers strengthen ("very", "extremely", "très") or soften ("slightly",
//! "a bit") the term that follows, and after "but" the rest counts for more than what came
//! before. The sum is squashed into a score between −1 and 1.

use super::text::{BREAK, FnvMap, FnvSet, fold, tokens};

/// How a negated positive term counts: "not happy" is nearly as negative as "unhappy".
const NEGATED_POSITIVE: f64 = -0.9;
/// How a negated negative term counts: "not bad" is only mildly positive.
const NEGATED_NEGATIVE: f64 = -0.3;
/// How far back a modifier reaches, in words.
const MODIFIER_REACH: usize = 2;
/// How much what follows "but" counts, against half for what came before it.
const AFTER_CONTRAST: f64 = 1.25;
/// The squashing constant: a sum of −3 scores about −0.61.
const SQUASH: f64 = 15.0;
/// The longest phrase a lexicon may hold, in words.
pub const MAX_TERM_WORDS: usize = 4;
/// How many words of evidence a sentiment keeps.
const MAX_EVIDENCE: usize = 6;

/// A tenant's sentiment lexicon and thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentConfig {
    /// Words and phrases of up to four words with their valence, −4 to 4.
    pub terms: Vec<(String, f64)>,
    /// Words that turn the terms after them ("not", "never", "pas", "nicht").
    pub negators: Vec<String>,
    /// Words that change the strength of the next term: 0.3 is 30 % stronger, −0.5 half as strong.
    pub modifiers: Vec<(String, f64)>,
    /// Words after which the rest of the text counts for more ("but", "mais", "pero", "aber").
    pub contrasts: Vec<String>,
    /// How many words after a negator are turned.
    pub negation_window: usize,
    /// At or below this score the text is negative.
    pub negative_threshold: f64,
    /// At or below this score the text is strongly negative: it raises severity and marks
    /// the customer unhappy.
    pub strongly_negative_threshold: f64,
}

/// How a text reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Positive on balance.
    Positive,
    /// Neither.
    Neutral,
    /// Negative.
    Negative,
    /// Strongly negative.
    StronglyNegative,
}

impl Tone {
    /// The tone in plain words.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Positive => "positive",
            Tone::Neutral => "neutral",
            Tone::Negative => "negative",
            Tone::StronglyNegative => "strongly negative",
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentiment {
    /// From −1 (very negative) to 1 (very positive).
    pub score: f64,
    /// The tone the score falls in.
    pub tone: Tone,
    /// The words that made it negative, as found ("not happy", "extremely disappointed").
    pub negative: Vec<String>,
    /// The words that made it positive.
    pub positive: Vec<String>,
}

impl Sentiment {
    /// The words that explain the tone: the negative ones for a negative tone, the positive
    /// ones for a positive tone.
    pub fn evidence(&self) -> &[String] {
        match self.tone {
            Tone::Negative | Tone::StronglyNegative => &self.negative,
            Tone::Positive => &self.positive,
            Tone::Neutral => &[],
        }
    }
}

#[derive(Debug, Clone)]
struct Term {
    rest: Vec<Box<str>>,
    valence: f64,
}

/// A compiled [`SentimentConfig`], ready to score texts.
#[derive(Debug, Clone)]
pub struct SentimentLexicon {
    terms: FnvMap<Box<str>, Vec<Term>>,
    negators: FnvSet<Box<str>>,
    modifiers: FnvMap<Box<str>, f64>,
    contrasts: FnvSet<Box<str>>,
    window: usize,
    negative_threshold: f64,
    strongly_negative_threshold: f64,
}

/// A term, negator or modifier of the sentiment configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct LexiconError {
    /// The configuration key.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

fn lexicon_error(key: &str, message: impl Into<String>) -> LexiconError {
    LexiconError { key: key.to_owned(), message: message.into() }
}

impl SentimentLexicon {
    /// Compiles a configuration, refusing empty terms, terms longer than four words,
    /// valences outside −4..4 and thresholds out of order.
    pub fn new(config: &SentimentConfig) -> Result<Self, LexiconError> {
        let t = (config.strongly_negative_threshold, config.negative_threshold);
        if !(-1.0..=0.0).contains(&t.0) || !(-1.0..=0.0).contains(&t.1) || t.0 > t.1 {
            return Err(lexicon_error(
                "sentiment.strongly_negative_threshold",
                "thresholds must satisfy −1 ≤ strongly negative ≤ negative ≤ 0",
            ));
        }
        if config.negation_window > 10 {
            return Err(lexicon_error("sentiment.negation_window", "at most 10 words"));
        }
        let mut terms: FnvMap<Box<str>, Vec<Term>> = FnvMap::default();
        for (text, valence) in &config.terms {
            if !valence.is_finite() || valence.abs() > 4.0 {
                return Err(lexicon_error("sentiment.terms", format!("{text:?}: valence must be between −4 and 4")));
            }
            let folded = fold(text);
            let words: Vec<&str> = tokens(&folded).filter(|w| *w != BREAK).collect();
            let Some((first, rest)) = words.split_first() else {
                return Err(lexicon_error("sentiment.terms", format!("{text:?} has no words")));
            };
            if words.len() > MAX_TERM_WORDS {
                return Err(lexicon_error("sentiment.terms", format!("{text:?}: at most {MAX_TERM_WORDS} words")));
            }
            let rest: Vec<Box<str>> = rest.iter().map(|w| Box::from(*w)).collect();
            let entry = terms.entry(Box::from(*first)).or_default();
            match entry.iter_mut().find(|t| t.rest == rest) {
                Some(existing) => existing.valence = *valence,
                None => entry.push(Term { rest, valence: *valence }),
            }
        }
        for candidates in terms.values_mut() {
            candidates.sort_by_key(|t| std::cmp::Reverse(t.rest.len()));
        }
        let words = |key: &str, list: &[String]| -> Result<FnvSet<Box<str>>, LexiconError> {
            list.iter().map(|w| single_word(key, w)).collect()
        };
        let mut modifiers = FnvMap::default();
        for (word, boost) in &config.modifiers {
            if !boost.is_finite() || !(-1.0..=2.0).contains(boost) {
                return Err(lexicon_error(
                    "sentiment.modifiers",
                    format!("{word:?}: strength must be between −1 and 2"),
                ));
            }
            modifiers.insert(single_word("sentiment.modifiers", word)?, *boost);
        }
        Ok(SentimentLexicon {
            terms,
            negators: words("sentiment.negators", &config.negators)?,
            modifiers,
            contrasts: words("sentiment.contrasts", &config.contrasts)?,
            window: config.negation_window,
            negative_threshold: config.negative_threshold,
            strongly_negative_threshold: config.strongly_negative_threshold,
        })
    }

    /// Whether `word` (folded) is a negator.
    pub fn is_negator(&self, word: &str) -> bool {
        self.negators.contains(word)
    }

    /// How many words after a negator it reaches.
    pub fn negation_window(&self) -> usize {
        self.window
    }

    /// The sentiment of a text.
    pub fn analyse(&self, text: &str) -> Sentiment {
        self.analyse_folded(&fold(text))
    }

    /// The sentiment of a text already folded with [`fold`].
    pub fn analyse_folded(&self, folded: &str) -> Sentiment {
        let words: Vec<&str> = tokens(folded).collect();
        let mut sum = 0.0;
        let mut weight = 1.0;
        let mut negator: Option<usize> = None;
        let mut modifier: Option<(usize, f64)> = None;
        let mut negative = Vec::new();
        let mut positive = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            if word == BREAK {
                negator = None;
                modifier = None;
                i += 1;
                continue;
            }
            if let Some(term) = self.term_at(&words, i) {
                let len = term.rest.len() + 1;
                let mut valence = term.valence;
                let mut from = i;
                if let Some((at, boost)) = modifier.filter(|(at, _)| i - at <= MODIFIER_REACH) {
                    valence *= 1.0 + boost;
                    from = at;
                }
                if let Some(at) = negator.filter(|at| i - at <= self.window) {
                    valence *= if valence > 0.0 { NEGATED_POSITIVE } else { NEGATED_NEGATIVE };
                    from = from.min(at);
                }
                sum += valence * weight;
                let evidence = if valence < 0.0 { &mut negative } else { &mut positive };
                if evidence.len() < MAX_EVIDENCE {
                    let phrase = words[from..i + len].join(" ");
                    if !evidence.contains(&phrase) {
                        evidence.push(phrase);
                    }
                }
                modifier = None;
                i += len;
                continue;
            }
            if self.negators.contains(word) {
                negator = Some(i);
            } else if let Some(boost) = self.modifiers.get(word) {
                modifier = Some((i, *boost));
            } else if self.contrasts.contains(word) {
                sum *= 0.5;
                weight = AFTER_CONTRAST;
            }
            i += 1;
        }
        let score = if sum == 0.0 { 0.0 } else { sum / (sum * sum + SQUASH).sqrt() };
        let tone = if score <= self.strongly_negative_threshold {
            Tone::StronglyNegative
        } else if score <= self.negative_threshold {
            Tone::Negative
        } else if score >= -self.negative_threshold && score > 0.0 {
            Tone::Positive
        } else {
            Tone::Neutral
        };
        Sentiment { score, tone, negative, positive }
    }

    fn term_at(&self, words: &[&str], i: usize) -> Option<&Term> {
        let candidates = self.terms.get(words[i])?;
        candidates.iter().find(|term| {
            let end = i + 1 + term.rest.len();
            end <= words.len() && term.rest.iter().zip(&words[i + 1..end]).all(|(want, got)| **want == **got)
        })
    }
}

fn single_word(key: &str, word: &str) -> Result<Box<str>, LexiconError> {
    let folded = fold(word);
    let mut words = tokens(&folded).filter(|w| *w != BREAK);
    match (words.next(), words.next()) {
        (Some(one), None) => Ok(Box::from(one)),
        _ => Err(lexicon_error(key, format!("{word:?} must be exactly one word"))),
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

fn valued(groups: &[(f64, &[&str])]) -> Vec<(String, f64)> {
    groups.iter().flat_map(|(v, words)| words.iter().map(|w| ((*w).to_owned(), *v))).collect()
}

#[rustfmt::skip]
impl Default for SentimentConfig {
    fn default() -> Self {
        SentimentConfig {
            terms: valued(&[
                (
                    -3.5,
                    &[
                        "furious", "livid", "never again", "plus jamais", "jamais plus", "nunca mas", "nie wieder",
                        "sick and tired",
                    ],
                ),
                (
                    -3.0,
                    &[
                        "terrible", "awful", "horrible", "horrendous", "appalling", "appalled", "disgusting",
                        "disgusted", "disgraceful", "disgrace", "outrageous", "unacceptable", "worst", "pathetic",
                        "atrocious", "abysmal", "shameful", "nightmare", "scam", "hate", "absolute joke",
                        "beyond a joke", "fuming", "inadmissible", "inacceptable", "honteux", "honteuse", "scandaleux",
                        "scandaleuse", "scandale", "catastrophique", "lamentable", "furieux", "furieuse", "arnaque",
                        "une honte", "inaceptable", "verguenza", "vergonzoso", "pesimo", "pesima", "indignado",
                        "indignada", "furioso", "furiosa", "estafa", "desastre", "una verguenza", "unverschamt",
                        "unverschamtheit", "frechheit", "katastrophe", "katastrophal", "inakzeptabel", "schrecklich",
                        "furchtbar", "miserabel", "betrug", "skandal", "wutend",
                    ],
                ),
                (
                    -2.5,
                    &[
                        "useless", "incompetent", "ridiculous", "shocking", "angry", "fed up", "rip off", "ripped off",
                        "sick of", "let down", "let me down", "rubbish", "dreadful", "cheated", "liar", "lies",
                        "en colere", "colere", "pire", "nul", "nulle", "honte", "enfadado", "enfadada", "harto",
                        "harta", "peor", "fatal", "verargert", "das letzte", "ungeheuerlich",
                    ],
                ),
                (
                    -2.0,
                    &[
                        "disappointed", "disappointing", "disappointment", "upset", "unhappy", "dissatisfied",
                        "frustrated", "frustrating", "rude", "unprofessional", "misleading", "stressful", "scared",
                        "worse", "waste of", "wasted", "deception", "decu", "decue", "decevant", "mecontent",
                        "mecontente", "enerve", "enervee", "mal", "decepcionado", "decepcionada", "decepcion",
                        "molesto", "molesta", "enttauscht", "enttauschend", "unzufrieden", "argerlich", "schlimm",
                        "sauer",
                    ],
                ),
                (
                    -1.5,
                    &[
                        "annoyed", "annoying", "poor", "bad", "worried", "afraid", "joke", "stress", "fail", "failed",
                        "agace", "mauvais", "mauvaise", "inquiet", "malo", "mala", "preocupado", "schlecht", "argern",
                    ],
                ),
                (-1.0, &["broken", "wrong", "careless", "unhelpful", "problema grave", "pas normal", "no es normal"]),
                (-0.8, &["problem", "problems", "probleme", "problemes", "problema", "problemas", "issue", "issues"]),
                (0.5, &["thanks", "thank you", "merci", "gracias", "danke"]),
                (1.0, &["no problem", "no problems", "fine", "quick"]),
                (1.5, &["good", "glad", "recommend", "bien", "bueno", "buena", "gut"]),
                (
                    2.0,
                    &[
                        "happy", "pleased", "satisfied", "helpful", "lovely", "content", "contente", "satisfait",
                        "satisfaite", "heureux", "heureuse", "contento", "contenta", "satisfecho", "satisfecha",
                        "feliz", "zufrieden", "glucklich", "toll", "prima",
                    ],
                ),
                (2.5, &["great", "love", "perfect", "ravi", "ravie", "genial", "encantado", "encantada"]),
                (3.0, &["excellent", "fantastic", "amazing", "brilliant", "wonderful", "excelente", "hervorragend"]),
            ]),
            negators: owned(&[
                "not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without", "cannot", "cant",
                "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "wont", "wouldnt", "couldnt",
                "shouldnt", "havent", "hasnt", "hadnt", "aint", "hardly", "barely", "ne", "n", "pas", "jamais",
                "aucun", "aucune", "rien", "sans", "nunca", "nada", "ni", "sin", "tampoco", "jamas", "ningun",
                "ninguna", "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne", "nichts",
            ]),
            modifiers: valued(&[
                (0.5, &["extremely", "incredibly", "utterly", "extremement", "extremadamente", "extrem"]),
                (0.4, &["absolutely", "deeply", "vollig", "absolut"]),
                (0.3, &[
                    "very", "really", "totally", "completely", "truly", "highly", "tres", "vraiment", "completement",
                    "totalement", "muy", "realmente", "totalmente", "sehr", "wirklich", "total", "echt",
                ]),
                (0.2, &["so", "too"]),
                (-0.4, &["somewhat", "etwas"]),
                (-0.5, &["slightly", "little", "bit", "mildly", "peu", "poco", "bisschen"]),
            ]),
            contrasts: owned(&["but", "however", "although", "mais", "pourtant", "pero", "aber", "jedoch"]),
            negation_window: 3,
            negative_threshold: -0.3,
            strongly_negative_threshold: -0.6,
        }
    }
}

#[cfg(test)]
#[path = "sentiment_tests.rs"]
mod tests;
