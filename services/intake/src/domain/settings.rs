//! A tenant's classification settings: the contract's `ClassificationSettings` laid over the
//! service's defaults, and checked field by field before they are stored.
//!
//! The tenant sets fields one at a time (`update_mask`); the fields it has set are listed in
//! `tenant_fields` and override the defaults, every other field follows the service's
//! configuration. Categories, critical rules and phrase lists replace the defaults whole;
//! sentiment terms are added to the built-in lexicon, a term written like a built-in one
//! replacing its weight.

use redress_proto::common::v1 as common;
use redress_proto::intake::v1 as proto;

use super::classify::{ClassifierConfig, MAX_PHRASE_CHARS};
use super::severity::CriticalRule;
use super::taxonomy::{Category, Phrase};
use super::text::fold;
use super::types::{Channel, CustomerTier};
use super::validate::Violation;

/// Every field a tenant can set, by its name in the contract.
pub const FIELDS: [&str; 14] = [
    "categories",
    "critical_rules",
    "impact_phrases",
    "minor_phrases",
    "raise_tiers",
    "public_channels",
    "repeat_complainant_cases",
    "repeat_complainant_window_days",
    "sentiment_terms",
    "csat_detractor_max",
    "csat_promoter_min",
    "nps_detractor_max",
    "nps_promoter_min",
    "review_unhappy_max_rating",
];

/// The most categories a taxonomy may have.
pub const MAX_CATEGORIES: usize = 100;
/// The most phrases in one category, rule or list.
pub const MAX_LIST_PHRASES: usize = 5_000;
/// The most sentiment terms a tenant may add.
pub const MAX_SENTIMENT_TERMS: usize = 10_000;
/// The longest category identifier or label, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// The request path of a field of the settings in an update.
fn path(field: &str) -> String {
    format!("classification_settings.{field}")
}

/// The settings a tenant sees: `config` (the defaults with its own fields laid over them),
/// with the fields it has set.
pub fn view(
    config: &ClassifierConfig,
    tenant_fields: &[String],
    sentiment_terms: &[proto::SentimentTerm],
) -> proto::ClassificationSettings {
    let rules = &config.severity;
    proto::ClassificationSettings {
        name: String::new(),
        categories: config
            .taxonomy
            .categories
            .iter()
            .map(|c| proto::TaxonomyCategory {
                id: c.id.clone(),
                label: c.label.clone(),
                phrases: c
                    .phrases
                    .iter()
                    .map(|p| proto::TaxonomyPhrase { text: p.text.clone(), weight: p.weight })
                    .collect(),
            })
            .collect(),
        critical_rules: rules
            .critical
            .iter()
            .map(|r| proto::CriticalRule { label: r.label.clone(), phrases: r.phrases.clone() })
            .collect(),
        impact_phrases: rules.impact.clone(),
        minor_phrases: rules.minor.clone(),
        raise_tiers: rules.raise_tiers.iter().map(|t| t.to_proto() as i32).collect(),
        public_channels: rules.public_channels.iter().map(|c| c.to_proto() as i32).collect(),
        repeat_complainant_cases: i32::try_from(rules.repeat_threshold).unwrap_or(i32::MAX),
        repeat_complainant_window_days: i32::try_from(rules.repeat_window_days).unwrap_or(i32::MAX),
        sentiment_terms: sentiment_terms.to_vec(),
        csat_detractor_max: config.survey.csat_detractor_max,
        csat_promoter_min: config.survey.csat_promoter_min,
        nps_detractor_max: config.survey.nps_detractor_max,
        nps_promoter_min: config.survey.nps_promoter_min,
        review_unhappy_max_rating: config.review_unhappy_max_rating,
        tenant_fields: tenant_fields.to_vec(),
        update_time: None,
    }
}

/// `defaults` with the fields `tenant` lists in its `tenant_fields` laid over them. The
/// settings must have been checked by [`check`].
pub fn apply(defaults: &ClassifierConfig, tenant: &proto::ClassificationSettings) -> ClassifierConfig {
    let mut config = defaults.clone();
    for field in &tenant.tenant_fields {
        let rules = &mut config.severity;
        match field.as_str() {
            "categories" => {
                config.taxonomy.categories = tenant
                    .categories
                    .iter()
                    .map(|c| Category {
                        id: c.id.clone(),
                        label: c.label.clone(),
                        phrases: c.phrases.iter().map(|p| Phrase { text: p.text.clone(), weight: p.weight }).collect(),
                    })
                    .collect();
            }
            "critical_rules" => {
                rules.critical = tenant
                    .critical_rules
                    .iter()
                    .map(|r| CriticalRule { label: r.label.clone(), phrases: r.phrases.clone() })
                    .collect();
            }
            "impact_phrases" => rules.impact = tenant.impact_phrases.clone(),
            "minor_phrases" => rules.minor = tenant.minor_phrases.clone(),
            "raise_tiers" => {
                rules.raise_tiers = tenant.raise_tiers.iter().filter_map(|t| CustomerTier::from_proto(*t)).collect()
            }
            "public_channels" => {
                rules.public_channels = tenant.public_channels.iter().filter_map(|c| Channel::from_proto(*c)).collect();
            }
            "repeat_complainant_cases" => {
                rules.repeat_threshold = u32::try_from(tenant.repeat_complainant_cases).unwrap_or(1)
            }
            "repeat_complainant_window_days" => {
                rules.repeat_window_days = u32::try_from(tenant.repeat_complainant_window_days).unwrap_or(1);
            }
            "sentiment_terms" => {
                let added: Vec<(String, String, f64)> =
                    tenant.sentiment_terms.iter().map(|t| (fold(&t.text), t.text.clone(), t.weight)).collect();
                config.sentiment.terms.retain(|(text, _)| !added.iter().any(|(folded, _, _)| *folded == fold(text)));
                config.sentiment.terms.extend(added.into_iter().map(|(_, text, weight)| (text, weight)));
            }
            "csat_detractor_max" => config.survey.csat_detractor_max = tenant.csat_detractor_max,
            "csat_promoter_min" => config.survey.csat_promoter_min = tenant.csat_promoter_min,
            "nps_detractor_max" => config.survey.nps_detractor_max = tenant.nps_detractor_max,
            "nps_promoter_min" => config.survey.nps_promoter_min = tenant.nps_promoter_min,
            "review_unhappy_max_rating" => config.review_unhappy_max_rating = tenant.review_unhappy_max_rating,
            _ => {}
        }
    }
    config
}

/// Collects the violations of a settings message.
#[derive(Default)]
struct Checker(Vec<Violation>);

impl Checker {
    fn add(&mut self, field: String, description: impl Into<String>) {
        self.0.push(Violation { field, description: description.into() });
    }

    fn phrase(&mut self, field: String, text: &str) {
        let trimmed = text.trim();
        if trimmed.trim_matches('*').trim().is_empty() {
            self.add(field, "required: a word or phrase");
        } else if trimmed.chars().count() > MAX_PHRASE_CHARS {
            self.add(field, format!("at most {MAX_PHRASE_CHARS} characters"));
        } else if trimmed.chars().any(char::is_control) {
            self.add(field, "no control characters");
        }
    }

    fn list(&mut self, field: &str, phrases: &[String], at_least_one: bool) {
        if at_least_one && phrases.is_empty() {
            self.add(path(field), "at least one phrase");
        }
        if phrases.len() > MAX_LIST_PHRASES {
            self.add(path(field), format!("at most {MAX_LIST_PHRASES} phrases"));
            return;
        }
        for (i, phrase) in phrases.iter().enumerate() {
            self.phrase(path(&format!("{field}[{i}]")), phrase);
        }
    }

    fn label(&mut self, field: String, label: &str) {
        if label.trim().is_empty() {
            self.add(field, "required");
        } else if label.chars().count() > MAX_ID_CHARS {
            self.add(field, format!("at most {MAX_ID_CHARS} characters"));
        } else if label.chars().any(char::is_control) {
            self.add(field, "no control characters");
        }
    }

    fn range(&mut self, field: &str, value: i32, low: i32, high: i32) {
        if !(low..=high).contains(&value) {
            self.add(path(field), format!("must be {low} to {high}, not {value}"));
        }
    }
}

/// Sets the fields `paths` of `settings` to their values in `given`, and marks them as the
/// tenant's own.
pub fn set_fields(
    settings: &mut proto::ClassificationSettings,
    given: &proto::ClassificationSettings,
    paths: &[String],
) {
    for path in paths {
        copy_field(given, settings, path);
        if !settings.tenant_fields.contains(path) {
            settings.tenant_fields.push(path.clone());
        }
    }
}

/// Copies the field `path` of `from` into `to`.
fn copy_field(from: &proto::ClassificationSettings, to: &mut proto::ClassificationSettings, path: &str) {
    match path {
        "categories" => to.categories = from.categories.clone(),
        "critical_rules" => to.critical_rules = from.critical_rules.clone(),
        "impact_phrases" => to.impact_phrases = from.impact_phrases.clone(),
        "minor_phrases" => to.minor_phrases = from.minor_phrases.clone(),
        "raise_tiers" => to.raise_tiers = from.raise_tiers.clone(),
        "public_channels" => to.public_channels = from.public_channels.clone(),
        "repeat_complainant_cases" => to.repeat_complainant_cases = from.repeat_complainant_cases,
        "repeat_complainant_window_days" => to.repeat_complainant_window_days = from.repeat_complainant_window_days,
        "sentiment_terms" => to.sentiment_terms = from.sentiment_terms.clone(),
        "csat_detractor_max" => to.csat_detractor_max = from.csat_detractor_max,
        "csat_promoter_min" => to.csat_promoter_min = from.csat_promoter_min,
        "nps_detractor_max" => to.nps_detractor_max = from.nps_detractor_max,
        "nps_promoter_min" => to.nps_promoter_min = from.nps_promoter_min,
        "review_unhappy_max_rating" => to.review_unhappy_max_rating = from.review_unhappy_max_rating,
        _ => {}
    }
}

fn is_category_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && id.as_bytes()[0].is_ascii_lowercase()
}

/// Checks the fields named in `fields` of `settings`, each violation named by its request
/// path (`classification_settings.categories[2].phrases[0].weight`). Thresholds that depend
/// on each other are checked by [`check_thresholds`] on the settings as they would apply.
pub fn check(settings: &proto::ClassificationSettings, fields: &[String]) -> Result<(), Vec<Violation>> {
    let mut c = Checker::default();
    for field in fields {
        match field.as_str() {
            "categories" => {
                if settings.categories.is_empty() {
                    c.add(
                        path("categories"),
                        "at least one category; complaints that match none are filed under `other`",
                    );
                }
                if settings.categories.len() > MAX_CATEGORIES {
                    c.add(path("categories"), format!("at most {MAX_CATEGORIES} categories"));
                    continue;
                }
                for (i, category) in settings.categories.iter().enumerate() {
                    let at = |f: &str| path(&format!("categories[{i}].{f}"));
                    if !is_category_id(&category.id) {
                        c.add(at("id"), format!("lower-case letters, digits and underscores starting with a letter, at most {MAX_ID_CHARS} characters"));
                    } else if category.id == "other" {
                        c.add(at("id"), "`other` is the category of complaints that match none; it has no phrases");
                    } else if settings.categories[..i].iter().any(|e| e.id == category.id) {
                        c.add(at("id"), format!("{:?} appears twice", category.id));
                    }
                    c.label(at("label"), &category.label);
                    if category.phrases.is_empty() {
                        c.add(at("phrases"), "at least one phrase");
                    }
                    if category.phrases.len() > MAX_LIST_PHRASES {
                        c.add(at("phrases"), format!("at most {MAX_LIST_PHRASES} phrases"));
                        continue;
                    }
                    for (j, phrase) in category.phrases.iter().enumerate() {
                        c.phrase(at(&format!("phrases[{j}].text")), &phrase.text);
                        if !(phrase.weight.is_finite() && phrase.weight > 0.0 && phrase.weight <= 10.0) {
                            c.add(at(&format!("phrases[{j}].weight")), "must be greater than 0 and at most 10");
                        }
                    }
                }
            }
            "critical_rules" => {
                if settings.critical_rules.len() > MAX_CATEGORIES {
                    c.add(path("critical_rules"), format!("at most {MAX_CATEGORIES} rules"));
                    continue;
                }
                for (i, rule) in settings.critical_rules.iter().enumerate() {
                    c.label(path(&format!("critical_rules[{i}].label")), &rule.label);
                    c.list(&format!("critical_rules[{i}].phrases"), &rule.phrases, true);
                }
            }
            "impact_phrases" => c.list("impact_phrases", &settings.impact_phrases, false),
            "minor_phrases" => c.list("minor_phrases", &settings.minor_phrases, false),
            "raise_tiers" => {
                for (i, tier) in settings.raise_tiers.iter().enumerate() {
                    let known =
                        common::CustomerTier::try_from(*tier).is_ok_and(|t| t != common::CustomerTier::Unspecified);
                    if !known {
                        c.add(path(&format!("raise_tiers[{i}]")), format!("{tier} is not a customer tier"));
                    }
                }
            }
            "public_channels" => {
                for (i, channel) in settings.public_channels.iter().enumerate() {
                    if Channel::from_proto(*channel).is_none() {
                        c.add(path(&format!("public_channels[{i}]")), format!("{channel} is not a channel"));
                    }
                }
            }
            "repeat_complainant_cases" => c.range(field, settings.repeat_complainant_cases, 1, 1000),
            "repeat_complainant_window_days" => c.range(field, settings.repeat_complainant_window_days, 1, 365),
            "sentiment_terms" => {
                if settings.sentiment_terms.len() > MAX_SENTIMENT_TERMS {
                    c.add(path("sentiment_terms"), format!("at most {MAX_SENTIMENT_TERMS} terms"));
                    continue;
                }
                for (i, term) in settings.sentiment_terms.iter().enumerate() {
                    c.phrase(path(&format!("sentiment_terms[{i}].text")), &term.text);
                    if term.text.split_whitespace().count() > 4 {
                        c.add(path(&format!("sentiment_terms[{i}].text")), "at most four words");
                    }
                    if !(term.weight.is_finite() && term.weight != 0.0 && (-4.0..=4.0).contains(&term.weight)) {
                        c.add(path(&format!("sentiment_terms[{i}].weight")), "must be from -4 to 4, and not 0");
                    }
                }
            }
            "csat_detractor_max" => c.range(field, settings.csat_detractor_max, 1, 4),
            "csat_promoter_min" => c.range(field, settings.csat_promoter_min, 2, 5),
            "nps_detractor_max" => c.range(field, settings.nps_detractor_max, 0, 9),
            "nps_promoter_min" => c.range(field, settings.nps_promoter_min, 1, 10),
            "review_unhappy_max_rating" => c.range(field, settings.review_unhappy_max_rating, 1, 4),
            _ => c.add(path("tenant_fields"), format!("{field:?} is not a setting; settings: {}", FIELDS.join(", "))),
        }
    }
    if c.0.is_empty() { Ok(()) } else { Err(c.0) }
}

/// Checks that the survey thresholds of `config` (as they would apply) are in order,
/// naming the first of each pair.
pub fn check_thresholds(config: &ClassifierConfig) -> Result<(), Vec<Violation>> {
    let s = &config.survey;
    let mut c = Checker::default();
    if s.csat_detractor_max >= s.csat_promoter_min {
        c.add(
            path("csat_detractor_max"),
            format!("must be below csat_promoter_min ({} is not below {})", s.csat_detractor_max, s.csat_promoter_min),
        );
    }
    if s.nps_detractor_max >= s.nps_promoter_min {
        c.add(
            path("nps_detractor_max"),
            format!("must be below nps_promoter_min ({} is not below {})", s.nps_detractor_max, s.nps_promoter_min),
        );
    }
    if c.0.is_empty() { Ok(()) } else { Err(c.0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Classifier, ComplaintInput};

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn the_defaults_round_trip_through_the_view() {
        let defaults = ClassifierConfig::default();
        let mut shown = view(&defaults, &[], &[]);
        shown.tenant_fields = FIELDS.iter().map(|f| (*f).to_owned()).collect();
        check(&shown, &shown.tenant_fields).expect("the defaults are valid settings");
        assert_eq!(apply(&defaults, &shown), defaults);
    }

    #[test]
    fn only_the_tenant_fields_override() {
        let defaults = ClassifierConfig::default();
        let settings = proto::ClassificationSettings {
            nps_detractor_max: 4,
            csat_detractor_max: 1,
            tenant_fields: fields(&["nps_detractor_max"]),
            ..Default::default()
        };
        let config = apply(&defaults, &settings);
        assert_eq!(config.survey.nps_detractor_max, 4);
        assert_eq!(config.survey.csat_detractor_max, defaults.survey.csat_detractor_max);
        assert_eq!(config.taxonomy, defaults.taxonomy);
    }

    #[test]
    fn a_tenant_taxonomy_and_lexicon_classify() {
        let settings = proto::ClassificationSettings {
            categories: vec![proto::TaxonomyCategory {
                id: "roaming".into(),
                label: "roaming charges".into(),
                phrases: vec![proto::TaxonomyPhrase { text: "roaming".into(), weight: 2.0 }],
            }],
            sentiment_terms: vec![proto::SentimentTerm { text: "gutted".into(), weight: -3.0 }],
            tenant_fields: fields(&["categories", "sentiment_terms"]),
            ..Default::default()
        };
        check(&settings, &settings.tenant_fields).expect("valid");
        let classifier = Classifier::new(apply(&ClassifierConfig::default(), &settings)).expect("compiles");
        let triage = classifier.classify(&ComplaintInput::new(
            Channel::Email,
            "Roaming",
            "I was charged roaming fees in Spain and I am gutted",
        ));
        assert_eq!(triage.category, "roaming");
        assert!(triage.sentiment < 0.0, "{triage:?}");
        // Delivery phrases no longer name a category of this tenant's.
        let other = classifier.classify(&ComplaintInput::new(Channel::Email, "Parcel", "My parcel never arrived"));
        assert_eq!(other.category, "other");
    }

    #[test]
    fn every_bad_value_is_named() {
        let settings = proto::ClassificationSettings {
            categories: vec![
                proto::TaxonomyCategory { id: "Bad Id".into(), label: String::new(), phrases: vec![] },
                proto::TaxonomyCategory {
                    id: "fees".into(),
                    label: "fees".into(),
                    phrases: vec![proto::TaxonomyPhrase { text: "fee".into(), weight: 0.0 }],
                },
                proto::TaxonomyCategory {
                    id: "fees".into(),
                    label: "fees".into(),
                    phrases: vec![proto::TaxonomyPhrase { text: "**".into(), weight: 1.0 }],
                },
            ],
            raise_tiers: vec![0, 99],
            public_channels: vec![common::Channel::Social as i32, 42],
            repeat_complainant_cases: 0,
            nps_detractor_max: 11,
            sentiment_terms: vec![proto::SentimentTerm { text: "meh".into(), weight: 0.0 }],
            tenant_fields: fields(&[
                "categories",
                "raise_tiers",
                "public_channels",
                "repeat_complainant_cases",
                "nps_detractor_max",
                "sentiment_terms",
                "colour",
            ]),
            ..Default::default()
        };
        let found: Vec<String> =
            check(&settings, &settings.tenant_fields).expect_err("invalid").into_iter().map(|v| v.field).collect();
        let expected = [
            "classification_settings.categories[0].id",
            "classification_settings.categories[0].label",
            "classification_settings.categories[0].phrases",
            "classification_settings.categories[1].phrases[0].weight",
            "classification_settings.categories[2].id",
            "classification_settings.categories[2].phrases[0].text",
            "classification_settings.raise_tiers[0]",
            "classification_settings.raise_tiers[1]",
            "classification_settings.public_channels[1]",
            "classification_settings.repeat_complainant_cases",
            "classification_settings.nps_detractor_max",
            "classification_settings.sentiment_terms[0].weight",
            "classification_settings.tenant_fields",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn thresholds_out_of_order_are_refused() {
        let mut config = ClassifierConfig::default();
        config.survey.nps_detractor_max = 9;
        config.survey.nps_promoter_min = 9;
        let found = check_thresholds(&config).expect_err("out of order");
        assert_eq!(found[0].field, "classification_settings.nps_detractor_max");
    }
}
