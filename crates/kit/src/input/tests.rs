use prost_types::{Duration, Timestamp};
use redress_proto::case::v1::{
    AddTimelineEntryRequest, Case, CaseFilter, ListCasesRequest, Playbook, TimelineEntry, UpdateCaseRequest,
    UpdatePlaybookRequest,
};
use redress_proto::common::v1::TimeRange;

use super::*;
use tonic_types::StatusExt as _;

/// `message` as the layer sees it: decoded over the contract's descriptors.
fn dynamic<M: prost::Message>(message: &M, name: &str) -> DynamicMessage {
    let pool = contract().expect("the contract's descriptors decode");
    let descriptor = pool.get_message_by_name(name).unwrap_or_else(|| panic!("{name} is in the contract"));
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).expect("decodes")
}

fn fields(violations: &[FieldViolation]) -> Vec<String> {
    let mut fields: Vec<String> = violations.iter().map(|v| v.field.clone()).collect();
    fields.sort();
    fields
}

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

#[test]
fn clean_requests_pass() {
    let request = ListCasesRequest {
        parent: "tenants/acme".into(),
        filter: Some(CaseFilter {
            owner: "ana".into(),
            team: "billing\tteam".into(),
            create_time: Some(TimeRange { start_time: at(MIN_TIMESTAMP_SECONDS), end_time: at(MAX_TIMESTAMP_SECONDS) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(check(&dynamic(&request, "redress.case.v1.ListCasesRequest")).is_empty());
    let entry = AddTimelineEntryRequest {
        entry: Some(TimelineEntry {
            text: "line one\r\nline two, with é and emoji 🙂".into(),
            attributes: [("channel".to_string(), "email".to_string())].into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(check(&dynamic(&entry, "redress.case.v1.AddTimelineEntryRequest")).is_empty());
}

#[test]
fn control_characters_are_found_at_any_depth() {
    let request = ListCasesRequest {
        parent: "tenants/acme\u{0}".into(),
        filter: Some(CaseFilter {
            owner: "\u{0}".into(),
            team: "a\u{7}b".into(),
            category: "\u{1b}[31m".into(),
            customer_id: "c\u{7f}".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let violations = check(&dynamic(&request, "redress.case.v1.ListCasesRequest"));
    assert_eq!(fields(&violations), ["filter.category", "filter.customer_id", "filter.owner", "filter.team", "parent"]);
    assert!(violations[0].description.contains("control characters"), "{violations:?}");

    // Repeated fields name the element, map fields the key; a bad key names the map.
    let update = UpdateCaseRequest {
        case: Some(Case { tags: vec!["ok".into(), "bad\u{0}".into()], ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(fields(&check(&dynamic(&update, "redress.case.v1.UpdateCaseRequest"))), ["case.tags[1]"]);
    let entry = AddTimelineEntryRequest {
        entry: Some(TimelineEntry {
            attributes: [("good".to_string(), "x\u{0}".to_string()), ("b\u{0}d".to_string(), "fine".to_string())]
                .into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        fields(&check(&dynamic(&entry, "redress.case.v1.AddTimelineEntryRequest"))),
        ["entry.attributes", "entry.attributes[\"good\"]"]
    );
}

#[test]
fn timestamps_outside_years_1_to_9999_are_refused() {
    for (seconds, nanos, good) in [
        (MIN_TIMESTAMP_SECONDS, 0, true),
        (MAX_TIMESTAMP_SECONDS, 999_999_999, true),
        (0, 0, true),
        (MIN_TIMESTAMP_SECONDS - 1, 0, false),
        (MAX_TIMESTAMP_SECONDS + 1, 0, false),
        (-377_705_116_800, 0, false), // year -10000
        (i64::MIN, 0, false),
        (i64::MAX, 0, false),
        (0, -1, false),
        (0, 1_000_000_000, false),
    ] {
        let request = ListCasesRequest {
            filter: Some(CaseFilter {
                create_time: Some(TimeRange { start_time: Some(Timestamp { seconds, nanos }), end_time: None }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let violations = check(&dynamic(&request, "redress.case.v1.ListCasesRequest"));
        if good {
            assert!(violations.is_empty(), "{seconds}.{nanos}: {violations:?}");
        } else {
            assert_eq!(fields(&violations), ["filter.create_time.start_time"], "{seconds}.{nanos}");
        }
    }
}

#[test]
fn durations_beyond_ten_thousand_years_are_refused() {
    for (seconds, nanos, good) in [
        (MAX_DURATION_SECONDS, 0, true),
        (-MAX_DURATION_SECONDS, -999_999_999, true),
        (3600, 5, true),
        (MAX_DURATION_SECONDS + 1, 0, false),
        (-MAX_DURATION_SECONDS - 1, 0, false),
        (i64::MIN, 0, false),
        (i64::MAX, 0, false),
        (1, -1, false),
        (-1, 1, false),
        (0, 1_000_000_000, false),
    ] {
        let request = UpdatePlaybookRequest {
            playbook: Some(Playbook { reopen_window: Some(Duration { seconds, nanos }), ..Default::default() }),
            ..Default::default()
        };
        let violations = check(&dynamic(&request, "redress.case.v1.UpdatePlaybookRequest"));
        if good {
            assert!(violations.is_empty(), "{seconds}.{nanos}: {violations:?}");
        } else {
            assert_eq!(fields(&violations), ["playbook.reopen_window"], "{seconds}.{nanos}");
        }
    }
}

#[test]
fn violations_are_capped() {
    let update = UpdateCaseRequest {
        case: Some(Case { tags: vec!["\u{0}".to_string(); 1000], ..Default::default() }),
        ..Default::default()
    };
    let violations = check(&dynamic(&update, "redress.case.v1.UpdateCaseRequest"));
    assert_eq!(violations.len(), MAX_VIOLATIONS);
    assert_eq!(violations[0].field, "case.tags[0]");
    let status = tonic::Status::from(crate::ApiError::InvalidArgument(violations));
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    // At most 10 named, fewer when the 1 KiB message cap cuts it; the rest are counted.
    let named = status.message().matches("case.tags[").count();
    assert!((8..=10).contains(&named), "{}", status.message());
    assert_eq!(status.get_error_details().bad_request().map(|b| b.field_violations.len()), Some(MAX_VIOLATIONS));
    assert!(status.message().contains("and 22 more"), "{}", status.message());
}

#[test]
fn every_method_of_the_contract_has_its_input_described() {
    let pool = contract().expect("the contract's descriptors decode");
    let methods: Vec<_> = pool.services().flat_map(|s| s.methods().collect::<Vec<_>>()).collect();
    assert!(methods.len() > 50, "{} methods", methods.len());
    assert!(pool.get_message_by_name("google.protobuf.Timestamp").is_some());
    assert!(pool.get_message_by_name("google.protobuf.Duration").is_some());
}
