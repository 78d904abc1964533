use super::*;

fn lexicon() -> SentimentLexicon {
    SentimentLexicon::new(&SentimentConfig::default()).expect("the default lexicon compiles")
}

fn tone(text: &str) -> Tone {
    lexicon().analyse(text).tone
}

#[test]
fn negation_turns_what_follows() {
    let lex = lexicon();
    let not_happy = lex.analyse("I am not happy with this.");
    assert!(not_happy.score < 0.0, "{not_happy:?}");
    assert_eq!(not_happy.negative, ["not happy"]);
    assert_eq!(tone("I'm not at all happy"), Tone::Negative);
    assert_eq!(tone("The driver didn't seem happy either"), Tone::Negative);
    assert!(lex.analyse("It is not bad").score > 0.0);
    // The negation stops at the end of the sentence.
    assert!(lex.analyse("Not today. I am happy").score > 0.0);
    // French, Spanish and German negation.
    assert_eq!(tone("Je ne suis pas content du tout"), Tone::Negative);
    assert_eq!(tone("No estoy contento"), Tone::Negative);
    assert_eq!(tone("Ich bin nicht zufrieden"), Tone::Negative);
}

#[test]
fn phrases_are_read_before_their_words() {
    let lex = lexicon();
    let fine = lex.analyse("No problem at all with the product");
    assert!(fine.score > 0.0 && fine.tone != Tone::Negative, "{fine:?}");
    let never = lex.analyse("Never again.");
    assert!(never.score < -0.6, "{never:?}");
    assert_eq!(never.tone, Tone::StronglyNegative);
    assert_eq!(never.negative, ["never again"]);
    assert_eq!(tone("plus jamais"), Tone::StronglyNegative);
    assert_eq!(tone("¡Nunca más!"), Tone::StronglyNegative);
    assert_eq!(tone("Nie wieder!"), Tone::StronglyNegative);
}

#[test]
fn modifiers_strengthen_and_soften() {
    let lex = lexicon();
    let plain = lex.analyse("disappointed").score;
    let very = lex.analyse("extremely disappointed");
    let little = lex.analyse("a little disappointed").score;
    assert!(very.score < plain && plain < little && little < 0.0, "{} {plain} {little}", very.score);
    assert_eq!(very.negative, ["extremely disappointed"]);
    assert_eq!(tone("Absolutely disgusted, worst service ever"), Tone::StronglyNegative);
    assert_eq!(tone("a bit annoying"), Tone::Neutral);
}

#[test]
fn what_follows_but_counts_more() {
    let lex = lexicon();
    let turned = lex.analyse("The staff were lovely but the food was terrible");
    assert!(turned.score < 0.0, "{turned:?}");
    let kind = lex.analyse("The food was bad but the staff were great");
    assert!(kind.score > 0.0, "{kind:?}");
}

#[test]
fn plain_text_is_neutral() {
    let s = lexicon().analyse("Order 1234 was placed on Monday.");
    assert_eq!((s.score, s.tone), (0.0, Tone::Neutral));
    assert!(s.evidence().is_empty());
    assert_eq!(lexicon().analyse("").tone, Tone::Neutral);
}

#[test]
fn bad_configurations_are_refused() {
    let mut config = SentimentConfig::default();
    config.terms.push(("   ".into(), -1.0));
    assert_eq!(SentimentLexicon::new(&config).map(drop).unwrap_err().key, "sentiment.terms");

    let mut config = SentimentConfig::default();
    config.terms.push(("awful".into(), f64::NAN));
    assert!(SentimentLexicon::new(&config).is_err());

    let mut config = SentimentConfig::default();
    config.negators.push("not at".into());
    assert_eq!(SentimentLexicon::new(&config).map(drop).unwrap_err().key, "sentiment.negators");

    let config = SentimentConfig { negative_threshold: -0.7, ..SentimentConfig::default() };
    assert!(SentimentLexicon::new(&config).is_err());
}
