//! The use cases of the escalation service, one file each (or one per small family of RPCs of
//! one resource), and its workers: the event-log [`consumer`], the timer [`fire`]r and the
//! effects [`deliver`]er. They own transactions (`redress_kit::db::begin_write`), call the
//! rules in [`crate::domain`] and persist through [`crate::store`].

pub mod consumer;
pub mod deliver;
pub mod directory;
pub mod escalate;
pub mod escalations;
pub mod fire;
pub mod sla;
pub mod timing;
pub mod who;

use std::sync::Arc;

use redress_kit::ApiError;
use redress_kit::caller::Caller;
use tokio::sync::Notify;

use crate::error::Error;
use crate::store::{Store, TimedCase};
use crate::timers::TimerIndex;

/// The application as the gRPC layer calls it.
pub struct App {
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
}

impl App {
    /// The application over `store` and `index`, waking the effects worker through `effects`.
    pub fn new(store: Arc<Store>, index: Arc<dyn TimerIndex>, effects: Arc<Notify>) -> Self {
        Self { store, index, effects }
    }
}

impl App {
    /// The timed case `id` if the caller may see it; NOT_FOUND under `name` otherwise.
    async fn seen_case(&self, caller: &Caller, id: uuid::Uuid, name: &str) -> Result<TimedCase, Error> {
        let case = self.store.timed_case(id).await?.filter(|c| seen_by(caller, c));
        case.ok_or_else(|| ApiError::NotFound(name.to_string()).into())
    }
}

/// Whether `case` is the caller's tenant's and within the caller's scope (their own, their
/// team's, or unassigned), as the escalation service last saw its owner and team.
fn seen_by(caller: &Caller, case: &TimedCase) -> bool {
    case.tenant == caller.tenant.as_str() && caller.sees_case(&case.owner, &case.team)
}
