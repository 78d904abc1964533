//! The analytics service's schema migrations, applied in order.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_facts;
mod m0002_reader;

pub use m0002_reader::READER_ROLE;

/// Every migration of the analytics service.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let own: Vec<Box<dyn MigrationTrait>> =
            vec![Box::new(m0001_facts::Migration), Box::new(m0002_reader::Migration)];
        redress_kit::consumer::migrations().into_iter().chain(own).collect()
    }
}
