//! Who an escalation tells, and why: the people its step names (the owner, staff in the named
//! roles) who can be reached by email or phone; when none of them can, the case's team lead,
//! else the tenant's customer care. An escalation that reaches nobody is logged and counted.

use std::sync::LazyLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;
use redress_kit::db::Txn;
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::StaffMember;

use super::escalate::Alert;
use crate::domain::escalation::role_word;
use crate::error::Error;
use crate::store::directory::{in_team, with_role};

/// Escalations that reached nobody, by reason (`redress_escalations_unreached_total`).
static UNREACHED: LazyLock<Counter<u64>> = LazyLock::new(|| {
    opentelemetry::global::meter("redress")
        .u64_counter("redress.escalations.unreached")
        .with_description("Escalations that reached nobody: no one named, no team lead, no customer care")
        .build()
});

/// The people an escalation tells and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Told {
    /// The staff alerted, each with an email or a phone.
    pub staff: Vec<StaffMember>,
    /// Who they are and why, in words, for the escalation record.
    pub because: String,
}

/// Whether a member of staff can be alerted at all.
fn reachable(member: &StaffMember) -> bool {
    !member.email.is_empty() || !member.phone.is_empty()
}

/// Decides who `alert` tells: the owner (`owner`, the owner's directory entry if active) when
/// its step says so, and the staff in its roles (found near the case's team and `region`).
pub async fn decide(db: &Txn, alert: &Alert<'_>, owner: Option<&StaffMember>, region: &str) -> Result<Told, Error> {
    let case = alert.case;
    let (level, reason) = (alert.level, alert.reason);
    let tenant = case.tenant.as_str();
    let mut named: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut staff: Vec<StaffMember> = Vec::new();
    if alert.notify_owner {
        named.push("the owner".into());
        match owner {
            Some(owner) if reachable(owner) => staff.push(owner.clone()),
            Some(_) => missing.push("the owner has no email or phone".into()),
            None if case.owner.is_empty() => missing.push("the case has no owner".into()),
            None => missing.push("the owner is not active in the staff directory".into()),
        }
    }
    for role in &alert.roles {
        let word = role_word(*role);
        let found: Vec<StaffMember> =
            with_role(db, tenant, *role, &case.team, region).await?.into_iter().filter(reachable).collect();
        if found.is_empty() {
            missing.push(format!("no {word} can be reached"));
        }
        named.push(word);
        for member in found {
            if !staff.iter().any(|s| s.name == member.name) {
                staff.push(member);
            }
        }
    }
    if !staff.is_empty() {
        let because = format!("named by the escalation: {}", named.join(", "));
        return Ok(Told { staff, because });
    }

    let mut why = if named.is_empty() { "the escalation names nobody".to_string() } else { missing.join("; ") };
    let leads: Vec<StaffMember> =
        in_team(db, tenant, StaffRole::TeamLead, &case.team).await?.into_iter().filter(reachable).collect();
    if !leads.is_empty() {
        return Ok(Told { staff: leads, because: format!("{why}: told the case's team lead instead") });
    }
    why.push_str(if case.team.is_empty() {
        "; the case has no team"
    } else {
        "; the case's team has no team lead who can be reached"
    });
    let care: Vec<StaffMember> =
        with_role(db, tenant, StaffRole::CustomerCare, "", "").await?.into_iter().filter(reachable).collect();
    if !care.is_empty() {
        return Ok(Told { staff: care, because: format!("{why}: told customer care instead") });
    }
    tracing::warn!(
        redress.case.id = %case.case_id,
        level,
        reason = reason.as_str_name(),
        "escalation reached nobody: no one it names, no team lead and no customer care can be reached"
    );
    UNREACHED.add(1, &[KeyValue::new("reason", reason.as_str_name())]);
    Ok(Told {
        staff: Vec::new(),
        because: format!("{why}; the tenant has no customer care who can be reached: nobody was told"),
    })
}
