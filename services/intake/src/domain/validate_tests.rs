use super::*;
use redress_proto::case::v1::Attachment;
use redress_proto::common::v1::Customer;

fn attachment(i: usize) -> Attachment {
    Attachment {
        uri: format!("https://files.example.com/{i}.jpg"),
        media_type: "image/jpeg".into(),
        size_bytes: 1024,
        filename: format!("photo-{i}.jpg"),
    }
}

fn complaint() -> Complaint {
    Complaint {
        customer: Some(Customer {
            customer_id: "C-1001".into(),
            display_name: "Ana Silva".into(),
            email: "ana@example.com".into(),
            phone: "+447700900123".into(),
            tier: 3,
            locale: "pt-BR".into(),
        }),
        channel: 2,
        subject: "Parcel never arrived".into(),
        description: "My parcel never arrived.\r\n\tOrder 5521.".into(),
        attachments: vec![attachment(0)],
        tags: vec!["delivery".into()],
        ..Default::default()
    }
}

fn fields(result: Result<(), Vec<Violation>>) -> Vec<String> {
    result.err().unwrap_or_default().into_iter().map(|v| v.field).collect()
}

fn only(result: Result<(), Vec<Violation>>) -> Violation {
    let violations = result.err().unwrap_or_default();
    assert_eq!(violations.len(), 1, "{violations:?}");
    violations.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn a_good_complaint_passes() {
    assert_eq!(validate_complaint(&complaint()), Ok(()));
}

#[test]
fn emails() {
    for good in ["ana@example.com", "a.b+c@mail.example.co.uk", "josé@exämple.de"] {
        assert_eq!(check_email(good), Ok(()), "{good}");
    }
    for bad in ["", "ana", "ana@", "@example.com", "ana@example", "a na@example.com", "ana@@example.com", "ana@.com"] {
        assert!(check_email(bad).is_err(), "{bad}");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert_eq!(check_email(&long), Err("at most 254 characters".into()));
    let mut c = complaint();
    c.customer.get_or_insert_default().email = "ana at example.com".into();
    let v = only(validate_complaint(&c));
    assert_eq!(v.field, "complaint.customer.email");
    assert!(v.description.starts_with("not an email address"), "{}", v.description);
}

#[test]
fn phones_are_e164() {
    assert_eq!(check_phone("+447700900123"), Ok(()));
    assert_eq!(check_phone("+12025550123"), Ok(()));
    for bad in ["447700900123", "+0447700900", "+44 7700 900123", "+1234567", "+1234567890123456", "+44-7700", ""] {
        assert!(check_phone(bad).is_err(), "{bad}");
    }
    let mut c = complaint();
    c.customer.get_or_insert_default().phone = "07700 900123".into();
    assert_eq!(fields(validate_complaint(&c)), ["complaint.customer.phone"]);
}

#[test]
fn the_customer_must_be_identified() {
    let mut c = complaint();
    c.customer = Some(Customer { display_name: "Ana".into(), ..Default::default() });
    let v = only(validate_complaint(&c));
    assert_eq!(v.field, "complaint.customer");
    c.customer = None;
    assert_eq!(fields(validate_complaint(&c)), ["complaint.customer"]);
    c.customer = Some(Customer { phone: "+33612345678".into(), ..Default::default() });
    assert_eq!(validate_complaint(&c), Ok(()));
}

#[test]
fn subjects_are_at_most_300_characters_as_stored() {
    assert_eq!(check_subject(&"é".repeat(300)), Ok(()));
    assert_eq!(check_subject(&"é".repeat(301)), Err("at most 300 characters, got 301".into()));
    // Whitespace collapses before the subject is stored, so it does not count.
    let spaced = format!("  {}  ", "ab     ".repeat(75));
    assert_eq!(check_subject(&spaced), Ok(()));
    let mut c = complaint();
    c.subject = "x".repeat(301);
    assert_eq!(fields(validate_complaint(&c)), ["complaint.subject"]);
}

#[test]
fn descriptions_are_required_and_at_most_64_kib() {
    assert!(check_description("").is_err());
    assert!(check_description(" \n\t ").is_err());
    assert_eq!(check_description(&"a".repeat(64 * 1024)), Ok(()));
    let mut c = complaint();
    c.description = "a".repeat(70 * 1024);
    let v = only(validate_complaint(&c));
    assert_eq!(v.field, "complaint.description");
    assert_eq!(v.description, "at most 65536 bytes (64 KiB), got 71680 bytes");
    c.description = String::new();
    let v = only(validate_complaint(&c));
    assert!(v.description.starts_with("required"), "{}", v.description);
    // Bytes, not characters: 22,000 three-byte characters are 66,000 bytes.
    assert!(check_description(&"€".repeat(22_000)).is_err());
}

#[test]
fn control_characters_are_refused_except_tab_cr_and_lf() {
    assert_eq!(check_no_control_chars("line one\r\n\tline two"), Ok(()));
    let err = check_no_control_chars("bell\u{7}here").unwrap_err();
    assert!(err.contains("U+0007 at character 4"), "{err}");
    assert!(check_no_control_chars("nul\0").is_err());
    assert!(check_no_control_chars("c1\u{85}").is_err());
    let mut c = complaint();
    c.description = "It broke\u{1b}[31m".into();
    c.subject = "Broken\u{0}".into();
    assert_eq!(fields(validate_complaint(&c)), ["complaint.subject", "complaint.description"]);
}

#[test]
fn attachments_are_at_most_20_and_each_well_formed() {
    let mut c = complaint();
    c.attachments = (0..21).map(attachment).collect();
    let v = only(validate_complaint(&c));
    assert_eq!((v.field.as_str(), v.description.as_str()), ("complaint.attachments", "at most 20 attachments, got 21"));
    c.attachments = (0..20).map(attachment).collect();
    assert_eq!(validate_complaint(&c), Ok(()));
    c.attachments[3].uri = "files/abc.jpg".into();
    c.attachments[4].media_type = "jpeg".into();
    c.attachments[5].size_bytes = -1;
    c.attachments[6].uri = String::new();
    assert_eq!(
        fields(validate_complaint(&c)),
        [
            "complaint.attachments[3].uri",
            "complaint.attachments[4].media_type",
            "complaint.attachments[5].size_bytes",
            "complaint.attachments[6].uri"
        ]
    );
    assert_eq!(check_uri("s3://bucket/key"), Ok(()));
    assert_eq!(check_uri("urn:isbn:0451450523"), Ok(()));
    for bad in ["https://a b", "://x", "1http://x", "mailto:", "no-scheme"] {
        assert!(check_uri(bad).is_err(), "{bad}");
    }
    for good in ["image/jpeg", "application/vnd.ms-excel", "text/plain; charset=utf-8", "audio/x-wav"] {
        assert_eq!(check_media_type(good), Ok(()), "{good}");
    }
    for bad in ["", "image", "image/", "/jpeg", "image/jp eg", "ima ge/jpeg"] {
        assert!(check_media_type(bad).is_err(), "{bad}");
    }
    assert_eq!(check_size_bytes(0), Ok(()));
}

#[test]
fn channels_are_complaint_channels() {
    for channel in Channel::COMPLAINT_CHANNELS {
        assert_eq!(check_complaint_channel(channel.to_proto() as i32), Ok(channel));
    }
    assert_eq!(check_complaint_channel(1), Ok(Channel::Phone));
    assert_eq!(check_complaint_channel(8), Ok(Channel::InPerson));
    assert!(check_complaint_channel(0).unwrap_err().starts_with("required"));
    assert!(check_complaint_channel(6).unwrap_err().contains("SubmitReview"));
    assert!(check_complaint_channel(7).unwrap_err().contains("SubmitSurveyResponse"));
    assert_eq!(check_complaint_channel(99), Err("unknown value 99".into()));
    assert_eq!(check_complaint_channel(-3), Err("unknown value -3".into()));
    let mut c = complaint();
    c.channel = 99;
    let v = only(validate_complaint(&c));
    assert_eq!((v.field.as_str(), v.description.as_str()), ("complaint.channel", "unknown value 99"));
    c.channel = 2;
    c.customer.get_or_insert_default().tier = 99;
    let v = only(validate_complaint(&c));
    assert_eq!((v.field.as_str(), v.description.as_str()), ("complaint.customer.tier", "unknown value 99"));
}

#[test]
fn every_violation_is_collected() {
    let c = Complaint {
        customer: Some(Customer {
            email: "bad".into(),
            phone: "123".into(),
            locale: "not a locale".into(),
            ..Default::default()
        }),
        channel: 0,
        subject: "s".repeat(400),
        description: String::new(),
        attachments: (0..21).map(|_| Attachment::default()).collect(),
        tags: vec!["t".repeat(65)],
        ..Default::default()
    };
    let found = fields(validate_complaint(&c));
    for field in [
        "complaint.customer.email",
        "complaint.customer.phone",
        "complaint.customer.locale",
        "complaint.channel",
        "complaint.subject",
        "complaint.description",
        "complaint.attachments",
        "complaint.attachments[20].uri",
        "complaint.attachments[20].media_type",
        "complaint.tags[0]",
    ] {
        assert!(found.iter().any(|f| f == field), "{field} missing from {found:?}");
    }
}

#[test]
fn survey_scores_fit_their_scale() {
    assert_eq!(check_csat(1), Ok(()));
    assert_eq!(check_csat(5), Ok(()));
    assert_eq!(check_csat(0), Err("CSAT score must be 1 to 5, got 0".into()));
    assert_eq!(check_nps(0), Ok(()));
    assert_eq!(check_nps(10), Ok(()));
    assert_eq!(check_nps(11), Err("NPS score must be 0 to 10, got 11".into()));
    let survey = SurveyResponse { scale: 2, score: 11, comment: "meh".into(), ..Default::default() };
    let v = only(validate_survey_response(&survey));
    assert_eq!(
        (v.field.as_str(), v.description.as_str()),
        ("survey_response.score", "NPS score must be 0 to 10, got 11")
    );
    assert_eq!(validate_survey_response(&SurveyResponse { score: 3, ..survey.clone() }), Ok(()));
    let v = only(validate_survey_response(&SurveyResponse { scale: 0, ..survey.clone() }));
    assert_eq!(v.field, "survey_response.scale");
    let v = only(validate_survey_response(&SurveyResponse { scale: 99, ..survey.clone() }));
    assert_eq!((v.field.as_str(), v.description.as_str()), ("survey_response.scale", "unknown value 99"));
    let customer = Customer { email: "x@".into(), ..Default::default() };
    let bad_email = SurveyResponse { customer: Some(customer), score: 3, ..survey };
    assert_eq!(fields(validate_survey_response(&bad_email)), ["survey_response.customer.email"]);
}

#[test]
fn reviews_are_rated_1_to_5_on_a_named_platform() {
    let review = Review {
        platform: "trustpilot".into(),
        url: "https://www.trustpilot.com/reviews/1".into(),
        rating: 1,
        text: "Never again.".into(),
        ..Default::default()
    };
    assert_eq!(validate_review(&review), Ok(()));
    let v = only(validate_review(&Review { rating: 7, ..review.clone() }));
    assert_eq!((v.field.as_str(), v.description.as_str()), ("review.rating", "rating must be 1 to 5, got 7"));
    let v = only(validate_review(&Review { rating: 0, ..review.clone() }));
    assert!(v.description.starts_with("required"));
    assert_eq!(fields(validate_review(&Review { platform: " ".into(), ..review.clone() })), ["review.platform"]);
    assert_eq!(fields(validate_review(&Review { url: "www.example.com".into(), ..review.clone() })), ["review.url"]);
    let long = Review { text: "x".repeat(MAX_DESCRIPTION_BYTES + 1), ..review };
    assert_eq!(fields(validate_review(&long)), ["review.text"]);
}

#[test]
fn locales_are_bcp47_shaped() {
    for good in ["fr", "fr-CA", "zh-Hant-TW", "es-419"] {
        assert_eq!(check_locale(good), Ok(()), "{good}");
    }
    for bad in ["", "fr_CA", "-fr", "fr-", "123", "fr-CA-toolongsubtag"] {
        assert!(check_locale(bad).is_err(), "{bad}");
    }
}

#[test]
fn violations_read_field_colon_description() {
    let v = Violation { field: "review.rating".into(), description: "rating must be 1 to 5, got 7".into() };
    assert_eq!(v.to_string(), "review.rating: rating must be 1 to 5, got 7");
}
