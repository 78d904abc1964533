//! The use cases of the analytics service: the reports, the export, recurring issues, the
//! rebuild from event 0, and the consumer that folds the case event log. Each calls the domain
//! and the store and owns its transactions.

pub mod consumer;
pub mod export;
pub mod rebuild;
pub mod recurring;
pub mod reports;

pub use consumer::Consumer;

use crate::domain::Micros;

/// The current time in microseconds, as every stored time is kept.
pub fn now() -> Micros {
    redress_kit::time::now().timestamp_micros()
}
