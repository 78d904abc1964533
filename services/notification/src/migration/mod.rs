//! The notification service's schema migrations, applied in order.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_initial;

/// Every migration of the notification service: the event consumers' cursors, then its own tables.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let own: Vec<Box<dyn MigrationTrait>> = vec![Box::new(m0001_initial::Migration)];
        redress_kit::consumer::migrations().into_iter().chain(own).collect()
    }
}
