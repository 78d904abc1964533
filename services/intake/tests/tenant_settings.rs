//! Classification configured per tenant through GetClassificationSettings and
//! UpdateClassificationSettings, on PostgreSQL with Redis and on SQLite without: a tenant's
//! own taxonomy, public channels and survey and review thresholds change how its
//! submissions are classified and leave another tenant's on the defaults; a change made on
//! one replica reaches another within the refresh interval; bad settings are refused naming
//! the field and change nothing.

mod support;

use std::time::{Duration, Instant};

use prost_types::FieldMask;
use redress_proto::case::v1::SurveyScale;
use redress_proto::common::v1::Channel;
use redress_proto::intake::v1::*;
use redress_testkit::{Backend, assert_invalid, listener, on_both_backends};
use support::{Intake, Stack, complaint, customer, request_id, start_intake, wait_serving};
use tonic::{Code, Request, Status};

on_both_backends!(
    each_tenant_classifies_by_its_own_settings,
    a_change_reaches_every_replica,
    bad_settings_are_refused_naming_the_field
);

fn req<T>(tenant: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-redress-tenant", tenant.parse().expect("tenant"));
    request.metadata_mut().insert("x-redress-actor", "admin-1".parse().expect("actor"));
    request.metadata_mut().insert("x-redress-roles", "admin".parse().expect("roles"));
    request
}

fn name(tenant: &str) -> String {
    format!("tenants/{tenant}/classificationSettings")
}

async fn get(intake: &mut Intake) -> ClassificationSettings {
    let request = req(&intake.tenant, GetClassificationSettingsRequest { name: name(&intake.tenant) });
    intake
        .inner
        .get_classification_settings(request)
        .await
        .expect("get")
        .into_inner()
        .classification_settings
        .expect("settings")
}

async fn update(
    intake: &mut Intake,
    settings: ClassificationSettings,
    paths: &[&str],
) -> Result<ClassificationSettings, Status> {
    let request = UpdateClassificationSettingsRequest {
        classification_settings: Some(ClassificationSettings { name: name(&intake.tenant), ..settings }),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    };
    let request = req(&intake.tenant, request);
    intake
        .inner
        .update_classification_settings(request)
        .await
        .map(|r| r.into_inner().classification_settings.expect("settings"))
}

fn roaming() -> Vec<TaxonomyCategory> {
    vec![
        TaxonomyCategory {
            id: "roaming".into(),
            label: "roaming charges".into(),
            phrases: vec![
                TaxonomyPhrase { text: "roaming".into(), weight: 2.0 },
                TaxonomyPhrase { text: "abroad".into(), weight: 1.0 },
            ],
        },
        TaxonomyCategory {
            id: "coverage".into(),
            label: "network coverage".into(),
            phrases: vec![TaxonomyPhrase { text: "no signal".into(), weight: 2.0 }],
        },
    ]
}

const ROAMING: &str = "I was charged roaming fees while abroad even though my plan includes Europe.";

fn nps(score: i32, id: &str) -> SurveyResponse {
    SurveyResponse {
        customer: Some(customer(id)),
        scale: SurveyScale::Nps as i32,
        score,
        comment: "It was fine I suppose".into(),
        ..SurveyResponse::default()
    }
}

fn review(rating: i32) -> Review {
    Review {
        platform: "trustpilot".into(),
        url: "https://www.trustpilot.com/reviews/1".into(),
        rating,
        text: "Average service, slow to answer the phone.".into(),
        author_handle: "sam_k".into(),
        external_reference: request_id(),
        ..Review::default()
    }
}

async fn each_tenant_classifies_by_its_own_settings(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut acme = stack.intake_client("acme").await;
    let mut globex = stack.intake_client("globex").await;

    // Nothing set yet: the defaults, with nothing listed as the tenant's own.
    let defaults = get(&mut acme).await;
    assert_eq!(defaults.name, "tenants/acme/classificationSettings");
    let ids: Vec<&str> = defaults.categories.iter().map(|c| c.id.as_str()).collect();
    for expected in
        ["billing", "delivery", "product_quality", "service", "staff_behaviour", "technical", "privacy", "safety"]
    {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    assert_eq!(
        (defaults.csat_detractor_max, defaults.nps_detractor_max, defaults.review_unhappy_max_rating),
        (2, 6, 2)
    );
    assert_eq!(defaults.public_channels, [Channel::Social as i32, Channel::ReviewSite as i32]);
    assert!(defaults.tenant_fields.is_empty() && defaults.update_time.is_none(), "{defaults:?}");

    // Acme, a mobile operator: its own categories, no public channels, stricter detractors
    // and a lower bar for reviews.
    let changed = ClassificationSettings {
        categories: roaming(),
        public_channels: vec![],
        nps_detractor_max: 7,
        nps_promoter_min: 9,
        review_unhappy_max_rating: 3,
        ..ClassificationSettings::default()
    };
    let paths = ["categories", "public_channels", "nps_detractor_max", "review_unhappy_max_rating"];
    let saved = update(&mut acme, changed, &paths).await.expect("update");
    assert_eq!(saved.tenant_fields, paths);
    assert!(saved.update_time.is_some());
    assert_eq!(saved.categories, roaming());
    assert_eq!((saved.nps_detractor_max, saved.nps_promoter_min, saved.csat_detractor_max), (7, 9, 2));
    assert_eq!(get(&mut acme).await, saved);
    // Globex is untouched.
    assert!(get(&mut globex).await.tenant_fields.is_empty());

    // The same complaint: acme files it under its own category, globex under the defaults.
    let mine = acme.complaint(complaint("c-1", Channel::Email, ROAMING), &request_id()).await.expect("acme");
    let triage = mine.triage.expect("triage");
    assert_eq!(triage.category, "roaming", "{triage:?}");
    assert!(triage.reasons.iter().any(|r| r.contains("roaming charges")), "{:?}", triage.reasons);
    let theirs = globex.complaint(complaint("c-1", Channel::Email, ROAMING), &request_id()).await.expect("globex");
    assert_ne!(theirs.triage.expect("triage").category, "roaming");

    // A social post is public for globex (severity raised, unhappy) but not for acme.
    let post = "Still waiting for my refund, three weeks now.";
    let mine = acme.complaint(complaint("c-2", Channel::Social, post), &request_id()).await.expect("acme");
    let theirs = globex.complaint(complaint("c-2", Channel::Social, post), &request_id()).await.expect("globex");
    let (mine, theirs) = (mine.triage.expect("triage"), theirs.triage.expect("triage"));
    assert!(theirs.unhappy && theirs.reasons.iter().any(|r| r.contains("public channel")), "{theirs:?}");
    assert!(!mine.reasons.iter().any(|r| r.contains("public channel")), "{mine:?}");
    assert!(mine.severity < theirs.severity, "{mine:?} / {theirs:?}");

    // NPS 7 is a detractor for acme (a case) and a passive for globex (none).
    let mine = acme.survey(nps(7, "c-3"), &request_id()).await.expect("acme survey");
    let theirs = globex.survey(nps(7, "c-3"), &request_id()).await.expect("globex survey");
    assert_eq!(mine.survey_class(), SurveyClass::Detractor);
    assert!(!mine.case.is_empty());
    assert_eq!(theirs.survey_class(), SurveyClass::Passive);
    assert!(theirs.case.is_empty());

    // Three stars: a public case for acme, nothing for globex.
    let mine = acme.review(review(3), &request_id()).await.expect("acme review");
    let theirs = globex.review(review(3), &request_id()).await.expect("globex review");
    assert_eq!(mine.outcome(), IntakeOutcome::CaseCreated);
    assert_eq!(theirs.outcome(), IntakeOutcome::RecordedOnly);

    // A later change keeps the fields set before and adds its own.
    let terms = vec![SentimentTerm { text: "gutted".into(), weight: -3.0 }];
    let later = update(
        &mut acme,
        ClassificationSettings { sentiment_terms: terms.clone(), ..Default::default() },
        &["sentiment_terms"],
    )
    .await
    .expect("second update");
    assert_eq!(later.tenant_fields, [&paths[..], &["sentiment_terms"]].concat());
    assert_eq!((later.sentiment_terms, later.nps_detractor_max, later.categories), (terms, 7, roaming()));
    stack.stop().await;
}

async fn a_change_reaches_every_replica(backend: Backend) {
    let stack = Stack::start(backend).await;
    let second = start_intake(&stack.config, listener().await).await;
    wait_serving(second.addr).await;
    let mut one = stack.intake_client("acme").await;
    let mut two = Intake::connect(second.addr, "acme").await;

    // The second replica classifies with the defaults, and has them compiled.
    let before = two.complaint(complaint("c-9", Channel::Email, ROAMING), &request_id()).await.expect("before");
    assert_ne!(before.triage.expect("triage").category, "roaming");

    let changed = Instant::now();
    update(&mut one, ClassificationSettings { categories: roaming(), ..Default::default() }, &["categories"])
        .await
        .expect("update");
    // The replica that made the change applies it at once.
    let here = one.complaint(complaint("c-10", Channel::Email, ROAMING), &request_id()).await.expect("here");
    assert_eq!(here.triage.expect("triage").category, "roaming");
    // The other within the refresh interval.
    let deadline = redress_intake::app::rules::REFRESH + Duration::from_secs(2);
    loop {
        let answer =
            two.complaint(complaint(&request_id(), Channel::Email, ROAMING), &request_id()).await.expect("there");
        if answer.triage.expect("triage").category == "roaming" {
            break;
        }
        assert!(changed.elapsed() < deadline, "the second replica still classifies by the old settings");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("a change reached the second replica after {:?}", changed.elapsed());
    second.stop().await;
    stack.stop().await;
}

async fn bad_settings_are_refused_naming_the_field(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut acme = stack.intake_client("acme").await;
    update(&mut acme, ClassificationSettings { csat_detractor_max: 1, ..Default::default() }, &["csat_detractor_max"])
        .await
        .expect("a good change");
    let before = get(&mut acme).await;

    let cases: Vec<(ClassificationSettings, Vec<&str>, &str)> = vec![
        (ClassificationSettings::default(), vec![], "update_mask"),
        (ClassificationSettings::default(), vec!["colour"], "update_mask.paths[0]"),
        (ClassificationSettings::default(), vec!["tenant_fields"], "update_mask.paths[0]"),
        (
            ClassificationSettings { nps_detractor_max: 11, ..Default::default() },
            vec!["nps_detractor_max"],
            "classification_settings.nps_detractor_max",
        ),
        // In range, but not below the promoter threshold it would apply with.
        (
            ClassificationSettings { nps_detractor_max: 9, ..Default::default() },
            vec!["nps_detractor_max"],
            "classification_settings.nps_detractor_max",
        ),
        (
            ClassificationSettings { categories: vec![], ..Default::default() },
            vec!["categories"],
            "classification_settings.categories",
        ),
        (
            ClassificationSettings {
                categories: vec![TaxonomyCategory {
                    id: "fees".into(),
                    label: "fees".into(),
                    phrases: vec![TaxonomyPhrase { text: "fee".into(), weight: -1.0 }],
                }],
                ..Default::default()
            },
            vec!["categories"],
            "classification_settings.categories[0].phrases[0].weight",
        ),
        (
            ClassificationSettings { public_channels: vec![99], ..Default::default() },
            vec!["public_channels"],
            "classification_settings.public_channels[0]",
        ),
        (
            ClassificationSettings {
                sentiment_terms: vec![SentimentTerm { text: "meh".into(), weight: 9.0 }],
                ..Default::default()
            },
            vec!["sentiment_terms"],
            "classification_settings.sentiment_terms[0].weight",
        ),
        (
            ClassificationSettings { review_unhappy_max_rating: 5, ..Default::default() },
            vec!["review_unhappy_max_rating"],
            "classification_settings.review_unhappy_max_rating",
        ),
    ];
    for (settings, paths, field) in cases {
        let status = update(&mut acme, settings, &paths).await.expect_err(field);
        assert_invalid(&status, field);
    }
    // Another tenant's settings are not the caller's to read or change.
    let request = req("acme", GetClassificationSettingsRequest { name: name("globex") });
    let status = acme.inner.get_classification_settings(request).await.expect_err("another tenant");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let request = req("acme", GetClassificationSettingsRequest { name: "tenants/acme".into() });
    let status = acme.inner.get_classification_settings(request).await.expect_err("not the settings");
    assert_invalid(&status, "name");

    assert_eq!(get(&mut acme).await, before, "nothing changed");
    stack.stop().await;
}
