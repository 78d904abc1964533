//! What a report asks for, once the request is checked: a tenant's time range and how to
//! bucket, group or filter the cases in it.

use jiff::tz::TimeZone;
use redress_kit::TenantId;
use redress_proto::analytics::v1::{ComplianceGroupBy, Dimension, IssueDimension};

use super::Micros;
use super::buckets::Unit;

/// A query of one tenant, its caller's.
#[derive(Debug, Clone)]
pub struct Scoped<Q> {
    /// Whose cases are read.
    pub tenant: TenantId,
    /// What is asked.
    pub query: Q,
}

/// A time range in microseconds, half open: [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first instant included.
    pub from: Micros,
    /// The first instant excluded.
    pub to: Micros,
}

impl Range {
    /// All of time.
    pub const ALL: Range = Range { from: i64::MIN, to: i64::MAX };
}

/// GetOverview: figures over cases created in `range`; "today" is in `zone`.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Creation times counted.
    pub range: Range,
    /// The caller's time zone.
    pub zone: TimeZone,
}

/// GetVolumeSeries: cases created in `range`, by bucket of `unit` in `zone` and by `dimension`.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Creation times counted.
    pub range: Range,
    /// The length of a bucket.
    pub unit: Unit,
    /// What the counts are split by.
    pub dimension: Dimension,
    /// The zone whose wall clock the buckets follow.
    pub zone: TimeZone,
}

/// GetSlaCompliance: clocks met and breached over cases created in `range`.
#[derive(Debug, Clone, Copy)]
pub struct Compliance {
    /// Creation times counted.
    pub range: Range,
    /// What the rows are grouped by.
    pub group_by: ComplianceGroupBy,
}

/// GetAgentPerformance: per agent, over cases created in `range`.
#[derive(Debug, Clone)]
pub struct Agents {
    /// Creation times counted.
    pub range: Range,
    /// Only this team's cases, when given.
    pub team: Option<String>,
}

/// GetRecurringIssues: the week ending at `as_of` against the `baseline_weeks` before it.
#[derive(Debug, Clone)]
pub struct Recurring {
    /// The end of the week examined.
    pub as_of: Micros,
    /// How many weeks the baseline has.
    pub baseline_weeks: u32,
    /// The dimensions examined, without repeats.
    pub dimensions: Vec<IssueDimension>,
}

/// ExportCases: which cases; empty lists and strings do not filter.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Creation times.
    pub range: Option<Range>,
    /// `CASE_STATUS_…` names.
    pub statuses: Vec<String>,
    /// A category.
    pub category: String,
    /// `SEVERITY_…` names.
    pub severities: Vec<String>,
    /// A team.
    pub team: String,
}
