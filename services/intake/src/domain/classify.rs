//! Classification: category, severity and the unhappy flag, each with its reasons.
//!
//! A [`Classifier`] is compiled once per tenant from a [`ClassifierConfig`]: every phrase of
//! the taxonomy and the severity rules goes into one Aho-Corasick automaton over folded
//! text, so classifying a complaint is one pass to fold it, one pass of the automaton and
//! one pass of the sentiment lexicon, whatever the number of phrases.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use redress_proto::common::v1 as proto;
use redress_proto::intake::v1::Complaint;

use super::sentiment::{LexiconError, SentimentConfig, SentimentLexicon, Tone};
use super::severity::{SeverityFacts, SeverityRules, decide, quoted};
use super::survey::SurveyThresholds;
use super::taxonomy::Taxonomy;
use super::text::{BREAK, fold, fold_all, tokens};
use super::types::{Channel, CustomerTier, Severity};

/// The longest phrase accepted in a configuration, in characters.
pub const MAX_PHRASE_CHARS: usize = 200;
/// The most distinct phrases one configuration may hold.
pub const MAX_PHRASES: usize = 50_000;

/// Everything a tenant can configure about classification.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    /// The categories and their phrases.
    pub taxonomy: Taxonomy,
    /// What makes a complaint critical, raises it or keeps it low.
    pub severity: SeverityRules,
    /// The sentiment lexicon and its thresholds.
    pub sentiment: SentimentConfig,
    /// Where detractors end and promoters begin.
    pub survey: SurveyThresholds,
    /// Reviews rated at most this (out of 5) are unhappy, public cases. Default 2.
    pub review_unhappy_max_rating: i32,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            taxonomy: Taxonomy::default(),
            severity: SeverityRules::default(),
            sentiment: SentimentConfig::default(),
            survey: SurveyThresholds::default(),
            review_unhappy_max_rating: 2,
        }
    }
}

/// A configuration that cannot be used, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The configuration key, for example `taxonomy.categories[2].phrases`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { key: key.into(), message: message.into() }
    }
}

impl From<LexiconError> for ConfigError {
    fn from(e: LexiconError) -> Self {
        ConfigError { key: e.key, message: e.message }
    }
}

/// A complaint as the classifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct ComplaintInput<'a> {
    /// The subject, as stored.
    pub subject: &'a str,
    /// The description, as stored.
    pub description: &'a str,
    /// The channel it came in on.
    pub channel: Channel,
    /// The customer's tier.
    pub tier: CustomerTier,
    /// How many cases the customer opened in the repeat window (30 days by default), not
    /// counting this one; the case service answers it.
    pub recent_cases: u32,
    /// Whether this is the same customer with a near-identical complaint within 24 hours.
    pub repeat_contact: bool,
}

impl<'a> ComplaintInput<'a> {
    /// A complaint from a standard customer with no history.
    pub fn new(channel: Channel, subject: &'a str, description: &'a str) -> Self {
        ComplaintInput {
            subject,
            description,
            channel,
            tier: CustomerTier::Standard,
            recent_cases: 0,
            repeat_contact: false,
        }
    }

    /// The classifier's view of a (validated, normalised) complaint message; `None` when its
    /// channel is not a known channel.
    pub fn from_complaint(complaint: &'a Complaint) -> Option<Self> {
        let channel = Channel::from_proto(complaint.channel)?;
        let tier = complaint.customer.as_ref().and_then(|c| CustomerTier::from_proto(c.tier)).unwrap_or_default();
        Some(ComplaintInput { tier, ..ComplaintInput::new(channel, &complaint.subject, &complaint.description) })
    }
}

/// The outcome of triage, mapping one to one onto `redress.common.v1.Triage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    /// The category identifier, for example `delivery`.
    pub category: String,
    /// Confidence in the category, between 0 and 1.
    pub category_confidence: f64,
    /// The severity.
    pub severity: Severity,
    /// Whether the customer is unhappy and the case escalates at once.
    pub unhappy: bool,
    /// Why the customer is considered unhappy; empty when not.
    pub unhappy_reason: String,
    /// Every decision with its reason, in words a supervisor would accept.
    pub reasons: Vec<String>,
    /// The sentiment score the decisions used, from −1 to 1.
    pub sentiment: f64,
}

impl From<Triage> for proto::Triage {
    fn from(t: Triage) -> Self {
        proto::Triage {
            category: t.category,
            category_confidence: t.category_confidence,
            severity: t.severity.to_proto() as i32,
            unhappy: t.unhappy,
            unhappy_reason: t.unhappy_reason,
            reasons: t.reasons,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Category { index: usize, weight: f64 },
    Critical(usize),
    Impact,
    Minor,
}

#[derive(Debug, Clone)]
struct Pattern {
    display: String,
    roles: Vec<Role>,
}

/// A compiled classifier for one tenant. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Classifier {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    categories: Vec<(String, String)>,
    fallback: (String, String),
    min_score: f64,
    confidence_scale: f64,
    critical_labels: Vec<String>,
    pub(crate) rules: SeverityRules,
    sentiment: SentimentLexicon,
    pub(crate) survey: SurveyThresholds,
    pub(crate) review_unhappy_max_rating: i32,
}

/// Collects phrases into automaton patterns, one pattern per distinct folded phrase.
#[derive(Default)]
struct Patterns {
    index: HashMap<String, usize>,
    texts: Vec<String>,
    patterns: Vec<Pattern>,
}

impl Patterns {
    fn add(&mut self, key: &str, phrase: &str, role: Role) -> Result<(), ConfigError> {
        let trimmed = phrase.trim();
        if trimmed.chars().count() > MAX_PHRASE_CHARS {
            return Err(ConfigError::new(key, format!("{trimmed:?}: at most {MAX_PHRASE_CHARS} characters")));
        }
        let (open_start, open_end) = (trimmed.starts_with('*'), trimmed.ends_with('*'));
        let core = trimmed.trim_matches('*');
        let folded = fold(core);
        let words: Vec<&str> = tokens(&folded).filter(|w| *w != BREAK).collect();
        if words.is_empty() {
            return Err(ConfigError::new(key, format!("{phrase:?} has no words")));
        }
        let mut text = String::with_capacity(folded.len());
        if !open_start {
            text.push(' ');
        }
        text.push_str(&words.join(" "));
        if !open_end {
            text.push(' ');
        }
        let id = match self.index.get(&text) {
            Some(id) => *id,
            None => {
                if self.texts.len() >= MAX_PHRASES {
                    return Err(ConfigError::new(key, format!("at most {MAX_PHRASES} distinct phrases in all")));
                }
                self.index.insert(text.clone(), self.texts.len());
                self.texts.push(text);
                self.patterns.push(Pattern { display: core.trim().to_owned(), roles: Vec::new() });
                self.texts.len() - 1
            }
        };
        let roles = &mut self.patterns[id].roles;
        // The same phrase twice in one category counts once, at its larger weight.
        if let Role::Category { index, weight } = role
            && let Some(Role::Category { weight: w, .. }) =
                roles.iter_mut().find(|r| matches!(r, Role::Category { index: i, .. } if *i == index))
        {
            *w = w.max(weight);
            return Ok(());
        }
        if !roles.iter().any(|r| same_role(r, &role)) {
            roles.push(role);
        }
        Ok(())
    }
}

fn same_role(a: &Role, b: &Role) -> bool {
    match (a, b) {
        (Role::Critical(x), Role::Critical(y)) => x == y,
        (Role::Impact, Role::Impact) | (Role::Minor, Role::Minor) => true,
        _ => false,
    }
}

fn positive_finite(key: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 { Ok(()) } else { Err(ConfigError::new(key, "must be a positive number")) }
}

impl Classifier {
    /// Compiles a configuration, refusing what cannot work with the key named.
    pub fn new(config: ClassifierConfig) -> Result<Self, ConfigError> {
        let taxonomy = &config.taxonomy;
        positive_finite("taxonomy.confidence_scale", taxonomy.confidence_scale)?;
        if !taxonomy.min_score.is_finite() || taxonomy.min_score < 0.0 {
            return Err(ConfigError::new("taxonomy.min_score", "must be zero or a positive number"));
        }
        if taxonomy.fallback_id.trim().is_empty() {
            return Err(ConfigError::new("taxonomy.fallback_id", "required"));
        }
        if config.severity.repeat_threshold == 0 {
            return Err(ConfigError::new("severity.repeat_threshold", "must be at least 1"));
        }
        if !(1..=5).contains(&config.review_unhappy_max_rating) {
            return Err(ConfigError::new("review_unhappy_max_rating", "must be 1 to 5"));
        }
        config.survey.validate()?;

        let mut patterns = Patterns::default();
        let mut categories = Vec::with_capacity(taxonomy.categories.len());
        for (index, category) in taxonomy.categories.iter().enumerate() {
            let key = format!("taxonomy.categories[{index}]");
            if category.id.trim().is_empty() || categories.iter().any(|(id, _)| *id == category.id) {
                return Err(ConfigError::new(format!("{key}.id"), "required and unique"));
            }
            for phrase in &category.phrases {
                positive_finite(&format!("{key}.phrases"), phrase.weight)?;
                patterns.add(
                    &format!("{key}.phrases"),
                    &phrase.text,
                    Role::Category { index, weight: phrase.weight },
                )?;
            }
            categories.push((category.id.clone(), category.label.clone()));
        }
        let rules = &config.severity;
        for (index, rule) in rules.critical.iter().enumerate() {
            for phrase in &rule.phrases {
                patterns.add(&format!("severity.critical[{index}].phrases"), phrase, Role::Critical(index))?;
            }
        }
        for phrase in &rules.impact {
            patterns.add("severity.impact", phrase, Role::Impact)?;
        }
        for phrase in &rules.minor {
            patterns.add("severity.minor", phrase, Role::Minor)?;
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns.texts)
            .or_else(|_| AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns.texts))
            .map_err(|e| ConfigError::new("taxonomy", format!("the phrases cannot be compiled: {e}")))?;
        Ok(Classifier {
            automaton,
            patterns: patterns.patterns,
            categories,
            fallback: (taxonomy.fallback_id.clone(), taxonomy.fallback_label.clone()),
            min_score: taxonomy.min_score,
            confidence_scale: taxonomy.confidence_scale,
            critical_labels: rules.critical.iter().map(|r| r.label.clone()).collect(),
            sentiment: SentimentLexicon::new(&config.sentiment)?,
            rules: config.severity,
            survey: config.survey,
            review_unhappy_max_rating: config.review_unhappy_max_rating,
        })
    }

    /// Classifies a complaint.
    pub fn classify(&self, input: &ComplaintInput<'_>) -> Triage {
        self.classify_with(input, &[], None)
    }

    /// Classifies with extra raising factors and an extra reason for unhappiness, as
    /// surveys and reviews need.
    pub(crate) fn classify_with(
        &self,
        input: &ComplaintInput<'_>,
        extra_factors: &[String],
        extra_unhappy: Option<String>,
    ) -> Triage {
        let folded = fold_all(&[input.subject, input.description]);
        let found = self.scan(&folded);
        let sentiment = self.sentiment.analyse_folded(&folded);
        let (category, confidence, category_reason) = self.choose_category(&found);

        let mut factors: Vec<String> = Vec::new();
        if self.rules.raise_tiers.contains(&input.tier) {
            factors.push(input.tier.describe().to_owned());
        }
        if input.recent_cases >= self.rules.repeat_threshold {
            let n = input.recent_cases;
            let days = self.rules.repeat_window_days;
            factors.push(format!("repeat complainant, {n} case{} in {days} days", if n == 1 { "" } else { "s" }));
        }
        if input.repeat_contact {
            factors.push("repeat contact about the same complaint".to_owned());
        }
        let public = self.rules.public_channels.contains(&input.channel);
        if public {
            factors.push(format!("public channel ({})", input.channel.describe()));
        }
        factors.extend(extra_factors.iter().cloned());

        let strongly_negative = sentiment.tone == Tone::StronglyNegative;
        let facts = SeverityFacts {
            critical: found
                .critical
                .iter()
                .map(|(rule, pid)| (self.critical_labels[*rule].clone(), self.patterns[*pid].display.clone()))
                .collect(),
            impact: found.impact.iter().map(|pid| self.patterns[*pid].display.clone()).collect(),
            minor: found.minor.iter().map(|pid| self.patterns[*pid].display.clone()).collect(),
            negative: matches!(sentiment.tone, Tone::Negative | Tone::StronglyNegative),
            strongly_negative: strongly_negative.then(|| sentiment.negative.clone()),
            factors,
        };
        let (severity, severity_reason) = decide(&self.rules, &facts);

        let mut unhappy: Vec<String> = extra_unhappy.into_iter().collect();
        if strongly_negative {
            unhappy.push(format!("strongly negative language ({})", quoted(&sentiment.negative)));
        }
        if public {
            unhappy.push(format!("public complaint ({})", input.channel.describe()));
        }
        if severity == Severity::Critical {
            unhappy.push("critical severity".to_owned());
        }
        let unhappy_reason = unhappy.join("; ");

        let evidence = sentiment.evidence();
        let sentiment_reason = if evidence.is_empty() {
            format!("sentiment {} ({:.2})", sentiment.tone.as_str(), sentiment.score)
        } else {
            format!("sentiment {} ({:.2}): {}", sentiment.tone.as_str(), sentiment.score, quoted(evidence))
        };
        let mut reasons = vec![category_reason, severity_reason, sentiment_reason];
        if !unhappy_reason.is_empty() {
            reasons.push(format!("unhappy: {unhappy_reason}"));
        }
        Triage {
            category,
            category_confidence: confidence,
            severity,
            unhappy: !unhappy_reason.is_empty(),
            unhappy_reason,
            reasons,
            sentiment: sentiment.score,
        }
    }

    /// One pass of the automaton: the distinct phrases found, in order of first appearance,
    /// and the critical and minor phrases not negated by the words just before them.
    fn scan(&self, folded: &str) -> Found {
        let mut found = Found::default();
        let mut seen = vec![0u64; self.patterns.len().div_ceil(64)];
        let mut critical_seen = vec![0u64; self.patterns.len().div_ceil(64)];
        let bit = |set: &mut [u64], id: usize| -> bool {
            let (word, mask) = (id / 64, 1u64 << (id % 64));
            match set.get_mut(word) {
                Some(w) if *w & mask == 0 => {
                    *w |= mask;
                    true
                }
                _ => false,
            }
        };
        // Overlapping search needs standard match semantics, which `new` always builds.
        let Ok(matches) = self.automaton.try_find_overlapping_iter(folded) else { return found };
        for m in matches {
            let pid = m.pattern().as_usize();
            let Some(pattern) = self.patterns.get(pid) else { continue };
            let needs_check = pattern.roles.iter().any(|r| matches!(r, Role::Critical(_) | Role::Minor));
            let negated = needs_check && self.negated_before(folded, m.start());
            if !negated && pattern.roles.iter().any(|r| matches!(r, Role::Critical(_))) && bit(&mut critical_seen, pid)
            {
                for role in &pattern.roles {
                    if let Role::Critical(rule) = role {
                        found.critical.push((*rule, pid));
                    }
                }
            }
            if bit(&mut seen, pid) {
                found.phrases.push(pid);
                if pattern.roles.iter().any(|r| matches!(r, Role::Impact)) {
                    found.impact.push(pid);
                }
            }
            if !negated && pattern.roles.iter().any(|r| matches!(r, Role::Minor)) && !found.minor.contains(&pid) {
                found.minor.push(pid);
            }
        }
        found
    }

    /// Whether a negator stands within the negation window before byte `start`, in the
    /// same sentence.
    fn negated_before(&self, folded: &str, start: usize) -> bool {
        let Some(before) = folded.get(..start) else { return false };
        let window = self.sentiment.negation_window();
        for word in before.rsplit(' ').filter(|w| !w.is_empty()).take(window) {
            if word == BREAK {
                return false;
            }
            if self.sentiment.is_negator(word) {
                return true;
            }
        }
        false
    }

    fn choose_category(&self, found: &Found) -> (String, f64, String) {
        let mut scores = vec![0.0f64; self.categories.len()];
        for pid in &found.phrases {
            for role in &self.patterns[*pid].roles {
                if let Role::Category { index, weight } = role
                    && let Some(score) = scores.get_mut(*index)
                {
                    *score += weight;
                }
            }
        }
        let mut best: Option<(usize, f64)> = None;
        let mut second = 0.0f64;
        for (index, score) in scores.iter().copied().enumerate() {
            match best {
                Some((_, top)) if score <= top => second = second.max(score),
                Some((_, top)) => {
                    second = top;
                    best = Some((index, score));
                }
                None => best = Some((index, score)),
            }
        }
        let scale = self.confidence_scale;
        match best {
            Some((index, top)) if top >= self.min_score && top > 0.0 => {
                let strength = 1.0 - (-top / scale).exp();
                let margin = (top - second) / top;
                let confidence = round2(strength * (0.5 + 0.5 * margin));
                let mut evidence: Vec<(f64, &str)> = found
                    .phrases
                    .iter()
                    .filter_map(|pid| {
                        let pattern = &self.patterns[*pid];
                        pattern.roles.iter().find_map(|r| match r {
                            Role::Category { index: i, weight } if *i == index => {
                                Some((*weight, pattern.display.as_str()))
                            }
                            _ => None,
                        })
                    })
                    .collect();
                evidence.sort_by(|a, b| b.0.total_cmp(&a.0));
                let words: Vec<&str> = evidence.iter().map(|(_, d)| *d).collect();
                let (id, label) = &self.categories[index];
                (id.clone(), confidence, format!("category {label} (confidence {confidence:.2}): {}", quoted(&words)))
            }
            best => {
                let top = best.map_or(0.0, |(_, s)| s);
                let confidence = round2(0.5 * (-top / scale).exp());
                let (id, label) = &self.fallback;
                let why = if top > 0.0 { "only weak hints of a category" } else { "no category phrase found" };
                (id.clone(), confidence, format!("category {label} (confidence {confidence:.2}): {why}"))
            }
        }
    }
}

#[derive(Debug, Default)]
struct Found {
    phrases: Vec<usize>,
    critical: Vec<(usize, usize)>,
    impact: Vec<usize>,
    minor: Vec<usize>,
}

fn round2(x: f64) -> f64 {
    ((x * 100.0).round() / 100.0).clamp(0.0, 1.0)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
