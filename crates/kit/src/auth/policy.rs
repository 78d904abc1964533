//! Which roles may call which method: one table for every service, checked before a call
//! reaches its service. Another redress service (`system`, the service token) may call every
//! method; `grpc.health.v1` and reflection need no identity; a method missing from the table
//! is refused to everyone but `system`.
//!
//! `docs/security.md` shows the same table; a test keeps the two equal, and another walks it
//! against the running servers.

use crate::caller::Role;

use Role::{Admin as D, Agent as A, BiReader as B, Integration as I, Supervisor as S};

/// Every method of the contract with the roles (besides `system`) allowed to call it.
pub const POLICY: &[(&str, &[Role])] = &[
    // Intake: integrations and agents submit; supervisors read the classification settings,
    // admins change them.
    ("redress.intake.v1.IntakeService/SubmitComplaint", &[I, A, S]),
    ("redress.intake.v1.IntakeService/SubmitSurveyResponse", &[I, A, S]),
    ("redress.intake.v1.IntakeService/SubmitReview", &[I, A, S]),
    ("redress.intake.v1.IntakeService/GetClassificationSettings", &[S, D]),
    ("redress.intake.v1.IntakeService/UpdateClassificationSettings", &[D]),
    // Case: agents and supervisors work cases; integrations open and read them and bring the
    // customer's words; supervisors waive tasks; admins set the playbook.
    ("redress.case.v1.CaseService/CreateCase", &[I, A, S]),
    ("redress.case.v1.CaseService/GetCase", &[I, A, S, D]),
    ("redress.case.v1.CaseService/ListCases", &[I, A, S, D]),
    ("redress.case.v1.CaseService/UpdateCase", &[A, S]),
    ("redress.case.v1.CaseService/AcknowledgeCase", &[A, S]),
    ("redress.case.v1.CaseService/AssignCase", &[A, S]),
    ("redress.case.v1.CaseService/StartInvestigation", &[A, S]),
    ("redress.case.v1.CaseService/AddTimelineEntry", &[I, A, S]),
    ("redress.case.v1.CaseService/ListTimelineEntries", &[I, A, S, D]),
    ("redress.case.v1.CaseService/CreateTask", &[A, S]),
    ("redress.case.v1.CaseService/CompleteTask", &[A, S]),
    ("redress.case.v1.CaseService/WaiveTask", &[S]),
    ("redress.case.v1.CaseService/RequestCustomerInput", &[A, S]),
    ("redress.case.v1.CaseService/ProposeResolution", &[A, S]),
    ("redress.case.v1.CaseService/RecordCustomerResponse", &[I, A, S]),
    ("redress.case.v1.CaseService/ResolveCase", &[A, S]),
    ("redress.case.v1.CaseService/CloseCase", &[A, S]),
    ("redress.case.v1.CaseService/ReopenCase", &[A, S]),
    ("redress.case.v1.CaseService/RecordEscalation", &[]),
    ("redress.case.v1.CaseService/RecordSlaStatus", &[]),
    ("redress.case.v1.CaseService/RecordSatisfaction", &[I]),
    ("redress.case.v1.CaseService/GetPlaybook", &[S, D]),
    ("redress.case.v1.CaseService/UpdatePlaybook", &[D]),
    ("redress.case.v1.CaseService/EraseCustomer", &[D]),
    ("redress.case.v1.CaseService/ListErasures", &[D]),
    ("redress.case.v1.CaseService/StreamEvents", &[]),
    // Escalation: admins keep policies, calendars and the directory; supervisors read them;
    // agents see their cases' clocks and escalate.
    ("redress.escalation.v1.EscalationService/CreateSlaPolicy", &[D]),
    ("redress.escalation.v1.EscalationService/GetSlaPolicy", &[S, D]),
    ("redress.escalation.v1.EscalationService/ListSlaPolicies", &[S, D]),
    ("redress.escalation.v1.EscalationService/UpdateSlaPolicy", &[D]),
    ("redress.escalation.v1.EscalationService/DeleteSlaPolicy", &[D]),
    ("redress.escalation.v1.EscalationService/CreateCalendar", &[D]),
    ("redress.escalation.v1.EscalationService/GetCalendar", &[S, D]),
    ("redress.escalation.v1.EscalationService/ListCalendars", &[S, D]),
    ("redress.escalation.v1.EscalationService/UpsertStaffMember", &[D]),
    ("redress.escalation.v1.EscalationService/ListStaff", &[S, D]),
    ("redress.escalation.v1.EscalationService/GetCaseSla", &[A, S, D]),
    ("redress.escalation.v1.EscalationService/ListEscalations", &[A, S, D]),
    ("redress.escalation.v1.EscalationService/EscalateCase", &[A, S]),
    ("redress.escalation.v1.EscalationService/AcknowledgeEscalation", &[A, S]),
    // Notification: agents send and follow messages; admins keep templates and rules.
    ("redress.notification.v1.NotificationService/SendNotification", &[A, S]),
    ("redress.notification.v1.NotificationService/GetNotification", &[A, S, D]),
    ("redress.notification.v1.NotificationService/ListNotifications", &[A, S, D]),
    ("redress.notification.v1.NotificationService/CreateTemplate", &[D]),
    ("redress.notification.v1.NotificationService/UpdateTemplate", &[D]),
    ("redress.notification.v1.NotificationService/ListTemplates", &[S, D]),
    ("redress.notification.v1.NotificationService/CreateRule", &[D]),
    ("redress.notification.v1.NotificationService/ListRules", &[S, D]),
    ("redress.notification.v1.NotificationService/DeleteRule", &[D]),
    // Analytics: BI tools, supervisors and admins read the reports.
    ("redress.analytics.v1.AnalyticsService/GetOverview", &[B, S, D]),
    ("redress.analytics.v1.AnalyticsService/GetVolumeSeries", &[B, S, D]),
    ("redress.analytics.v1.AnalyticsService/GetSlaCompliance", &[B, S, D]),
    ("redress.analytics.v1.AnalyticsService/GetAgentPerformance", &[B, S, D]),
    ("redress.analytics.v1.AnalyticsService/GetRecurringIssues", &[B, S, D]),
    ("redress.analytics.v1.AnalyticsService/ExportCases", &[B, S, D]),
];

/// The roles allowed to use the Arrow Flight SQL endpoint (besides `system`).
pub const FLIGHT_SQL: &[Role] = &[B, D];

/// What the table says of a method, by its gRPC path (`/redress.case.v1.CaseService/GetCase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Open to anyone: health and reflection.
    Public,
    /// Open to these roles and `system`.
    Roles(&'static [Role]),
    /// Not in the table: `system` only.
    Unlisted,
}

/// The rule for a gRPC path.
pub fn rule(path: &str) -> Rule {
    let method = path.trim_start_matches('/');
    if method.starts_with("grpc.health.v1.Health/") || method.starts_with("grpc.reflection.") {
        return Rule::Public;
    }
    if method.starts_with("arrow.flight.protocol.FlightService/") {
        return Rule::Roles(FLIGHT_SQL);
    }
    match POLICY.iter().find(|(m, _)| *m == method) {
        Some((_, roles)) => Rule::Roles(roles),
        None => Rule::Unlisted,
    }
}

/// Whether a caller with `roles` may call the method at `path`.
pub fn allows(path: &str, roles: &[Role]) -> bool {
    if roles.contains(&Role::System) {
        return true;
    }
    match rule(path) {
        Rule::Public => true,
        Rule::Roles(allowed) => roles.iter().any(|r| allowed.contains(r)),
        Rule::Unlisted => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_decides() {
        let get_case = "/redress.case.v1.CaseService/GetCase";
        assert!(allows(get_case, &[Role::Agent]));
        assert!(!allows(get_case, &[Role::BiReader]));
        assert!(allows("/redress.case.v1.CaseService/StreamEvents", &[Role::System]));
        assert!(!allows("/redress.case.v1.CaseService/StreamEvents", &[Role::Admin]));
        assert!(!allows("/redress.case.v1.CaseService/NoSuchMethod", &[Role::Admin]));
        assert!(allows("/grpc.health.v1.Health/Check", &[]));
        assert!(allows("/arrow.flight.protocol.FlightService/DoGet", &[Role::BiReader]));
        assert!(!allows("/arrow.flight.protocol.FlightService/DoGet", &[Role::Agent]));
    }

    #[test]
    fn every_method_appears_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, _) in POLICY {
            assert!(seen.insert(*method), "{method} appears twice");
        }
    }

    #[test]
    fn the_security_guide_shows_this_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md");
        let guide = std::fs::read_to_string(path).expect("docs/security.md");
        let columns = [Role::Agent, Role::Supervisor, Role::Admin, Role::Integration, Role::BiReader];
        let mut shown = Vec::new();
        for line in guide.lines().filter(|l| l.starts_with("| `redress.")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let method = cells[0].trim_matches('`').to_string();
            let roles: Vec<Role> =
                columns.iter().zip(&cells[1..]).filter(|(_, cell)| **cell == "yes").map(|(r, _)| *r).collect();
            shown.push((method, roles));
        }
        let table: Vec<(String, Vec<Role>)> = POLICY
            .iter()
            .map(|(method, roles)| {
                (method.to_string(), columns.iter().filter(|r| roles.contains(r)).copied().collect())
            })
            .collect();
        assert_eq!(shown, table, "docs/security.md and POLICY differ");
    }

    #[test]
    fn every_method_of_the_contract_is_in_the_table() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(redress_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let mut contract = Vec::new();
        for file in set.file.iter().filter(|f| f.package().starts_with("redress.")) {
            for service in &file.service {
                for method in &service.method {
                    contract.push(format!("{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
        let mut table: Vec<String> = POLICY.iter().map(|(m, _)| m.to_string()).collect();
        contract.sort();
        table.sort();
        assert_eq!(contract, table);
    }
}
