//! Request checks: the parent, time ranges, time zones and enumerations, and each request
//! turned into the query its use case takes. Each problem is a field violation naming the
//! field; a request's violations are reported together.

use jiff::tz::TimeZone;
use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::validate::enum_value;
use redress_kit::{ApiError, names};
use redress_proto::analytics::v1::*;
use redress_proto::case::v1::CaseStatus;
use redress_proto::common::v1::{Severity, TimeRange};

use crate::domain::buckets::{Unit, zone};
use crate::domain::query::{Agents, Compliance, ExportFilter, Overview, Range, Recurring, Volume};
use crate::domain::{Micros, timestamp_us};

/// The earliest and latest instants accepted (years 1 to 9999, as protobuf timestamps allow).
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// Checks `parent` is the caller's tenant.
pub fn parent(caller: &Caller, value: &str) -> Result<(), ApiError> {
    names::check_parent("parent", value, &caller.tenant)
}

/// A timestamp's microseconds, or a violation.
pub fn timestamp(v: &mut Violations, field: &str, t: &prost_types::Timestamp) -> Option<Micros> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) || !(0..1_000_000_000).contains(&t.nanos) {
        v.add(field, "not a valid timestamp");
        return None;
    }
    Some(timestamp_us(t))
}

/// A time range: an unset start is the beginning of the record (an error when `start_required`),
/// an unset end is `now`; the start must come before the end.
pub fn range(v: &mut Violations, field: &str, value: Option<&TimeRange>, start_required: bool, now: Micros) -> Range {
    let mut out = Range { from: i64::MIN, to: now.saturating_add(1) };
    let Some(value) = value else {
        v.check(start_required, format!("{field}.start_time"), "required");
        return out;
    };
    match &value.start_time {
        Some(t) => out.from = timestamp(v, &format!("{field}.start_time"), t).unwrap_or(out.from),
        None => v.check(start_required, format!("{field}.start_time"), "required"),
    }
    if let Some(t) = &value.end_time {
        out.to = timestamp(v, &format!("{field}.end_time"), t).unwrap_or(out.to);
    }
    if out.from >= out.to {
        v.add(format!("{field}.end_time"), "must be after start_time");
    }
    out
}

/// An IANA time zone; empty is UTC.
pub fn time_zone(v: &mut Violations, field: &str, value: &str) -> TimeZone {
    match zone(value) {
        Some(tz) => tz,
        None => {
            v.add(field, format!("{value:?} is not an IANA time zone such as Europe/London"));
            TimeZone::UTC
        }
    }
}

/// A string filter of at most 300 characters.
pub fn filter(v: &mut Violations, field: &str, value: &str) {
    if value.chars().count() > 300 || redress_kit::validate::has_control_chars(value) {
        v.add(field, "at most 300 characters without control characters");
    }
}

/// The enumeration values of a repeated field `field`, without repeats, in their order.
fn enum_values<E: TryFrom<i32> + PartialEq>(v: &mut Violations, field: &str, values: &[i32]) -> Vec<E> {
    let mut out = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if let Some(e) = enum_value::<E>(v, &format!("{field}[{i}]"), *value, false)
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    out
}

/// A request scoped to the tenant its `parent` names.
pub trait Parented {
    /// The `parent` field: `tenants/{tenant}`.
    fn parent(&self) -> &str;
}

macro_rules! parented {
    ($($request:ty),* $(,)?) => {
        $(impl Parented for $request {
            fn parent(&self) -> &str {
                &self.parent
            }
        })*
    };
}

parented!(
    GetOverviewRequest,
    GetVolumeSeriesRequest,
    GetSlaComplianceRequest,
    GetAgentPerformanceRequest,
    GetRecurringIssuesRequest,
    ExportCasesRequest,
);

/// GetOverview's query.
pub fn overview(req: GetOverviewRequest, v: &mut Violations, now: Micros) -> Overview {
    let range = range(v, "time_range", req.time_range.as_ref(), false, now);
    Overview { range, zone: time_zone(v, "time_zone", &req.time_zone) }
}

/// GetVolumeSeries' query: the range must have a start.
pub fn volume(req: GetVolumeSeriesRequest, v: &mut Violations, now: Micros) -> Volume {
    let range = range(v, "time_range", req.time_range.as_ref(), true, now);
    let zone = time_zone(v, "time_zone", &req.time_zone);
    let unit = match enum_value::<Granularity>(v, "granularity", req.granularity, true) {
        Some(Granularity::Week) => Unit::Week,
        Some(Granularity::Month) => Unit::Month,
        _ => Unit::Day,
    };
    let dimension = enum_value::<Dimension>(v, "dimension", req.dimension, true).unwrap_or(Dimension::Unspecified);
    Volume { range, unit, dimension, zone }
}

/// GetSlaCompliance's query.
pub fn compliance(req: GetSlaComplianceRequest, v: &mut Violations, now: Micros) -> Compliance {
    let range = range(v, "time_range", req.time_range.as_ref(), false, now);
    let group_by = enum_value::<ComplianceGroupBy>(v, "group_by", req.group_by, true);
    Compliance { range, group_by: group_by.unwrap_or(ComplianceGroupBy::Unspecified) }
}

/// GetAgentPerformance's query.
pub fn agents(req: GetAgentPerformanceRequest, v: &mut Violations, now: Micros) -> Agents {
    let range = range(v, "time_range", req.time_range.as_ref(), false, now);
    filter(v, "team", &req.team);
    Agents { range, team: (!req.team.is_empty()).then_some(req.team) }
}

/// GetRecurringIssues' query: the week ends at `as_of_time` (now when unset) against 2 to 52
/// baseline weeks (8 when unset), over the dimensions asked for (all three when none).
pub fn recurring(req: GetRecurringIssuesRequest, v: &mut Violations, now: Micros) -> Recurring {
    let as_of = match &req.as_of_time {
        Some(t) => timestamp(v, "as_of_time", t).unwrap_or_default(),
        None => now,
    };
    let baseline_weeks = match req.baseline_weeks {
        0 => 8,
        w @ 2..=52 => w as u32,
        _ => {
            v.add("baseline_weeks", "must be from 2 to 52 (or unset for 8)");
            8
        }
    };
    let mut dimensions = enum_values::<IssueDimension>(v, "dimensions", &req.dimensions);
    if dimensions.is_empty() {
        dimensions = vec![IssueDimension::Category, IssueDimension::Product, IssueDimension::RootCause];
    }
    Recurring { as_of, baseline_weeks, dimensions }
}

/// ExportCases' filter.
pub fn export(req: ExportCasesRequest, v: &mut Violations, now: Micros) -> ExportFilter {
    let range = range(v, "time_range", req.time_range.as_ref(), false, now);
    let statuses = enum_values::<CaseStatus>(v, "statuses", &req.statuses);
    let severities = enum_values::<Severity>(v, "severities", &req.severities);
    filter(v, "category", &req.category);
    filter(v, "team", &req.team);
    ExportFilter {
        range: Some(range),
        statuses: statuses.iter().map(|s| s.as_str_name().to_string()).collect(),
        severities: severities.iter().map(|s| s.as_str_name().to_string()).collect(),
        category: req.category,
        team: req.team,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[test]
    fn ranges() {
        let now = 1_000_000_000;
        let mut v = Violations::new();
        let all = range(&mut v, "time_range", None, false, now);
        assert_eq!((all.from, all.to), (i64::MIN, now + 1));
        assert!(v.is_empty());
        let r = TimeRange { start_time: Some(ts(10)), end_time: Some(ts(20)) };
        assert_eq!(range(&mut v, "time_range", Some(&r), true, now), Range { from: 10_000_000, to: 20_000_000 });
        assert!(v.is_empty());
        range(&mut v, "time_range", None, true, now);
        let backwards = TimeRange { start_time: Some(ts(20)), end_time: Some(ts(10)) };
        range(&mut v, "time_range", Some(&backwards), false, now);
        let bad = TimeRange { start_time: Some(prost_types::Timestamp { seconds: 1, nanos: -1 }), end_time: None };
        range(&mut v, "time_range", Some(&bad), false, now);
        let status = tonic::Status::from(v.finish().unwrap_err());
        assert!(status.message().contains("time_range.start_time: required"), "{}", status.message());
        assert!(status.message().contains("time_range.end_time: must be after start_time"));
        assert!(status.message().contains("time_range.start_time: not a valid timestamp"));
    }

    #[test]
    fn zones() {
        let mut v = Violations::new();
        assert_eq!(time_zone(&mut v, "time_zone", "Europe/Paris").iana_name(), Some("Europe/Paris"));
        time_zone(&mut v, "time_zone", "Nowhere/Special");
        assert!(tonic::Status::from(v.finish().unwrap_err()).message().contains("time_zone"));
    }
}
