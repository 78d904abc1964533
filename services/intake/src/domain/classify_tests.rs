use super::*;
use crate::domain::taxonomy::{Category, Phrase};

fn classifier() -> Classifier {
    Classifier::new(ClassifierConfig::default()).expect("the defaults compile")
}

fn triage(channel: Channel, text: &str) -> Triage {
    classifier().classify(&ComplaintInput::new(channel, "", text))
}

#[test]
fn reasons_read_as_a_supervisor_would_write_them() {
    let input = ComplaintInput {
        recent_cases: 3,
        ..ComplaintInput::new(Channel::Social, "", "My parcel never arrived and nobody replies.")
    };
    let t = classifier().classify(&input);
    assert_eq!(t.category, "delivery");
    assert_eq!(t.severity, Severity::High);
    assert!(t.reasons[0].starts_with("category delivery (confidence 0."), "{}", t.reasons[0]);
    assert!(t.reasons[0].contains("\"never arrived\""), "{}", t.reasons[0]);
    assert!(t.reasons[0].contains("\"parcel\""), "{}", t.reasons[0]);
    assert_eq!(t.reasons[1], "severity high: repeat complainant, 3 cases in 30 days; public channel (social media)");
    assert!(t.reasons[2].starts_with("sentiment "), "{}", t.reasons[2]);
    assert!(t.unhappy);
    assert_eq!(t.unhappy_reason, "public complaint (social media)");
    assert_eq!(t.reasons.last().map(String::as_str), Some("unhappy: public complaint (social media)"));
    assert!((0.0..=1.0).contains(&t.category_confidence));
}

#[test]
fn critical_language_in_any_language() {
    for (text, kind) in [
        ("The charger caught fire overnight.", "safety risk"),
        ("My daughter burned her hand on the kettle lid and we went to A&E.", "injury"),
        ("If this is not refunded I will be speaking to my solicitor.", "legal action"),
        ("I have complained to the Financial Ombudsman.", "regulator"),
        ("You sent me another customer's details, this is a data breach.", "data breach"),
        ("Le chargeur a pris feu dans la cuisine.", "safety risk"),
        ("Voy a contactar con mi abogado.", "legal action"),
        ("Mein Sohn wurde verletzt.", "injury"),
    ] {
        let t = triage(Channel::Email, text);
        assert_eq!(t.severity, Severity::Critical, "{text}: {:?}", t.reasons);
        assert!(t.reasons[1].contains(kind), "{text}: {}", t.reasons[1]);
        assert!(t.unhappy && t.unhappy_reason.contains("critical severity"), "{text}");
    }
}

#[test]
fn negated_critical_language_is_not_critical() {
    for text in [
        "Nobody was hurt, but the box was crushed.",
        "It is not dangerous, just ugly.",
        "No one was injured. The parcel was just late.",
    ] {
        let t = triage(Channel::Web, text);
        assert_ne!(t.severity, Severity::Critical, "{text}: {:?}", t.reasons);
    }
    // The same phrase, negated once and stated once, is critical.
    let t = triage(Channel::Web, "Nobody was hurt the first time. This time my son got hurt.");
    assert_eq!(t.severity, Severity::Critical, "{:?}", t.reasons);
}

#[test]
fn sentiment_negation_shapes_severity_and_unhappiness() {
    let fine = triage(Channel::Chat, "No problem at all with the staff, but my refund has not come through yet.");
    assert!(!fine.unhappy, "{:?}", fine.reasons);
    assert_eq!(fine.severity, Severity::Medium);

    let furious = triage(Channel::Chat, "Absolutely disgusted with this refund saga. Never again, worst company ever.");
    assert!(furious.unhappy, "{:?}", furious.reasons);
    assert!(furious.unhappy_reason.starts_with("strongly negative language"), "{}", furious.unhappy_reason);
    assert_eq!(furious.severity, Severity::High);
    assert!(furious.sentiment < -0.6);

    let not_happy = triage(Channel::Email, "I am not happy with my bill.");
    assert!(not_happy.reasons[2].starts_with("sentiment negative"), "{}", not_happy.reasons[2]);
    assert!(not_happy.reasons[2].contains("\"not happy\""), "{}", not_happy.reasons[2]);
}

#[test]
fn minor_issues_are_low_unless_negated() {
    let t = triage(Channel::Web, "Just a minor thing: there is a typo on your invoice. No rush.");
    assert_eq!(t.severity, Severity::Low, "{:?}", t.reasons);
    assert!(t.reasons[1].starts_with("severity low: minor issue"), "{}", t.reasons[1]);
    let t = triage(Channel::Web, "This is not a minor issue: my invoice is wrong again.");
    assert_eq!(t.severity, Severity::Medium, "{:?}", t.reasons);
}

#[test]
fn vip_repeat_and_repeat_contact_each_raise() {
    let c = classifier();
    let base = ComplaintInput::new(Channel::Email, "Wrong invoice", "My invoice shows a fee I never agreed to.");
    assert_eq!(c.classify(&base).severity, Severity::Medium);
    let vip = c.classify(&ComplaintInput { tier: CustomerTier::Vip, ..base });
    assert_eq!(vip.severity, Severity::High);
    assert!(vip.reasons[1].contains("VIP customer"), "{}", vip.reasons[1]);
    assert_eq!(c.classify(&ComplaintInput { tier: CustomerTier::Gold, ..base }).severity, Severity::Medium);
    assert_eq!(c.classify(&ComplaintInput { recent_cases: 1, ..base }).severity, Severity::Medium);
    assert_eq!(c.classify(&ComplaintInput { recent_cases: 2, ..base }).severity, Severity::High);
    let again = c.classify(&ComplaintInput { repeat_contact: true, ..base });
    assert_eq!(again.severity, Severity::High);
    assert!(again.reasons[1].contains("repeat contact"), "{}", again.reasons[1]);
}

#[test]
fn nothing_recognisable_is_other() {
    let t = triage(Channel::Phone, "Hello, I called earlier about the thing we discussed.");
    assert_eq!(t.category, "other");
    assert!(t.reasons[0].starts_with("category other (confidence"), "{}", t.reasons[0]);
    let t = triage(Channel::Phone, "");
    assert_eq!((t.category.as_str(), t.category_confidence, t.severity), ("other", 0.5, Severity::Medium));
}

#[test]
fn tenants_configure_their_own_taxonomy_and_rules() {
    let mut config = ClassifierConfig::default();
    config.taxonomy.categories.insert(
        0,
        Category {
            id: "loyalty".into(),
            label: "loyalty programme".into(),
            phrases: vec![
                Phrase { text: "points".into(), weight: 2.0 },
                Phrase { text: "*punkte".into(), weight: 2.0 },
            ],
        },
    );
    config.severity.repeat_threshold = 5;
    config.severity.raise_tiers.push(CustomerTier::Gold);
    let c = Classifier::new(config).expect("compiles");
    let input = ComplaintInput {
        tier: CustomerTier::Gold,
        recent_cases: 3,
        ..ComplaintInput::new(Channel::Web, "", "My points were never added. Wo sind meine Bonuspunkte?")
    };
    let t = c.classify(&input);
    assert_eq!(t.category, "loyalty");
    assert!(t.reasons[0].starts_with("category loyalty programme"), "{}", t.reasons[0]);
    assert_eq!(t.reasons[1], "severity high: gold customer");
}

#[test]
fn bad_configurations_name_their_key() {
    let mut config = ClassifierConfig::default();
    config.taxonomy.categories[1].phrases.push(Phrase { text: " * ".into(), weight: 1.0 });
    assert_eq!(Classifier::new(config).map(drop).unwrap_err().key, "taxonomy.categories[1].phrases");

    let mut config = ClassifierConfig::default();
    config.taxonomy.categories[0].phrases.push(Phrase { text: "x".into(), weight: -1.0 });
    assert!(Classifier::new(config).is_err());

    let mut config = ClassifierConfig::default();
    config.taxonomy.categories[2].id = config.taxonomy.categories[0].id.clone();
    assert_eq!(Classifier::new(config).map(drop).unwrap_err().key, "taxonomy.categories[2].id");

    let config = ClassifierConfig { review_unhappy_max_rating: 0, ..ClassifierConfig::default() };
    assert!(Classifier::new(config).is_err());

    let mut config = ClassifierConfig::default();
    config.severity.repeat_threshold = 0;
    let err = Classifier::new(config).map(drop).unwrap_err();
    assert_eq!(err.to_string(), "severity.repeat_threshold: must be at least 1");
}

#[test]
fn triage_maps_onto_the_contract() {
    let t = triage(Channel::Social, "The app will not let me log in. Useless, absolutely useless!");
    let p = proto::Triage::from(t.clone());
    assert_eq!(p.category, t.category);
    assert_eq!(p.category_confidence, t.category_confidence);
    assert_eq!(p.severity, proto::Severity::High as i32);
    assert_eq!((p.unhappy, &p.unhappy_reason, &p.reasons), (t.unhappy, &t.unhappy_reason, &t.reasons));
}

#[test]
fn complaint_messages_convert_to_input() {
    let complaint = Complaint {
        channel: 5,
        subject: "Late".into(),
        description: "Parcel late".into(),
        customer: Some(proto::Customer { tier: 3, ..Default::default() }),
        ..Default::default()
    };
    let input = ComplaintInput::from_complaint(&complaint).expect("a known channel");
    assert_eq!((input.channel, input.tier, input.subject), (Channel::Social, CustomerTier::Vip, "Late"));
    assert!(ComplaintInput::from_complaint(&Complaint { channel: 42, ..complaint }).is_none());
}

#[test]
fn a_classifier_is_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Classifier>();
}
