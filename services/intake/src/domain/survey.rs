//! Surveys and reviews: detractor, passive or promoter, and the unhappy cases they open.
//!
//! A detractor survey becomes an unhappy-customer case; a promoter opens none. A review
//! rated 2 of 5 or less becomes a public, unhappy case. Thresholds are per tenant.

use redress_proto::case::v1 as case_proto;
use redress_proto::intake::v1 as intake_proto;

use super::classify::{Classifier, ComplaintInput, ConfigError, Triage};
use super::types::{Channel, CustomerTier};

/// The scale a survey was answered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurveyScale {
    /// Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
    Csat,
    /// Net promoter score, 0 (not at all likely) to 10 (extremely likely).
    Nps,
}

impl SurveyScale {
    /// The scale for a contract value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match case_proto::SurveyScale::try_from(value).ok()? {
            case_proto::SurveyScale::Unspecified => None,
            case_proto::SurveyScale::Csat => Some(Self::Csat),
            case_proto::SurveyScale::Nps => Some(Self::Nps),
        }
    }

    /// The scale's name as reasons show it: "CSAT" or "NPS".
    pub fn name(self) -> &'static str {
        match self {
            Self::Csat => "CSAT",
            Self::Nps => "NPS",
        }
    }

    /// The lowest and highest score on the scale.
    pub fn range(self) -> (i32, i32) {
        match self {
            Self::Csat => (1, 5),
            Self::Nps => (0, 10),
        }
    }
}

/// How a survey answer is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurveyClass {
    /// Unhappy.
    Detractor,
    /// Neither.
    Passive,
    /// Happy.
    Promoter,
}

impl SurveyClass {
    /// The contract's value.
    pub fn to_proto(self) -> intake_proto::SurveyClass {
        match self {
            Self::Detractor => intake_proto::SurveyClass::Detractor,
            Self::Passive => intake_proto::SurveyClass::Passive,
            Self::Promoter => intake_proto::SurveyClass::Promoter,
        }
    }
}

/// Where detractors end and promoters begin on each scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyThresholds {
    /// CSAT scores at or below this are detractors. Default 2.
    pub csat_detractor_max: i32,
    /// CSAT scores at or above this are promoters. Default 4.
    pub csat_promoter_min: i32,
    /// NPS scores at or below this are detractors. Default 6.
    pub nps_detractor_max: i32,
    /// NPS scores at or above this are promoters. Default 9.
    pub nps_promoter_min: i32,
}

impl Default for SurveyThresholds {
    fn default() -> Self {
        SurveyThresholds { csat_detractor_max: 2, csat_promoter_min: 4, nps_detractor_max: 6, nps_promoter_min: 9 }
    }
}

impl SurveyThresholds {
    /// Refuses thresholds outside their scale or out of order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |key: &str, scale: SurveyScale, detractor_max: i32, promoter_min: i32| {
            let (low, high) = scale.range();
            if low <= detractor_max && detractor_max < promoter_min && promoter_min <= high {
                Ok(())
            } else {
                Err(ConfigError::new(
                    key,
                    format!("{} thresholds must satisfy {low} ≤ detractor max < promoter min ≤ {high}", scale.name()),
                ))
            }
        };
        check("survey.csat_detractor_max", SurveyScale::Csat, self.csat_detractor_max, self.csat_promoter_min)?;
        check("survey.nps_detractor_max", SurveyScale::Nps, self.nps_detractor_max, self.nps_promoter_min)
    }

    /// Classifies a score on its scale. Scores outside the scale are classified by the same
    /// thresholds; validation refuses them before they get here.
    pub fn classify(&self, scale: SurveyScale, score: i32) -> SurveyClass {
        let (detractor_max, promoter_min) = match scale {
            SurveyScale::Csat => (self.csat_detractor_max, self.csat_promoter_min),
            SurveyScale::Nps => (self.nps_detractor_max, self.nps_promoter_min),
        };
        if score <= detractor_max {
            SurveyClass::Detractor
        } else if score >= promoter_min {
            SurveyClass::Promoter
        } else {
            SurveyClass::Passive
        }
    }
}

/// A survey answer as the classifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct SurveyInput<'a> {
    /// The scale.
    pub scale: SurveyScale,
    /// The score on it.
    pub score: i32,
    /// The customer's comment.
    pub comment: &'a str,
    /// The customer's tier.
    pub tier: CustomerTier,
    /// How many cases the customer opened in the repeat window.
    pub recent_cases: u32,
}

/// What a survey answer comes to.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyDecision {
    /// Detractor, passive or promoter.
    pub class: SurveyClass,
    /// The triage of the unhappy-customer case a detractor opens; `None` for passives and
    /// promoters, which open no case.
    pub triage: Option<Triage>,
}

/// A third-party review as the classifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewInput<'a> {
    /// The rating, 1 to 5.
    pub rating: i32,
    /// The review's title.
    pub title: &'a str,
    /// The review's text.
    pub text: &'a str,
    /// The customer's tier, when the reviewer is a known customer.
    pub tier: CustomerTier,
    /// How many cases the customer opened in the repeat window.
    pub recent_cases: u32,
}

impl Classifier {
    /// Classifies a survey answer; a detractor also gets the triage of its unhappy case
    /// ("detractor survey, NPS 3" raises severity and is the unhappy reason).
    pub fn triage_survey(&self, input: &SurveyInput<'_>) -> SurveyDecision {
        let class = self.survey.classify(input.scale, input.score);
        let triage = (class == SurveyClass::Detractor).then(|| {
            let why = format!("detractor survey, {} {}", input.scale.name(), input.score);
            let complaint = ComplaintInput {
                tier: input.tier,
                recent_cases: input.recent_cases,
                ..ComplaintInput::new(Channel::Survey, "", input.comment)
            };
            self.classify_with(&complaint, std::slice::from_ref(&why), Some(why.clone()))
        });
        SurveyDecision { class, triage }
    }

    /// The triage of the public, unhappy case a low review opens; `None` for a review rated
    /// above the tenant's threshold (2 of 5 by default).
    pub fn triage_review(&self, input: &ReviewInput<'_>) -> Option<Triage> {
        if input.rating > self.review_unhappy_max_rating {
            return None;
        }
        let why = format!("review rated {} of 5", input.rating);
        let complaint = ComplaintInput {
            tier: input.tier,
            recent_cases: input.recent_cases,
            ..ComplaintInput::new(Channel::ReviewSite, input.title, input.text)
        };
        Some(self.classify_with(&complaint, std::slice::from_ref(&why), Some(why.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::classify::ClassifierConfig;
    use crate::domain::types::Severity;

    #[test]
    fn default_thresholds_split_both_scales() {
        let t = SurveyThresholds::default();
        let csat: Vec<SurveyClass> = (1..=5).map(|s| t.classify(SurveyScale::Csat, s)).collect();
        use SurveyClass::{Detractor as D, Passive as P, Promoter as R};
        assert_eq!(csat, [D, D, P, R, R]);
        let nps: Vec<SurveyClass> = (0..=10).map(|s| t.classify(SurveyScale::Nps, s)).collect();
        assert_eq!(nps, [D, D, D, D, D, D, D, P, P, R, R]);
        assert_eq!(t.classify(SurveyScale::Nps, i32::MIN), D);
        assert_eq!(t.classify(SurveyScale::Nps, i32::MAX), R);
    }

    #[test]
    fn thresholds_are_configurable_and_checked() {
        let strict = SurveyThresholds { csat_detractor_max: 3, nps_detractor_max: 7, ..SurveyThresholds::default() };
        assert!(strict.validate().is_ok());
        assert_eq!(strict.classify(SurveyScale::Csat, 3), SurveyClass::Detractor);
        assert_eq!(strict.classify(SurveyScale::Nps, 7), SurveyClass::Detractor);
        assert_eq!(strict.classify(SurveyScale::Nps, 8), SurveyClass::Passive);
        let crossed = SurveyThresholds { csat_detractor_max: 4, csat_promoter_min: 4, ..SurveyThresholds::default() };
        assert_eq!(crossed.validate().map_err(|e| e.key), Err("survey.csat_detractor_max".to_owned()));
        let outside = SurveyThresholds { nps_promoter_min: 11, ..SurveyThresholds::default() };
        assert!(outside.validate().is_err());
        let config = ClassifierConfig { survey: outside, ..ClassifierConfig::default() };
        assert!(Classifier::new(config).is_err());
    }

    #[test]
    fn detractors_open_unhappy_cases_and_promoters_none() {
        let classifier = Classifier::new(ClassifierConfig::default()).expect("defaults compile");
        let input = SurveyInput {
            scale: SurveyScale::Nps,
            score: 3,
            comment: "The engineer never turned up.",
            tier: CustomerTier::Standard,
            recent_cases: 0,
        };
        let decision = classifier.triage_survey(&input);
        assert_eq!(decision.class, SurveyClass::Detractor);
        let triage = decision.triage.expect("a detractor opens a case");
        assert!(triage.unhappy);
        assert_eq!(triage.unhappy_reason, "detractor survey, NPS 3");
        assert_eq!(triage.severity, Severity::High);
        assert!(triage.reasons.iter().any(|r| r.contains("detractor survey, NPS 3")), "{:?}", triage.reasons);

        let promoter = classifier.triage_survey(&SurveyInput { score: 10, comment: "Lovely", ..input });
        assert_eq!(promoter, SurveyDecision { class: SurveyClass::Promoter, triage: None });
        let passive = classifier.triage_survey(&SurveyInput { scale: SurveyScale::Csat, score: 3, ..input });
        assert_eq!(passive.class, SurveyClass::Passive);
        assert!(passive.triage.is_none());
    }

    #[test]
    fn low_reviews_open_public_unhappy_cases() {
        let classifier = Classifier::new(ClassifierConfig::default()).expect("defaults compile");
        let review = ReviewInput {
            rating: 1,
            title: "Never again",
            text: "Parcel left in the rain, soaked.",
            tier: CustomerTier::Standard,
            recent_cases: 0,
        };
        let triage = classifier.triage_review(&review).expect("a one-star review opens a case");
        assert!(triage.unhappy);
        assert!(triage.unhappy_reason.starts_with("review rated 1 of 5"), "{}", triage.unhappy_reason);
        assert!(triage.unhappy_reason.contains("public complaint (review site)"), "{}", triage.unhappy_reason);
        assert_eq!(triage.category, "delivery");
        assert_eq!(triage.severity, Severity::High);
        assert!(classifier.triage_review(&ReviewInput { rating: 3, ..review }).is_none());
        assert!(classifier.triage_review(&ReviewInput { rating: 2, ..review }).is_some());
    }
}
