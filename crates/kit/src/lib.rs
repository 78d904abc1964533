//! The runtime kit every redress service stands on, so that none repeats it: configuration,
//! telemetry, the gRPC server bootstrap and client, the database, error mapping, tenancy, and
//! who is calling (authentication and the role table).

pub mod auth;
pub mod backoff;
pub mod caller;
pub mod client;
pub mod config;
pub mod consumer;
pub mod db;
pub mod error;
pub mod input;
pub mod middleware;
pub mod names;
pub mod observe;
pub mod page;
pub mod personal;
pub mod redis;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod tenant;
pub mod time;
pub mod tls;
pub mod validate;

pub use config::Config;
pub use error::ApiError;
pub use tenant::TenantId;

/// The five services of redress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    /// Intake: complaints, surveys and reviews in from every channel.
    Intake,
    /// Case: the system of record and its event log.
    Case,
    /// Escalation: SLA clocks and escalation ladders.
    Escalation,
    /// Notification: templates and delivery.
    Notification,
    /// Analytics: reporting and SQL for BI tools.
    Analytics,
}

impl ServiceKind {
    /// Every service, in the order data flows through them.
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::Intake,
        ServiceKind::Case,
        ServiceKind::Escalation,
        ServiceKind::Notification,
        ServiceKind::Analytics,
    ];

    /// The name used on the command line, in configuration keys and in file names.
    pub fn key(self) -> &'static str {
        match self {
            ServiceKind::Intake => "intake",
            ServiceKind::Case => "case",
            ServiceKind::Escalation => "escalation",
            ServiceKind::Notification => "notification",
            ServiceKind::Analytics => "analytics",
        }
    }

    /// The fully qualified gRPC service name.
    pub fn grpc_name(self) -> &'static str {
        use redress_proto::service_names as n;
        match self {
            ServiceKind::Intake => n::INTAKE,
            ServiceKind::Case => n::CASE,
            ServiceKind::Escalation => n::ESCALATION,
            ServiceKind::Notification => n::NOTIFICATION,
            ServiceKind::Analytics => n::ANALYTICS,
        }
    }

    /// The port `redress serve` listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            ServiceKind::Intake => 50052,
            ServiceKind::Case => 50053,
            ServiceKind::Escalation => 50054,
            ServiceKind::Notification => 50055,
            ServiceKind::Analytics => 50056,
        }
    }

    /// The PostgreSQL schema holding this service's tables.
    pub fn schema(self) -> &'static str {
        match self {
            ServiceKind::Intake => "redress_intake",
            ServiceKind::Case => "redress_case",
            ServiceKind::Escalation => "redress_escalation",
            ServiceKind::Notification => "redress_notification",
            ServiceKind::Analytics => "redress_analytics",
        }
    }

    /// Parses a service name as given on the command line.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.key() == name).ok_or_else(|| {
            format!("unknown service {name:?} (expected one of {})", Self::ALL.map(|k| k.key()).join(", "))
        })
    }
}

impl std::fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}
