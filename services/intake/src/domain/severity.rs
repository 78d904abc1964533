//! Severity rules: what makes a complaint critical, what raises it and what keeps it low.
//!
//! - Critical: language about a safety risk, an injury, legal action, a regulator or a data
//!   breach, unless a negator comes just before it ("nobody was hurt").
//! - Otherwise the usual complaint is medium; a minor one ("just a small thing", "no rush")
//!   that does not read negative is low.
//! - Each aggravating factor then raises it one level, up to a ceiling (high by default):
//!   significant impact ("elderly", "no heating", "third time"), strongly negative language,
//!   a VIP customer, a repeat complainant, a repeat contact, a public channel, and any
//!   factor the caller adds (a detractor survey, a one-star review).

use super::types::{Channel, CustomerTier, Severity};

/// Phrases that make a complaint critical, under one label ("injury").
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalRule {
    /// What the phrases are about, as reasons show it: "safety risk", "legal action".
    pub label: String,
    /// The phrases, written as in the taxonomy (`*` at either end for longer words).
    pub phrases: Vec<String>,
}

/// A tenant's severity rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityRules {
    /// What makes a complaint critical.
    pub critical: Vec<CriticalRule>,
    /// Phrases of significant impact or vulnerability; any of them raises severity once.
    pub impact: Vec<String>,
    /// Phrases of a minor issue; they make a complaint that does not read negative low.
    pub minor: Vec<String>,
    /// Tiers whose customers raise severity.
    pub raise_tiers: Vec<CustomerTier>,
    /// Public channels, which raise severity and mark the customer unhappy.
    pub public_channels: Vec<Channel>,
    /// How many cases in the window make a repeat complainant.
    pub repeat_threshold: u32,
    /// The window the repeat count covers, in days, as reasons show it.
    pub repeat_window_days: u32,
    /// The highest severity raises can reach; only critical language goes above it.
    pub ceiling: Severity,
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|p| (*p).to_owned()).collect()
}

fn rule(label: &str, phrases: &[&str]) -> CriticalRule {
    CriticalRule { label: label.to_owned(), phrases: owned(phrases) }
}

#[rustfmt::skip]
impl Default for SeverityRules {
    fn default() -> Self {
        SeverityRules {
            critical: vec![
                rule(
                    "safety risk",
                    &[
                        "unsafe", "not safe", "dangerous", "fire hazard", "safety hazard", "safety issue",
                        "safety risk", "caught fire", "on fire", "burst into flames", "in flames", "sparks", "sparking",
                        "sparked", "electric shock", "electrocut*", "explod*", "blew up", "overheat*", "plug melted",
                        "melted plastic", "gas leak", "smell of gas", "gas smell", "smelled gas", "smelt gas",
                        "carbon monoxide", "choking", "choke", "choked", "choking hazard", "swallowed a",
                        "swallowed the", "nearly swallowed", "could have swallowed", "button battery", "piece of glass",
                        "glass in", "shard*", "foreign object", "metal in", "sharp edge*", "wrong medication",
                        "wrong medicine", "wrong dose", "wrong prescription", "mauvais medicament",
                        "medicamento equivocado", "falsches medikament", "food poisoning", "allergic reaction",
                        "anaphyla*", "undeclared allergen*", "dangereux", "dangereuse", "pris feu", "incendie",
                        "etincelle*", "explose", "fuite de gaz", "intoxication", "etouffe", "morceau de verre",
                        "peligroso", "peligrosa", "incendio", "se incendio", "chispas", "exploto", "fuga de gas",
                        "intoxicacion", "trozo de cristal", "atraganto", "gefahrlich*", "in brand", "feuer gefangen",
                        "funken", "explodiert", "gasgeruch", "gasleck", "lebensmittelvergiftung", "vergiftung",
                        "glassplitter", "stromschlag",
                    ],
                ),
                rule(
                    "injury",
                    &[
                        "injur*", "hurt", "burned my", "burnt my", "burned his", "burnt his", "burned her", "burnt her",
                        "got burned", "got burnt", "burns to", "severe burns", "scalded", "bleeding", "stitches",
                        "taken to hospital", "went to hospital", "ended up in hospital", "rushed to hospital",
                        "a and e", "emergency room", "ambulance", "fractur*", "concussion", "cut my", "cut his",
                        "cut her", "slipped and fell", "fell over", "made me ill", "made me sick", "made us ill",
                        "made us sick", "fell ill", "vomit*", "blesse", "blessee", "blessure*", "brule", "brulee",
                        "brulure*", "aux urgences", "a l hopital", "herido", "herida", "lesion", "lesiones",
                        "quemadura*", "se quemo", "me queme", "urgencias", "al hospital", "me hice dano", "verletzt",
                        "verletzung*", "verbrannt", "verbrennung*", "ins krankenhaus", "notaufnahme", "krank geworden",
                    ],
                ),
                rule(
                    "legal action",
                    &[
                        "lawyer*", "solicitor*", "attorney*", "legal action", "legal proceedings", "legal advice",
                        "sue you", "sue your", "sue the", "will sue", "going to sue", "suing", "lawsuit",
                        "take you to court", "see you in court", "small claims", "court", "class action",
                        "letter before action", "police", "avocat", "porter plainte", "deposer plainte", "poursuites",
                        "poursuivre en justice", "tribunal", "action en justice", "abogado*", "demandar", "demandare",
                        "denuncia*", "tribunales", "juzgado", "acciones legales", "via judicial", "anwalt", "anwaltin",
                        "rechtsanwalt*", "klage", "verklagen", "gericht", "rechtliche schritte", "anzeige erstatten",
                        "polizei",
                    ],
                ),
                rule(
                    "regulator",
                    &[
                        "ombudsman", "regulator", "ofcom", "ofgem", "ofwat", "fca", "financial conduct authority",
                        "trading standards", "ico", "information commissioner*", "cma", "citizens advice",
                        "better business bureau", "bbb", "ftc", "cfpb", "attorney general", "watchdog", "cnil",
                        "dgccrf", "mediateur", "ufc que choisir", "arcep", "omic", "oficina del consumidor",
                        "oficina de consumo", "hoja de reclamaciones", "facua", "ocu", "aepd", "defensor del pueblo",
                        "cnmc", "verbraucherzentrale", "bafin", "bundesnetzagentur", "schlichtungsstelle",
                        "datenschutzbehorde", "aufsichtsbehorde", "ombudsstelle",
                    ],
                ),
                rule(
                    "data breach",
                    &[
                        "data breach", "breach of my data", "data leak", "leaked my", "was leaked", "were leaked",
                        "hacked", "account was compromised", "compromised", "another customers details",
                        "another customers personal", "another customers name", "someone elses details",
                        "someone elses personal", "someone elses name", "someone elses address", "someone elses bank",
                        "someone elses account", "identity theft", "fuite de donnees", "piratage", "pirate",
                        "donnees d un autre client", "filtracion de datos", "datos filtrados", "hackeado", "hackearon",
                        "datos de otro cliente", "datenleck", "datenpanne", "gehackt", "daten eines anderen kunden",
                    ],
                ),
            ],
            impact: owned(&[
                "elderly", "vulnerable", "disabled", "disability", "wheelchair", "pregnant", "terminally ill",
                "dementia", "carer", "newborn", "hospital", "no heating", "no heat", "no hot water", "no electricity",
                "no power", "without power", "without heating", "no water", "without water", "out of pocket",
                "overdrawn", "bank charges", "cant afford", "medication", "insulin", "funeral", "third time",
                "3rd time", "fourth time", "fifth time", "for weeks", "for months", "again and again",
                "every single time", "for two weeks", "for three weeks", "for 2 weeks", "for 3 weeks", "for a month",
                "for over a week", "for a whole week", "under gdpr", "subject access request", "right to erasure",
                "right to be forgotten", "accused me of", "accused us of", "humiliat*", "racist", "racism",
                "discriminat*", "personne agee", "handicape*", "enceinte", "sans chauffage", "sans electricite",
                "sans eau chaude", "depuis des semaines", "depuis des mois", "depuis deux semaines",
                "depuis trois semaines", "depuis un mois", "troisieme fois", "medicament*", "persona mayor", "anciano",
                "anciana", "embarazada", "discapacidad", "discapacitad*", "sin calefaccion", "sin luz",
                "sin agua caliente", "desde hace semanas", "desde hace meses", "desde hace dos semanas",
                "desde hace tres semanas", "llevo dos semanas", "llevo tres semanas", "llevo un mes", "llevo semanas",
                "desde hace un mes", "tercera vez", "medicamento*", "rentner*", "schwanger", "behindert*",
                "ohne heizung", "ohne strom", "ohne warmwasser", "seit wochen", "seit monaten", "seit zwei wochen",
                "seit drei wochen", "seit einem monat", "zum dritten mal", "medikament*",
            ]),
            minor: owned(&[
                "minor", "tiny thing", "tiny issue", "tiny problem", "minor thing", "small thing", "small issue",
                "small problem", "little thing", "slight*", "not a big deal", "no big deal", "not urgent", "no rush",
                "no hurry", "just to let you know", "just wanted to let you know", "just letting you know",
                "for your information", "fyi", "suggestion", "cosmetic", "typo*", "a bit", "a little",
                "nothing serious", "not serious", "not a huge problem", "pas grave", "pas urgent", "petit probleme",
                "petit detail", "leger*", "juste pour signaler", "rien de grave", "no es grave", "no es urgente",
                "sin prisa", "pequeno problema", "pequeno detalle", "nada grave", "nicht dringend", "nicht schlimm",
                "kleinigkeit", "kleines problem", "nur zur info", "halb so wild",
            ]),
            raise_tiers: vec![CustomerTier::Vip],
            public_channels: vec![Channel::Social, Channel::ReviewSite],
            repeat_threshold: 2,
            repeat_window_days: 30,
            ceiling: Severity::High,
        }
    }
}

/// What the severity decision looks at.
#[derive(Debug, Clone, Default)]
pub struct SeverityFacts {
    /// Critical language found: (rule label, phrase), not negated.
    pub critical: Vec<(String, String)>,
    /// Impact phrases found.
    pub impact: Vec<String>,
    /// Minor-issue phrases found.
    pub minor: Vec<String>,
    /// Whether the text reads negative.
    pub negative: bool,
    /// When the text reads strongly negative, the words that make it so.
    pub strongly_negative: Option<Vec<String>>,
    /// Raising factors decided elsewhere, in words ("VIP customer", "public channel").
    pub factors: Vec<String>,
}

/// Decides severity from the facts; returns it with its reason in words
/// (`severity high: public channel; repeat complainant, 3 cases in 30 days`).
pub fn decide(rules: &SeverityRules, facts: &SeverityFacts) -> (Severity, String) {
    let mut parts: Vec<String> = Vec::new();
    if !facts.critical.is_empty() {
        let mut labels: Vec<&str> = Vec::new();
        for (label, _) in &facts.critical {
            if !labels.contains(&label.as_str()) {
                labels.push(label);
            }
        }
        for label in labels {
            let found: Vec<&str> =
                facts.critical.iter().filter(|(l, _)| l == label).map(|(_, p)| p.as_str()).take(3).collect();
            parts.push(format!("{label} ({})", quoted(&found)));
        }
        parts.extend(facts.factors.iter().cloned());
        return (Severity::Critical, format!("severity critical: {}", parts.join("; ")));
    }
    let mut severity = Severity::Medium;
    if !facts.minor.is_empty() && !facts.negative && facts.impact.is_empty() {
        severity = Severity::Low;
        parts.push(format!("minor issue ({})", quoted(&facts.minor)));
    }
    let mut raises: Vec<String> = Vec::new();
    if !facts.impact.is_empty() {
        raises.push(format!("significant impact ({})", quoted(&facts.impact)));
    }
    if let Some(words) = &facts.strongly_negative {
        raises.push(if words.is_empty() {
            "strongly negative language".to_owned()
        } else {
            format!("strongly negative language ({})", quoted(words))
        });
    }
    raises.extend(facts.factors.iter().cloned());
    for _ in &raises {
        severity = severity.raised(rules.ceiling);
    }
    parts.extend(raises);
    if parts.is_empty() {
        parts.push("no aggravating factor".to_owned());
    }
    (severity, format!("severity {severity}: {}", parts.join("; ")))
}

/// Up to three phrases, each in double quotes, separated by commas.
pub fn quoted<S: AsRef<str>>(phrases: &[S]) -> String {
    phrases.iter().take(3).map(|p| format!("\"{}\"", p.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_language_wins_and_names_its_kind() {
        let facts = SeverityFacts {
            critical: vec![("injury".into(), "burns".into()), ("legal action".into(), "lawyer".into())],
            factors: vec!["public channel (social media)".into()],
            ..Default::default()
        };
        let (severity, reason) = decide(&SeverityRules::default(), &facts);
        assert_eq!(severity, Severity::Critical);
        assert_eq!(
            reason,
            r#"severity critical: injury ("burns"); legal action ("lawyer"); public channel (social media)"#
        );
    }

    #[test]
    fn factors_raise_one_level_each_up_to_the_ceiling() {
        let rules = SeverityRules::default();
        let (severity, reason) = decide(&rules, &SeverityFacts::default());
        assert_eq!((severity, reason.as_str()), (Severity::Medium, "severity medium: no aggravating factor"));

        let facts = SeverityFacts {
            factors: vec!["public channel (social media)".into(), "repeat complainant, 3 cases in 30 days".into()],
            ..Default::default()
        };
        let (severity, reason) = decide(&rules, &facts);
        assert_eq!(severity, Severity::High);
        assert_eq!(reason, "severity high: public channel (social media); repeat complainant, 3 cases in 30 days");

        let minor = SeverityFacts { minor: vec!["no rush".into()], ..Default::default() };
        assert_eq!(decide(&rules, &minor).0, Severity::Low);
        let minor_but_negative = SeverityFacts { negative: true, ..minor.clone() };
        assert_eq!(decide(&rules, &minor_but_negative).0, Severity::Medium);
        let minor_and_vip = SeverityFacts { factors: vec!["VIP customer".into()], ..minor };
        let (severity, reason) = decide(&rules, &minor_and_vip);
        assert_eq!(severity, Severity::Medium);
        assert_eq!(reason, r#"severity medium: minor issue ("no rush"); VIP customer"#);

        let ceiling = SeverityRules { ceiling: Severity::Critical, ..SeverityRules::default() };
        let many = SeverityFacts { factors: vec!["a".into(), "b".into(), "c".into()], ..Default::default() };
        assert_eq!(decide(&ceiling, &many).0, Severity::Critical);
    }
}
