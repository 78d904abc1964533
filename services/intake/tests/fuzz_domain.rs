//! Normalisation, validation, classification and similarity fuzzed with 100,000 arbitrary
//! inputs: arbitrary Unicode, control characters, combining marks, lexicon words and
//! negators in odd places, and now and then a text of up to 64 KiB; both the single helpers
//! and the whole complaint, survey and review messages the service handles. Nothing may
//! panic, every result must keep its invariants and every call must finish within a bound.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use redress_intake::domain::normalise::{derive_subject, normalise_description, normalise_subject};
use redress_intake::domain::validate::{
    check_description, check_email, check_no_control_chars, check_phone, check_subject,
};
use redress_intake::domain::{
    Channel, Classifier, ClassifierConfig, ComplaintInput, CustomerTier, Fingerprint, ReviewInput, Severity,
    SurveyClass, SurveyInput, SurveyScale, Triage, normalise_complaint, normalise_review, normalise_survey_response,
    validate_complaint, validate_review, validate_survey_response,
};
use redress_proto::common::v1::Customer;
use redress_proto::intake::v1::{Complaint, Review, SurveyResponse};

const CASES: u32 = 100_000;
/// The most one call may take in an unoptimised build, for any input up to 64 KiB.
const BOUND: Duration = Duration::from_millis(50);
const MAX_TEXT: usize = 64 * 1024;

const WORDS: &[&str] = &[
    "not",
    "no",
    "never",
    "n't",
    "don't",
    "happy",
    "problem",
    "at all",
    "never again",
    "very",
    "extremely",
    "a bit",
    "but",
    "parcel",
    "refund*",
    "caught fire",
    "hurt",
    "nobody",
    "lawyer",
    "ombudsman",
    "data breach",
    "colis",
    "jamais",
    "arrivé",
    "n'est",
    "pas",
    "nunca más",
    "nicht",
    "zufrieden",
    "Straße",
    "İ",
    "ß",
    "ǅ",
    "ﬁ",
    "'s",
    "’",
    "…",
    ".",
    "!",
    "?",
    "\u{2028}",
    "\u{feff}",
    "\u{200d}",
    "🔥",
    "👨‍👩‍👧",
    "e\u{301}",
    "\u{301}\u{301}",
    "a\u{20dd}",
];

const SPACES: &[&str] = &[" ", "  ", "\t", "\n", "\r\n", "\u{a0}", "\u{3000}", "'", "-", "*", ",", "\u{2029}"];

/// One piece of text from one random number: a word, a lexicon word, any character, a
/// control character, a combining mark or some spacing. Drawing numbers rather than strings
/// keeps generation cheap enough for 100,000 cases in an unoptimised build, and shrinking
/// still removes pieces one at a time.
fn piece(r: u32, out: &mut String) {
    let v = r >> 4;
    match r % 16 {
        0..=5 => {
            let mut x = v | 1;
            for _ in 0..=(v % 10) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                out.push(char::from(b'a' + (x % 26) as u8));
            }
            out.push(' ');
        }
        6..=9 => {
            out.push_str(WORDS[v as usize % WORDS.len()]);
            out.push(' ');
        }
        10 | 11 => out.push(char::from_u32(v % 0x11_0000).unwrap_or('\u{fffd}')),
        12 => out.push(char::from_u32(if v.is_multiple_of(2) { v % 0x20 } else { 0x7f + v % 0x21 }).unwrap_or('\0')),
        13 => out.push(
            char::from_u32(if v.is_multiple_of(3) { 0x20d0 + v % 0x21 } else { 0x300 + v % 0x70 }).unwrap_or('\u{301}'),
        ),
        14 => out.push_str(SPACES[v as usize % SPACES.len()]),
        _ => {
            out.push_str(&v.to_string());
            out.push_str(if v.is_multiple_of(2) { " ÉTÉ " } else { " PARCEL " });
        }
    }
}

fn build(pieces: &[u32]) -> String {
    let mut out = String::new();
    for r in pieces {
        piece(*r, &mut out);
    }
    out
}

/// A text of `len` bytes or a little less made by repeating `unit`, cut on a character boundary.
fn repeated(unit: &str, len: usize) -> String {
    let unit = if unit.is_empty() { "x" } else { unit };
    let mut s = unit.repeat(len / unit.len() + 1);
    let mut cut = len.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// A subject and a description. One case in 400 has a description repeated to between
/// 4 KiB and 64 KiB.
fn texts() -> impl Strategy<Value = (String, String)> {
    (prop::collection::vec(any::<u32>(), 0..12), prop::collection::vec(any::<u32>(), 0..40), any::<u32>()).prop_map(
        |(subject, description, long)| {
            let description = build(&description);
            let description = if long.is_multiple_of(400) {
                repeated(&description, 4 * 1024 + (long as usize / 400) % (MAX_TEXT - 4 * 1024 + 1))
            } else {
                description
            };
            (build(&subject), description)
        },
    )
}

fn channel() -> impl Strategy<Value = Channel> {
    proptest::sample::select(
        &[
            Channel::Phone,
            Channel::Email,
            Channel::Web,
            Channel::Chat,
            Channel::Social,
            Channel::ReviewSite,
            Channel::Survey,
            Channel::InPerson,
        ][..],
    )
}

fn tier() -> impl Strategy<Value = CustomerTier> {
    proptest::sample::select(&[CustomerTier::Standard, CustomerTier::Gold, CustomerTier::Vip][..])
}

/// Runs `f`, failing when it takes longer than [`BOUND`]. A call over the bound is timed once
/// more and the faster run counts, so that a pause of the machine (other work on the same
/// cores) is not taken for a slow input: a slow input is slow both times.
fn timed<T>(what: &str, input: &str, slowest: &AtomicU64, f: impl Fn() -> T) -> Result<T, TestCaseError> {
    let start = Instant::now();
    let mut out = f();
    let mut took = start.elapsed();
    if took > BOUND {
        let again = Instant::now();
        out = f();
        took = took.min(again.elapsed());
    }
    slowest.fetch_max(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    if took > BOUND {
        return Err(TestCaseError::fail(format!("{what} took {took:?} on {} bytes", input.len())));
    }
    Ok(out)
}

fn check_triage(t: &Triage) -> Result<(), TestCaseError> {
    prop_assert!((0.0..=1.0).contains(&t.category_confidence), "confidence {}", t.category_confidence);
    prop_assert!((-1.0..=1.0).contains(&t.sentiment), "sentiment {}", t.sentiment);
    prop_assert!(!t.category.is_empty());
    prop_assert!(t.reasons.len() >= 3);
    let severity = format!("severity {}", t.severity);
    prop_assert!(t.reasons[1].starts_with(&severity), "{:?}", t.reasons);
    prop_assert_eq!(t.unhappy, !t.unhappy_reason.is_empty());
    if t.severity == Severity::Critical {
        prop_assert!(t.unhappy);
    }
    Ok(())
}

/// A complaint, a survey answer and a review made of the fuzzed texts, handled as the
/// service handles them: whatever validation accepts fits what the case service keeps.
fn whole_messages(
    classifier: &Classifier,
    subject: &str,
    description: &str,
    channel: Channel,
    slowest: &AtomicU64,
) -> Result<(), TestCaseError> {
    let customer = Customer {
        customer_id: subject.chars().take(130).collect(),
        display_name: subject.to_string(),
        email: subject.to_string(),
        ..Customer::default()
    };
    let complaint = Complaint {
        customer: Some(customer.clone()),
        channel: channel.to_proto() as i32,
        subject: subject.to_string(),
        description: description.to_string(),
        tags: vec![subject.to_string()],
        ..Complaint::default()
    };
    let (normalised, valid) = timed("complaint", description, slowest, || {
        let normalised = normalise_complaint(&complaint);
        let valid = validate_complaint(&normalised).is_ok();
        (normalised, valid)
    })?;
    if valid {
        prop_assert!(!normalised.description.trim().is_empty());
        prop_assert!(normalised.description.len() <= 64 * 1024);
        prop_assert!(normalised.subject.chars().count() <= 300);
        let id = normalised.customer.as_ref().map(|c| c.customer_id.chars().count()).unwrap_or_default();
        prop_assert!(id <= 128);
    }
    let score = i32::try_from(description.len() % 13).unwrap_or_default() - 1;
    let survey = normalise_survey_response(&SurveyResponse {
        customer: Some(customer.clone()),
        scale: if score % 2 == 0 { 1 } else { 2 },
        score,
        comment: description.to_string(),
        ..SurveyResponse::default()
    });
    if validate_survey_response(&survey).is_ok() {
        let scale = SurveyScale::from_proto(survey.scale).ok_or_else(|| TestCaseError::fail("scale"))?;
        let input = SurveyInput {
            scale,
            score: survey.score,
            comment: &survey.comment,
            tier: CustomerTier::Standard,
            recent_cases: 0,
        };
        let decision = timed("survey", description, slowest, || classifier.triage_survey(&input))?;
        prop_assert_eq!(decision.triage.is_some(), decision.class == SurveyClass::Detractor);
        if let Some(triage) = &decision.triage {
            check_triage(triage)?;
            prop_assert!(triage.unhappy);
        }
    }
    let review = normalise_review(&Review {
        platform: "trustpilot".into(),
        rating: score,
        title: subject.to_string(),
        text: description.to_string(),
        customer: Some(customer),
        ..Review::default()
    });
    if validate_review(&review).is_ok() {
        let input = ReviewInput {
            rating: review.rating,
            title: &review.title,
            text: &review.text,
            tier: CustomerTier::Standard,
            recent_cases: 0,
        };
        match timed("review", description, slowest, || classifier.triage_review(&input))? {
            Some(triage) => {
                check_triage(&triage)?;
                prop_assert!(review.rating <= 2 && triage.unhappy);
            }
            None => prop_assert!(review.rating > 2),
        }
    }
    Ok(())
}

#[test]
fn normalisation_and_classification_never_panic_and_stay_fast() {
    let classifier = Classifier::new(ClassifierConfig::default()).expect("the default configuration compiles");
    let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let ran = AtomicUsize::new(0);
    let longest = AtomicUsize::new(0);
    let slowest = AtomicU64::new(0);
    let started = Instant::now();
    let strategy = (texts(), channel(), tier(), 0u32..6, any::<bool>(), any::<bool>());
    let result = runner.run(&strategy, |((subject, description), channel, tier, recent_cases, repeat_contact, raw)| {
        ran.fetch_add(1, Ordering::Relaxed);
        longest.fetch_max(description.len(), Ordering::Relaxed);
        let s = &slowest;

        let normalised_subject = timed("normalise_subject", &subject, s, || normalise_subject(&subject))?;
        prop_assert_eq!(normalised_subject.trim(), normalised_subject.as_str());
        prop_assert!(!normalised_subject.contains("  "));
        prop_assert!(!normalised_subject.contains('\n'));

        let normalised = timed("normalise_description", &description, s, || normalise_description(&description))?;
        prop_assert_eq!(normalised.trim(), normalised.as_str());

        let derived = timed("derive_subject", &description, s, || derive_subject(&description))?;
        prop_assert!(derived.chars().count() <= 300, "derived subject of {} characters", derived.chars().count());
        prop_assert!(!derived.contains('\n'));

        timed("checks", &description, s, || {
            let _ = check_email(&subject);
            let _ = check_phone(&subject);
            let _ = check_subject(&subject);
            let _ = check_description(&description);
            let _ = check_no_control_chars(&description);
        })?;

        // Half the cases classify the text as submitted, half as normalised.
        let input = if raw {
            ComplaintInput::new(channel, &subject, &description)
        } else {
            ComplaintInput::new(channel, &normalised_subject, &normalised)
        };
        let input = ComplaintInput { tier, recent_cases, repeat_contact, ..input };
        let triage = timed("classify", &description, s, || classifier.classify(&input))?;
        check_triage(&triage)?;

        let (sim, same) = timed("similarity", &description, s, || {
            let fingerprint = Fingerprint::new(&description);
            (Fingerprint::new(&subject).similarity(&fingerprint), fingerprint.similarity(&fingerprint))
        })?;
        prop_assert!((0.0..=1.0).contains(&sim), "similarity {}", sim);
        prop_assert!((same - 1.0).abs() < 1e-9, "self-similarity {}", same);

        // The whole messages the service handles: normalised, validated, and the surveys and
        // reviews they carry triaged.
        whole_messages(&classifier, &subject, &description, channel, s)?;
        Ok(())
    });
    let elapsed = started.elapsed();
    println!(
        "fuzzed {} cases in {:.1} s; longest description {} bytes; slowest single call {:?}",
        ran.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        longest.load(Ordering::Relaxed),
        Duration::from_nanos(slowest.load(Ordering::Relaxed))
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(ran.load(Ordering::Relaxed) >= CASES as usize);
}
