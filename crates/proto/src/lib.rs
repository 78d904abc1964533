//! The redress v1 gRPC contract, generated from `proto/` at build time.
//!
//! One module per package: [`common::v1`], [`intake::v1`], [`case::v1`], [`escalation::v1`],
//! [`notification::v1`] and [`analytics::v1`]. Servers generated here answer UNIMPLEMENTED for
//! any method a service does not provide.

#![allow(clippy::all, clippy::pedantic)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/redress.rs"));
}

pub use generated::redress::{analytics, case, common, escalation, intake, notification};

/// The encoded `FileDescriptorSet` of the whole contract, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/redress_descriptor.bin"));

/// Fully qualified names of the five services, as reflection and health checks know them.
pub mod service_names {
    /// `redress.intake.v1.IntakeService`.
    pub const INTAKE: &str = "redress.intake.v1.IntakeService";
    /// `redress.case.v1.CaseService`.
    pub const CASE: &str = "redress.case.v1.CaseService";
    /// `redress.escalation.v1.EscalationService`.
    pub const ESCALATION: &str = "redress.escalation.v1.EscalationService";
    /// `redress.notification.v1.NotificationService`.
    pub const NOTIFICATION: &str = "redress.notification.v1.NotificationService";
    /// `redress.analytics.v1.AnalyticsService`.
    pub const ANALYTICS: &str = "redress.analytics.v1.AnalyticsService";
}

mod rules;
