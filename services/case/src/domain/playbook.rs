//! The tenant's playbook: which complaint-handling rules are enforced. Every rule is on by
//! default; a tenant turns rules off through `UpdatePlaybook`.

use std::time::Duration;

use redress_proto::case::v1::Playbook;

/// The default reopen window: 30 days.
pub const DEFAULT_REOPEN_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

/// The rules in force for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// An unhappy or critical case cannot be acknowledged without an apology.
    pub require_apology_when_unhappy: bool,
    /// Once owned, only the owner or a supervisor moves or reassigns a case.
    pub owner_only_moves: bool,
    /// An open task blocks RESOLVED unless waived.
    pub open_tasks_block_resolution: bool,
    /// RESOLVED needs an accepted offer or a recorded fix.
    pub require_offer_or_fix_to_resolve: bool,
    /// CLOSED needs a root-cause category and notes.
    pub require_root_cause_to_close: bool,
    /// How long after resolution a case may be reopened.
    pub reopen_window: Duration,
    /// How long a closed case keeps its customer's personal data; `None` until erased on request.
    pub retention: Option<Duration>,
}

/// The shortest retention period a tenant may set.
pub const MIN_RETENTION: Duration = Duration::from_secs(3600);

impl Default for Rules {
    fn default() -> Self {
        Self {
            require_apology_when_unhappy: true,
            owner_only_moves: true,
            open_tasks_block_resolution: true,
            require_offer_or_fix_to_resolve: true,
            require_root_cause_to_close: true,
            reopen_window: DEFAULT_REOPEN_WINDOW,
            retention: None,
        }
    }
}

impl Rules {
    /// The rules a stored playbook describes.
    pub fn from_playbook(playbook: &Playbook) -> Self {
        Self {
            require_apology_when_unhappy: playbook.require_apology_when_unhappy,
            owner_only_moves: playbook.owner_only_moves,
            open_tasks_block_resolution: playbook.open_tasks_block_resolution,
            require_offer_or_fix_to_resolve: playbook.require_offer_or_fix_to_resolve,
            require_root_cause_to_close: playbook.require_root_cause_to_close,
            reopen_window: playbook
                .reopen_window
                .and_then(|d| Duration::try_from(d).ok())
                .unwrap_or(DEFAULT_REOPEN_WINDOW),
            retention: playbook.retention.and_then(|d| Duration::try_from(d).ok()).filter(|d| !d.is_zero()),
        }
    }

    /// The playbook resource for `tenant` describing these rules.
    pub fn to_playbook(&self, tenant: &str) -> Playbook {
        Playbook {
            name: format!("tenants/{tenant}/playbook"),
            require_apology_when_unhappy: self.require_apology_when_unhappy,
            owner_only_moves: self.owner_only_moves,
            open_tasks_block_resolution: self.open_tasks_block_resolution,
            require_offer_or_fix_to_resolve: self.require_offer_or_fix_to_resolve,
            require_root_cause_to_close: self.require_root_cause_to_close,
            reopen_window: prost_types::Duration::try_from(self.reopen_window).ok(),
            update_time: None,
            retention: self.retention.and_then(|d| prost_types::Duration::try_from(d).ok()),
        }
    }
}

/// The rules UpdatePlaybook may change, by field path.
pub const RULE_PATHS: &[&str] = &[
    "require_apology_when_unhappy",
    "owner_only_moves",
    "open_tasks_block_resolution",
    "require_offer_or_fix_to_resolve",
    "require_root_cause_to_close",
    "reopen_window",
    "retention",
];

/// Why the value `given` holds for the rule at `path` cannot be set, as the field and the
/// reason; `None` when it can. Paths outside [`RULE_PATHS`] are not judged here.
pub fn refusal(path: &str, given: &Playbook) -> Option<(&'static str, &'static str)> {
    match path {
        "reopen_window" => match given.reopen_window.and_then(|d| Duration::try_from(d).ok()) {
            Some(window) if !window.is_zero() => None,
            _ => Some(("playbook.reopen_window", "must be a positive duration")),
        },
        "retention" => match given.retention.map(Duration::try_from) {
            None => None,
            Some(Ok(period)) if period.is_zero() || period >= MIN_RETENTION => None,
            Some(_) => Some(("playbook.retention", "must be at least one hour, or unset to keep data until erased")),
        },
        _ => None,
    }
}

/// `current` with the rules named by `paths` taken from `given` (which passed [`refusal`]),
/// made complete through [`Rules`] and named for `tenant`. A zero retention period unsets it.
pub fn merge(mut current: Playbook, given: &Playbook, paths: &[String], tenant: &str) -> Playbook {
    for path in paths {
        match path.as_str() {
            "require_apology_when_unhappy" => current.require_apology_when_unhappy = given.require_apology_when_unhappy,
            "owner_only_moves" => current.owner_only_moves = given.owner_only_moves,
            "open_tasks_block_resolution" => current.open_tasks_block_resolution = given.open_tasks_block_resolution,
            "require_offer_or_fix_to_resolve" => {
                current.require_offer_or_fix_to_resolve = given.require_offer_or_fix_to_resolve
            }
            "require_root_cause_to_close" => current.require_root_cause_to_close = given.require_root_cause_to_close,
            "reopen_window" => current.reopen_window = given.reopen_window,
            "retention" => {
                current.retention = match given.retention.map(Duration::try_from) {
                    Some(Ok(period)) if !period.is_zero() => given.retention,
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Rules::from_playbook(&current).to_playbook(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(h: i64) -> Option<prost_types::Duration> {
        Some(prost_types::Duration { seconds: h * 3600, nanos: 0 })
    }

    #[test]
    fn an_update_takes_only_the_named_rules_and_refuses_bad_periods() {
        let current = Rules::default().to_playbook("acme");
        let given = Playbook {
            owner_only_moves: false,
            require_root_cause_to_close: false,
            reopen_window: hours(48),
            retention: hours(24),
            ..Playbook::default()
        };
        let paths = vec!["owner_only_moves".to_string(), "retention".to_string()];
        let merged = merge(current.clone(), &given, &paths, "acme");
        assert!(!merged.owner_only_moves);
        assert!(merged.require_root_cause_to_close, "not named, not changed");
        assert_eq!(merged.reopen_window, current.reopen_window, "not named, not changed");
        assert_eq!(merged.retention, hours(24));
        assert_eq!(merged.name, "tenants/acme/playbook");

        let zero = Playbook { retention: hours(0), reopen_window: hours(0), ..Playbook::default() };
        assert_eq!(merge(merged, &zero, &paths, "acme").retention, None, "a zero retention unsets it");
        assert_eq!(refusal("retention", &zero), None);
        assert_eq!(refusal("reopen_window", &zero).map(|(field, _)| field), Some("playbook.reopen_window"));
        let short = Playbook { retention: Some(prost_types::Duration { seconds: 1800, nanos: 0 }), ..zero };
        assert_eq!(refusal("retention", &short).map(|(field, _)| field), Some("playbook.retention"));
        assert_eq!(refusal("owner_only_moves", &short), None);
    }
}
