//! What intake does with a request, once the API has checked it: one file per use case and
//! one for the event-log consumer. The application owns the calls to the case service and to
//! intake's own store; the rules it applies are in [`crate::domain`].
//!
//! - [`submit`]: complaints, survey answers and reviews, carried out in the case service
//!   exactly once per request_id.
//! - [`rules`]: each tenant's classification settings over the defaults, compiled per change.
//! - [`consumer`]: erasures of personal data, from the case event log.
//! - [`peer`]: the case service, as intake calls it.

pub mod consumer;
pub mod peer;
pub mod rules;
pub mod submit;

use crate::settings::Settings;
use crate::store::Store;
use crate::store::limit::RateLimiter;
use crate::store::lock::CustomerLocks;
use peer::CasePeer;
use rules::Rules;

/// Everything a request is handled with.
pub struct Intake {
    /// Each tenant's classification rules.
    pub rules: Rules,
    /// The case service.
    pub peer: CasePeer,
    /// Intake's own records.
    pub store: Store,
    /// The per-tenant rate limit.
    pub limiter: RateLimiter,
    /// The per-customer locks.
    pub locks: CustomerLocks,
    /// The settings.
    pub settings: Settings,
}
