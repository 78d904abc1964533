//! The case state machine:
//!
//! ```text
//! NEW → ACKNOWLEDGED → INVESTIGATING ⇄ AWAITING_CUSTOMER → RESOLUTION_PROPOSED → RESOLVED → CLOSED
//!                          ▲   └──────────────(fix recorded)────────────────────────▲    │
//!                          └────────── REOPENED ◀── (within the reopen window) ─────┴────┘
//! ```
//!
//! A rejected offer returns the case to INVESTIGATING; a counter-offer keeps it in
//! RESOLUTION_PROPOSED for another proposal. REOPENED allows what INVESTIGATING allows.

use redress_proto::case::v1::CaseStatus;

/// A command that moves a case from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Move {
    /// NEW → ACKNOWLEDGED.
    Acknowledge,
    /// ACKNOWLEDGED or REOPENED → INVESTIGATING.
    StartInvestigation,
    /// INVESTIGATING or REOPENED → AWAITING_CUSTOMER.
    RequestInput,
    /// AWAITING_CUSTOMER → INVESTIGATING, when the customer answers.
    ProvideInput,
    /// → RESOLUTION_PROPOSED.
    Propose,
    /// The customer answers an offer: accept or counter stays, reject → INVESTIGATING.
    RespondToOffer,
    /// → RESOLVED.
    Resolve,
    /// RESOLVED → CLOSED.
    Close,
    /// RESOLVED or CLOSED → REOPENED.
    Reopen,
}

impl Move {
    /// The RPC that performs the move.
    pub fn rpc(self) -> &'static str {
        match self {
            Move::Acknowledge => "AcknowledgeCase",
            Move::StartInvestigation => "StartInvestigation",
            Move::RequestInput => "RequestCustomerInput",
            Move::ProvideInput => "RecordCustomerResponse",
            Move::Propose => "ProposeResolution",
            Move::RespondToOffer => "RecordCustomerResponse",
            Move::Resolve => "ResolveCase",
            Move::Close => "CloseCase",
            Move::Reopen => "ReopenCase",
        }
    }
}

/// The moves allowed from `status`.
pub fn allowed(status: CaseStatus) -> &'static [Move] {
    use Move::*;
    match status {
        CaseStatus::Unspecified => &[],
        CaseStatus::New => &[Acknowledge],
        CaseStatus::Acknowledged => &[StartInvestigation],
        CaseStatus::Investigating => &[RequestInput, Propose, Resolve],
        CaseStatus::AwaitingCustomer => &[ProvideInput],
        CaseStatus::ResolutionProposed => &[Propose, RespondToOffer, Resolve],
        CaseStatus::Resolved => &[Close, Reopen],
        CaseStatus::Closed => &[Reopen],
        CaseStatus::Reopened => &[StartInvestigation, RequestInput, Propose, Resolve],
    }
}

/// The RPC names allowed from `status`, for error messages.
pub fn allowed_rpcs(status: CaseStatus) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = allowed(status).iter().map(|m| m.rpc()).collect();
    names.dedup();
    names
}

/// Every (from, to) pair a successful command may produce, including staying put.
pub fn is_edge(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    from == to
        || matches!(
            (from, to),
            (New, Acknowledged)
                | (Acknowledged, Investigating)
                | (Reopened, Investigating)
                | (Investigating | Reopened, AwaitingCustomer)
                | (AwaitingCustomer, Investigating)
                | (Investigating | Reopened, ResolutionProposed)
                | (ResolutionProposed, Investigating)
                | (Investigating | Reopened | ResolutionProposed, Resolved)
                | (Resolved, Closed)
                | (Resolved | Closed, Reopened)
        )
}
