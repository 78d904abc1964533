//! sea-orm entities of the escalation service's tables.

/// An SLA policy, encoded, with its priority.
pub mod sla_policies {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sla_policies")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The policy id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Matching order, lowest first.
        pub priority: i32,
        /// The request that created it.
        pub request_id: String,
        /// The encoded `SlaPolicy`.
        pub document: Vec<u8>,
        /// When it was created.
        pub create_time: DateTimeUtc,
        /// When it last changed.
        pub update_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A business-hours calendar, encoded.
pub mod calendars {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendars")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The calendar id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The request that created it.
        pub request_id: String,
        /// The encoded `Calendar`.
        pub document: Vec<u8>,
        /// When it was created.
        pub create_time: DateTimeUtc,
        /// When it last changed.
        pub update_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A member of staff, encoded, with the columns ladders look them up by.
pub mod staff {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "staff")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The staff id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `StaffRole` number.
        pub role: i32,
        /// The team.
        pub team: String,
        /// The region.
        pub region: String,
        /// On the ladders or not.
        pub active: bool,
        /// The encoded `StaffMember`.
        pub document: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A case whose clocks this service keeps, as its events last described it.
pub mod timed_cases {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timed_cases")]
    pub struct Model {
        /// The case id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        /// The tenant.
        pub tenant: String,
        /// The case resource name.
        pub name: String,
        /// The case reference.
        pub reference: String,
        /// The subject.
        pub subject: String,
        /// The owner staff id.
        pub owner: String,
        /// The owning team.
        pub team: String,
        /// `CaseStatus` number.
        pub status: i32,
        /// Times reopened.
        pub reopen_count: i32,
        /// Reopen count + 1 of the last unhappy-customer escalation; 0 for none.
        pub unhappy_escalated: i32,
        /// The policy name its clocks run under; empty for none.
        pub policy: String,
        /// The encoded policy as it was when the clocks started.
        pub policy_document: Vec<u8>,
        /// The encoded calendar as it was when the clocks started; empty for 24×7.
        pub calendar_document: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One SLA clock of one case.
pub mod clocks {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clocks")]
    pub struct Model {
        /// The case id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        /// `SlaClockKind` number.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: i32,
        /// The tenant.
        pub tenant: String,
        /// Target in business milliseconds.
        pub target_ms: i64,
        /// Warning threshold in business milliseconds.
        pub warning_ms: i64,
        /// Business milliseconds used in finished segments.
        pub used_ms: i64,
        /// Start of the running segment.
        pub since: Option<DateTimeUtc>,
        /// `ClockState` number.
        pub state: i32,
        /// When the target was passed.
        pub breached_at: Option<DateTimeUtc>,
        /// When it was met.
        pub met_at: Option<DateTimeUtc>,
        /// Highest ladder level fired this cycle.
        pub level: i32,
        /// An escalation of this cycle was acknowledged.
        pub acknowledged: bool,
        /// Restart count.
        pub cycle: i32,
        /// Bumped when the deadlines move.
        pub generation: i32,
        /// When it next fires, in epoch milliseconds.
        pub next_fire: Option<i64>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An escalation that fired, encoded, with the columns lists filter by.
pub mod escalations {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalations")]
    pub struct Model {
        /// The escalation id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The tenant.
        pub tenant: String,
        /// The case id.
        pub case_id: Uuid,
        /// The idempotency key: one escalation per key, ever.
        pub escalation_key: String,
        /// `SlaClockKind` number, 0 for none.
        pub clock: i32,
        /// The level.
        pub level: i32,
        /// Whether acknowledged.
        pub acknowledged: bool,
        /// When it fired.
        pub escalate_time: DateTimeUtc,
        /// The encoded `Escalation`.
        pub document: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A call owed to another service, delivered with retries.
pub mod effects {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "effects")]
    pub struct Model {
        /// Insertion id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tenant.
        pub tenant: String,
        /// `notify`, `record`, `task` or `sla`.
        pub kind: String,
        /// The idempotency key sent with the call.
        pub request_id: String,
        /// The encoded request.
        pub payload: Vec<u8>,
        /// Attempts made.
        pub attempts: i32,
        /// When to try next.
        pub next_attempt: DateTimeUtc,
        /// The last failure.
        pub last_error: String,
        /// Delivered, or given up on.
        pub done: bool,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
