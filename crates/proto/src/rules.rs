//! Facts about the contract's types that more than one service needs, defined once.

use crate::case::v1::{Case, CaseStatus};

impl CaseStatus {
    /// Whether a case in this status is open: not yet resolved or closed. An unknown status
    /// (a value newer than this build) counts as not open.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed | CaseStatus::Unspecified)
    }
}

impl Case {
    /// Whether the case is open ([`CaseStatus::is_open`] of its status; a status this build
    /// does not know is not open).
    pub fn is_open(&self) -> bool {
        CaseStatus::try_from(self.status).is_ok_and(CaseStatus::is_open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resolved_closed_and_unknown_cases_are_not_open() {
        for status in [
            CaseStatus::New,
            CaseStatus::Acknowledged,
            CaseStatus::Investigating,
            CaseStatus::AwaitingCustomer,
            CaseStatus::ResolutionProposed,
            CaseStatus::Reopened,
        ] {
            assert!(status.is_open(), "{status:?}");
            assert!(Case { status: status as i32, ..Default::default() }.is_open());
        }
        for status in [CaseStatus::Resolved, CaseStatus::Closed, CaseStatus::Unspecified] {
            assert!(!status.is_open(), "{status:?}");
        }
        assert!(!Case { status: 999, ..Default::default() }.is_open());
    }
}
