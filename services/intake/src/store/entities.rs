//! sea-orm entities of the intake service's tables.

/// One row per request_id: the plan while it is carried out, then the answer given.
pub mod submissions {
    use sea_orm::entity::prelude::*;

    /// A submission row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "submissions")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The client's idempotency key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// The method that used it.
        pub method: String,
        /// SHA-256 of the encoded request, to refuse a key reused for another submission.
        pub request_hash: Vec<u8>,
        /// 0 while being carried out, 1 once answered.
        pub state: i32,
        /// The planned `IntakeOutcome` as its number.
        pub plan_outcome: i32,
        /// The case the plan joins (or links to); empty for none.
        pub plan_case: String,
        /// The encoded answer, once given.
        pub response: Option<Vec<u8>>,
        /// When it was first seen.
        pub create_time: DateTimeUtc,
        /// When it last changed.
        pub update_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every survey answer, whether or not it opened a case.
pub mod survey_responses {
    use sea_orm::entity::prelude::*;

    /// A survey response row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_responses")]
    pub struct Model {
        /// The row id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The tenant.
        pub tenant: String,
        /// The request that submitted it.
        pub request_id: String,
        /// The customer's id; empty when not given.
        pub customer_id: String,
        /// `SurveyScale` as its number.
        pub scale: i32,
        /// The score.
        pub score: i32,
        /// `SurveyClass` as its number.
        pub survey_class: i32,
        /// The customer's comment, verbatim.
        pub comment: String,
        /// The case it is about or opened; empty for none.
        pub case_name: String,
        /// `IntakeOutcome` as its number.
        pub outcome: i32,
        /// The answer's identifier in the survey tool.
        pub external_reference: String,
        /// When the customer answered.
        pub respond_time: DateTimeUtc,
        /// When it was recorded.
        pub create_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each tenant's classification settings, when it has set any.
pub mod classification_settings {
    use sea_orm::entity::prelude::*;

    /// A tenant's settings row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "classification_settings")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant: String,
        /// The encoded `ClassificationSettings`, listing the fields the tenant has set.
        pub settings: Vec<u8>,
        /// Counts the tenant's changes, so replicas recompile only what changed.
        pub version: i64,
        /// When the tenant last changed them.
        pub update_time: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
