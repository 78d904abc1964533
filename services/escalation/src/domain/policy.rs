//! SLA policies: which cases they apply to, their targets, and the escalation ladder.

use std::time::Duration;

use redress_proto::common::v1::{Channel, CustomerTier, Severity, StaffRole};
use redress_proto::escalation::v1::{EscalationTrigger, LadderStep, SlaPolicy};

use super::Invalid;

/// The warning threshold when a policy sets none.
pub const DEFAULT_WARNING_PERCENT: i32 = 75;

/// What a case looks like to policy matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFacts {
    /// The category.
    pub category: String,
    /// The severity.
    pub severity: i32,
    /// The channel.
    pub channel: i32,
    /// The customer's tier.
    pub tier: i32,
    /// Whether the customer is unhappy.
    pub unhappy: bool,
}

/// One rung of a ladder, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The level reached.
    pub level: i32,
    /// What the delay counts from.
    pub trigger: EscalationTrigger,
    /// Wall-clock delay after the trigger.
    pub delay: Duration,
    /// Roles alerted.
    pub roles: Vec<StaffRole>,
    /// Whether the owner is alerted.
    pub notify_owner: bool,
}

/// The default ladder: warning → owner; breach → team lead; breach + 1 h → manager;
/// breach + 4 h → regional director and customer care.
pub fn default_ladder() -> Vec<Step> {
    vec![
        Step {
            level: 1,
            trigger: EscalationTrigger::Warning,
            delay: Duration::ZERO,
            roles: vec![],
            notify_owner: true,
        },
        Step {
            level: 2,
            trigger: EscalationTrigger::Breach,
            delay: Duration::ZERO,
            roles: vec![StaffRole::TeamLead],
            notify_owner: false,
        },
        Step {
            level: 3,
            trigger: EscalationTrigger::Breach,
            delay: Duration::from_secs(3600),
            roles: vec![StaffRole::Manager],
            notify_owner: false,
        },
        Step {
            level: 4,
            trigger: EscalationTrigger::Breach,
            delay: Duration::from_secs(4 * 3600),
            roles: vec![StaffRole::RegionalDirector, StaffRole::CustomerCare],
            notify_owner: false,
        },
    ]
}

/// The roles alerted at once for an unhappy customer when a policy names none.
pub fn default_unhappy_roles() -> Vec<StaffRole> {
    vec![StaffRole::Manager, StaffRole::RegionalDirector, StaffRole::CustomerCare]
}

/// The level an unhappy-customer escalation is recorded at.
pub const UNHAPPY_LEVEL: i32 = 3;

fn duration(value: &Option<prost_types::Duration>) -> Option<Duration> {
    value.as_ref().and_then(|d| Duration::try_from(*d).ok())
}

/// Checks a policy given by a client; `prefix` is its field (`sla_policy`).
pub fn validate(prefix: &str, policy: &SlaPolicy, violations: &mut Invalid) {
    if policy.display_name.chars().count() > 200 {
        violations.add(format!("{prefix}.display_name"), "at most 200 characters");
    }
    let mut any = false;
    for (field, value) in [
        ("first_response_target", &policy.first_response_target),
        ("next_update_target", &policy.next_update_target),
        ("resolution_target", &policy.resolution_target),
    ] {
        if let Some(d) = value {
            any = true;
            if d.seconds < 0 || d.nanos < 0 || (d.seconds == 0 && d.nanos == 0) {
                violations.add(format!("{prefix}.{field}"), "must be positive");
            } else if d.seconds > 366 * 24 * 3600 {
                violations.add(format!("{prefix}.{field}"), "at most a year");
            }
        }
    }
    if !any {
        violations.add(
            prefix.to_string(),
            "needs at least one target: first_response_target, next_update_target or resolution_target",
        );
    }
    if policy.warning_threshold_percent != 0 && !(1..=99).contains(&policy.warning_threshold_percent) {
        violations.add(format!("{prefix}.warning_threshold_percent"), "must be 1 to 99");
    }
    if let Some(c) = &policy.conditions {
        known::<Severity>(violations, &format!("{prefix}.conditions.severities"), &c.severities, "value");
        known::<Channel>(violations, &format!("{prefix}.conditions.channels"), &c.channels, "value");
        known::<CustomerTier>(violations, &format!("{prefix}.conditions.customer_tiers"), &c.customer_tiers, "value");
    }
    let mut previous = 0;
    for (i, step) in policy.ladder.iter().enumerate() {
        let field = format!("{prefix}.ladder[{i}]");
        if step.level <= previous {
            violations.add(format!("{field}.level"), "levels start at 1 and strictly increase along the ladder");
        }
        previous = step.level;
        if EscalationTrigger::try_from(step.trigger).map_or(true, |t| t == EscalationTrigger::Unspecified) {
            violations.add(format!("{field}.trigger"), format!("must be WARNING or BREACH (got {})", step.trigger));
        }
        if step.delay.as_ref().is_some_and(|d| d.seconds < 0 || d.nanos < 0) {
            violations.add(format!("{field}.delay"), "must not be negative");
        }
        if step.notify_roles.is_empty() && !step.notify_owner {
            violations
                .add(format!("{field}.notify_roles"), "a ladder level must name a role to alert (or notify_owner)");
        }
        known::<StaffRole>(violations, &format!("{field}.notify_roles"), &step.notify_roles, "role");
    }
    known::<StaffRole>(violations, &format!("{prefix}.unhappy_notify_roles"), &policy.unhappy_notify_roles, "role");
}

/// Records each of `values` (the list at `field`) that is not a known, specified `E`.
fn known<E: TryFrom<i32> + Default + PartialEq>(violations: &mut Invalid, field: &str, values: &[i32], what: &str) {
    for (i, value) in values.iter().enumerate() {
        if E::try_from(*value).map_or(true, |e| e == E::default()) {
            violations.add(format!("{field}[{i}]"), format!("unknown {what} {value}"));
        }
    }
}

/// The fields of a policy an update may name.
pub const UPDATABLE: &[&str] = &[
    "display_name",
    "priority",
    "conditions",
    "first_response_target",
    "next_update_target",
    "resolution_target",
    "warning_threshold_percent",
    "calendar",
    "ladder",
    "unhappy_notify_roles",
];

/// Copies the fields named by `paths` (an update mask) from `given` into `policy`; every path
/// that names no updatable field is a violation of `update_mask.paths[i]`.
pub fn merge(policy: &mut SlaPolicy, given: &SlaPolicy, paths: &[String], violations: &mut Invalid) {
    if paths.is_empty() {
        violations.add("update_mask", format!("required: name the fields to change ({})", UPDATABLE.join(", ")));
    }
    for (i, path) in paths.iter().enumerate() {
        match path.as_str() {
            "display_name" => policy.display_name.clone_from(&given.display_name),
            "priority" => policy.priority = given.priority,
            "conditions" => policy.conditions.clone_from(&given.conditions),
            "first_response_target" => policy.first_response_target = given.first_response_target,
            "next_update_target" => policy.next_update_target = given.next_update_target,
            "resolution_target" => policy.resolution_target = given.resolution_target,
            "warning_threshold_percent" => policy.warning_threshold_percent = given.warning_threshold_percent,
            "calendar" => policy.calendar.clone_from(&given.calendar),
            "ladder" => policy.ladder.clone_from(&given.ladder),
            "unhappy_notify_roles" => policy.unhappy_notify_roles.clone_from(&given.unhappy_notify_roles),
            other => violations.add(
                format!("update_mask.paths[{i}]"),
                format!("{other:?} cannot be updated; updatable: {}", UPDATABLE.join(", ")),
            ),
        }
    }
}

/// Whether `policy`'s conditions match the case.
pub fn matches(policy: &SlaPolicy, case: &CaseFacts) -> bool {
    let Some(c) = &policy.conditions else { return true };
    (c.categories.is_empty() || c.categories.iter().any(|x| x.eq_ignore_ascii_case(&case.category)))
        && (c.severities.is_empty() || c.severities.contains(&case.severity))
        && (c.channels.is_empty() || c.channels.contains(&case.channel))
        && (c.customer_tiers.is_empty() || c.customer_tiers.contains(&case.tier))
        && c.unhappy.is_none_or(|u| u == case.unhappy)
}

/// The first policy in priority order whose conditions match.
pub fn choose<'a>(policies: &'a [SlaPolicy], case: &CaseFacts) -> Option<&'a SlaPolicy> {
    let mut sorted: Vec<&SlaPolicy> = policies.iter().collect();
    sorted.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.name.cmp(&b.name)));
    sorted.into_iter().find(|p| matches(p, case))
}

/// The policy's ladder, or the default one.
pub fn ladder(policy: &SlaPolicy) -> Vec<Step> {
    if policy.ladder.is_empty() {
        return default_ladder();
    }
    policy.ladder.iter().map(step).collect()
}

fn step(step: &LadderStep) -> Step {
    Step {
        level: step.level,
        trigger: EscalationTrigger::try_from(step.trigger).unwrap_or(EscalationTrigger::Breach),
        delay: duration(&step.delay).unwrap_or_default(),
        roles: step.notify_roles.iter().filter_map(|r| StaffRole::try_from(*r).ok()).collect(),
        notify_owner: step.notify_owner,
    }
}

/// The policy's warning threshold in percent.
pub fn warning_percent(policy: &SlaPolicy) -> u32 {
    if (1..=99).contains(&policy.warning_threshold_percent) {
        policy.warning_threshold_percent as u32
    } else {
        DEFAULT_WARNING_PERCENT as u32
    }
}

/// The policy's target for a clock kind (1 first response, 2 next update, 3 resolution).
pub fn target(policy: &SlaPolicy, clock: i32) -> Option<Duration> {
    match clock {
        1 => duration(&policy.first_response_target),
        2 => duration(&policy.next_update_target),
        3 => duration(&policy.resolution_target),
        _ => None,
    }
    .filter(|d| !d.is_zero())
}

/// The roles alerted at once for an unhappy customer under `policy`.
pub fn unhappy_roles(policy: Option<&SlaPolicy>) -> Vec<StaffRole> {
    match policy {
        Some(p) if !p.unhappy_notify_roles.is_empty() => {
            p.unhappy_notify_roles.iter().filter_map(|r| StaffRole::try_from(*r).ok()).collect()
        }
        _ => default_unhappy_roles(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_proto::escalation::v1::PolicyConditions;

    fn secs(s: i64) -> Option<prost_types::Duration> {
        Some(prost_types::Duration { seconds: s, nanos: 0 })
    }

    #[test]
    fn bad_policies_name_their_fields() {
        let policy = SlaPolicy {
            first_response_target: secs(0),
            resolution_target: secs(-5),
            warning_threshold_percent: 120,
            ladder: vec![
                LadderStep { level: 1, trigger: 1, notify_owner: true, ..Default::default() },
                LadderStep { level: 1, trigger: 2, ..Default::default() },
            ],
            ..Default::default()
        };
        let mut v = Invalid::new();
        validate("sla_policy", &policy, &mut v);
        let fields: Vec<&str> = v.violations().iter().map(|f| f.field.as_str()).collect();
        for field in [
            "sla_policy.first_response_target",
            "sla_policy.resolution_target",
            "sla_policy.warning_threshold_percent",
            "sla_policy.ladder[1].level",
            "sla_policy.ladder[1].notify_roles",
        ] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        let mut v = Invalid::new();
        validate("sla_policy", &SlaPolicy::default(), &mut v);
        assert_eq!(v.violations()[0].field, "sla_policy");
    }

    #[test]
    fn policies_match_in_priority_order() {
        let vip = SlaPolicy {
            name: "vip".into(),
            priority: 1,
            conditions: Some(PolicyConditions { customer_tiers: vec![CustomerTier::Vip as i32], ..Default::default() }),
            ..Default::default()
        };
        let all = SlaPolicy { name: "all".into(), priority: 10, ..Default::default() };
        let policies = [all.clone(), vip.clone()];
        let case = CaseFacts { tier: CustomerTier::Vip as i32, ..Default::default() };
        assert_eq!(choose(&policies, &case).unwrap().name, "vip");
        let case = CaseFacts { tier: CustomerTier::Standard as i32, ..Default::default() };
        assert_eq!(choose(&policies, &case).unwrap().name, "all");
        assert_eq!(ladder(&all), default_ladder());
    }
}
