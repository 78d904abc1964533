//! The case service's schema migrations, applied in order.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_initial;
mod m0002_erasures;

/// Every migration of the case service.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_initial::Migration), Box::new(m0002_erasures::Migration)]
    }
}
