//! The pure rules of a case: its state machine, the playbook, and how each command changes
//! the aggregate. No I/O; the store persists what these functions decide.

pub mod commands;
pub mod erase;
pub mod machine;
pub mod playbook;
pub mod reference;
#[cfg(test)]
mod tests;

pub use commands::{Change, Command, apply, open};
pub use machine::Move;
pub use playbook::Rules;

use redress_kit::TenantId;
use redress_proto::case::v1::CaseStatus;
use uuid::Uuid;

/// The case's resource name.
pub fn case_name(tenant: &TenantId, id: Uuid) -> String {
    format!("tenants/{tenant}/cases/{id}")
}

/// Who performs a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A staff id, `customer`, `system:<service>` or `anonymous`.
    pub id: String,
    /// Supervisors and admins: reassign, waive tasks, move any case.
    pub supervisor: bool,
    /// Other redress services and integrations acting for the customer: move any case.
    pub service: bool,
}

impl Actor {
    /// Whether the actor may move a case owned by `owner`.
    pub fn may_move(&self, owner: &str) -> bool {
        owner.is_empty() || owner == self.id || self.supervisor || self.service
    }

    /// Whether the actor is a person who can take ownership.
    pub fn is_person(&self) -> bool {
        !self.service
            && self.id != redress_kit::caller::ANONYMOUS
            && !self.id.starts_with("system:")
            && self.id != "customer"
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command is not a move the current status allows.
    #[error("case is {status}; {rpc} is not allowed from it (allowed: {allowed})", status = status_name(*.status), allowed = if .allowed.is_empty() { "nothing".to_string() } else { .allowed.join(", ") })]
    IllegalMove {
        /// The current status.
        status: CaseStatus,
        /// The method attempted.
        rpc: &'static str,
        /// The methods allowed from the current status.
        allowed: Vec<&'static str>,
    },
    /// A playbook rule or a state of a part of the case forbids it.
    #[error("{0}")]
    Rule(String),
    /// The actor may not do this.
    #[error("{0}")]
    NotPermitted(String),
    /// An argument is unacceptable for this case.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field.
        field: String,
        /// Why.
        reason: String,
    },
    /// A part of the case (a task, an offer) does not exist.
    #[error("{0} not found")]
    NotFound(String),
}

/// The status's name as clients see it, without the enum prefix.
pub fn status_name(status: CaseStatus) -> &'static str {
    status.as_str_name().trim_start_matches("CASE_STATUS_")
}
