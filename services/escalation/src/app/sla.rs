//! A case's SLA clocks as they stand now.

use redress_kit::caller::Caller;
use uuid::Uuid;

use super::App;
use super::timing::Timing;
use crate::domain::clock::Clock;
use crate::error::Error;

/// A case's clocks and what they run under.
pub struct CaseSla {
    /// The policy the clocks run under; empty for none.
    pub policy: String,
    /// The case's timing: its calendar and ladder.
    pub timing: Timing,
    /// The clocks.
    pub clocks: Vec<Clock>,
}

impl App {
    /// The clocks of case `id` (named `name`), if the caller may see it.
    pub async fn case_sla(&self, caller: &Caller, (name, id): (&str, Uuid)) -> Result<CaseSla, Error> {
        let case = self.seen_case(caller, id, name).await?;
        let policy = case.policy.clone();
        let timing = Timing::of(case)?;
        let clocks = self.store.clocks_of(id).await?;
        Ok(CaseSla { policy, timing, clocks })
    }
}
