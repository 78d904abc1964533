//! The intake service's schema migrations, applied in order.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_initial;
mod m0002_classification_settings;

/// Every migration of the intake service.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let own: Vec<Box<dyn MigrationTrait>> =
            vec![Box::new(m0001_initial::Migration), Box::new(m0002_classification_settings::Migration)];
        own.into_iter().chain(redress_kit::consumer::migrations()).collect()
    }
}
