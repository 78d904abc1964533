//! The pure rules of escalation: business-hours calendars and business-time arithmetic, SLA
//! policies and their ladders, and SLA clocks. No I/O; the store persists what these functions
//! decide and the timers act on it.

pub mod calendar;
pub mod clock;
pub mod policy;
pub mod violation;

pub use calendar::Calendar;
pub use violation::{FieldViolation, Invalid};
