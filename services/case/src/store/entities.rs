//! sea-orm entities of the case service's tables.

/// One row per case: the encoded case and the columns lists filter and order by.
pub mod cases {
    use sea_orm::entity::prelude::*;

    /// A case row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cases")]
    pub struct Model {
        /// The case id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The tenant.
        pub tenant: String,
        /// The short reference.
        pub reference: String,
        /// `CaseStatus` as its number.
        pub status: i32,
        /// `Severity` as its number.
        pub severity: i32,
        /// `Channel` as its number.
        pub channel: i32,
        /// The category.
        pub category: String,
        /// The owner's staff id.
        pub owner: String,
        /// The owning team.
        pub team: String,
        /// The customer's id.
        pub customer_id: String,
        /// Whether the customer is unhappy.
        pub unhappy: bool,
        /// The source's reference; unique per tenant and channel.
        pub external_reference: Option<String>,
        /// The version, bumped by every change.
        pub version: i64,
        /// When it was created.
        pub create_time: DateTimeUtc,
        /// When it last changed.
        pub update_time: DateTimeUtc,
        /// The encoded `redress.case.v1.Case`.
        pub document: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Append-only timeline entries, by case and position (the case version that wrote them).
pub mod timeline_entries {
    use sea_orm::entity::prelude::*;

    /// A timeline entry row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timeline_entries")]
    pub struct Model {
        /// The case.
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        /// The case version that wrote it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i64,
        /// The tenant.
        pub tenant: String,
        /// When it was recorded.
        pub create_time: DateTimeUtc,
        /// The encoded `redress.case.v1.TimelineEntry`.
        pub document: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The event log: inserted unsequenced, numbered in commit order by the sequencer.
pub mod events {
    use sea_orm::entity::prelude::*;

    /// An event row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        /// Insertion id; not an order of commits.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The position in the log, once sequenced.
        pub sequence: Option<i64>,
        /// The tenant.
        pub tenant: String,
        /// The case.
        pub case_id: Uuid,
        /// `CaseEventType` as its number.
        pub event_type: i32,
        /// When it was committed.
        pub event_time: DateTimeUtc,
        /// The encoded `redress.case.v1.CaseEvent`, without its sequence.
        pub payload: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Idempotency records: the first outcome of each request_id.
pub mod requests {
    use sea_orm::entity::prelude::*;

    /// A request row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "requests")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The client's idempotency key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// The method that used it.
        pub method: String,
        /// The case it touched.
        pub case_id: Uuid,
        /// The resource it returned (case, task or timeline entry name).
        pub resource: String,
        /// When it was first seen.
        pub create_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each tenant's playbook, when it differs from the defaults.
pub mod playbooks {
    use sea_orm::entity::prelude::*;

    /// A playbook row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "playbooks")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The encoded `redress.case.v1.Playbook`.
        pub document: Vec<u8>,
        /// When it last changed.
        pub update_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
