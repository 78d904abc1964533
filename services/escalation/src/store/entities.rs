//! sea-orm entities of the escalation service's tables.

/// A table of a tenant's documents, each created once per request: the tenant, the id, any
/// `extra` columns, the request that created it, the encoded message and its times.
macro_rules! requested {
    ($(#[$doc:meta])* $module:ident, $table:tt { $($(#[$extra_doc:meta])* $extra:ident: $ty:ty),* }) => {
        $(#[$doc])*
        pub mod $module {
            use sea_orm::entity::prelude::*;

            /// A row.
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                /// The tenant.
                #[sea_orm(primary_key, auto_increment = false)]
                pub tenant: String,
                /// The id.
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: String,
                $($(#[$extra_doc])* pub $extra: $ty,)*
                /// The request that created it.
                pub request_id: String,
                /// The encoded message (`SlaPolicy`, `Calendar`).
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

            impl super::Requested for Entity {
                const TENANT: Column = Column::Tenant;
                const REQUEST: Column = Column::RequestId;
                fn document(row: &Model) -> &[u8] {
                    &row.document
                }
                // The update sets the table's own columns to NotSet; a table without any has
                // nothing left for it to do.
                #[allow(clippy::needless_update)]
                fn row(tenant: &str, id: &str, request_id: &str, document: Vec<u8>, at: DateTimeUtc) -> ActiveModel {
                    use sea_orm::ActiveValue::Set;
                    ActiveModel {
                        tenant: Set(tenant.into()),
                        id: Set(id.into()),
                        request_id: Set(request_id.into()),
                        document: Set(document),
                        create_time: Set(at),
                        update_time: Set(at),
                        ..Default::default()
                    }
                }
            }
        }
    };
}

/// A table of documents created once per request id.
pub trait Requested: sea_orm::EntityTrait {
    /// The tenant column.
    const TENANT: Self::Column;
    /// The request id column.
    const REQUEST: Self::Column;
    /// The encoded document of a row.
    fn document(row: &Self::Model) -> &[u8];
    /// A new row: its keys, the encoded document, created and updated `at`; the table's own
    /// columns are left to the caller.
    fn row(
        tenant: &str,
        id: &str,
        request_id: &str,
        document: Vec<u8>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Self::ActiveModel;
}

requested!(
    /// An SLA policy, encoded, with its priority.
    sla_policies, "sla_policies" {
        /// Matching order, lowest first.
        priority: i32
    }
);

requested!(
    /// A business-hours calendar, encoded.
    calendars, "calendars" {}
);

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

/// One SLA clock of one case: the fields of [`crate::domain::clock::Clock`] (spans in
/// milliseconds, enums as their numbers), with the tenant and when the clock next fires.
pub mod clocks {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        /// `SlaClockKind` number.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: i32,
        pub tenant: String,
        pub target_ms: i64,
        pub warning_ms: i64,
        pub used_ms: i64,
        pub since: Option<DateTimeUtc>,
        /// `ClockState` number.
        pub state: i32,
        pub breached_at: Option<DateTimeUtc>,
        pub met_at: Option<DateTimeUtc>,
        pub level: i32,
        pub acknowledged: bool,
        pub cycle: i32,
        pub generation: i32,
        /// When it next fires, in epoch milliseconds; none when nothing is left to fire.
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
