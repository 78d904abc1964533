//! The pure rules of escalation: business-hours calendars and business-time arithmetic, SLA
//! policies and their ladders, SLA clocks and which case event moves them, and when an
//! escalation is owed. No I/O; the application persists what these functions decide and the
//! timers act on it.

pub mod calendar;
pub mod clock;
pub mod escalation;
pub mod policy;
pub mod time;
pub mod transitions;
pub mod violation;

pub use calendar::Calendar;
pub use violation::{FieldViolation, Invalid};
