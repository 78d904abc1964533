//! The notification service's schema migrations, applied in order.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_initial;

/// Every migration of the notification service: the event consumers' cursors, then its own tables.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(redress_kit::consumer::Migration),
            Box::new(redress_kit::consumer::ParkedMigration),
            Box::new(m0001_initial::Migration),
        ]
    }
}
