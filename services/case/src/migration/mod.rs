//! The case service's schema migrations, applied in order. Each is one schema text for both
//! databases, with the column types they spell differently left as placeholders ([`TYPES`]).

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

/// The column types PostgreSQL and SQLite spell differently: (placeholder, PostgreSQL, SQLite).
const TYPES: &[(&str, &str, &str)] = &[
    ("{id}", "UUID PRIMARY KEY", "BLOB PRIMARY KEY NOT NULL"),
    ("{uuid}", "UUID", "BLOB"),
    ("{bool}", "BOOLEAN", "INTEGER"),
    ("{false}", "FALSE", "0"),
    ("{bigint}", "BIGINT", "INTEGER"),
    ("{time}", "TIMESTAMPTZ", "TEXT"),
    ("{bytes}", "BYTEA", "BLOB"),
    ("{serial}", "BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    ("{key}", "TEXT PRIMARY KEY", "TEXT PRIMARY KEY NOT NULL"),
];

/// Runs `schema` with its placeholders spelled for the connection's database.
async fn run(manager: &sea_orm_migration::SchemaManager<'_>, schema: &str) -> Result<(), sea_orm_migration::DbErr> {
    let spell = |sqlite: bool| {
        TYPES.iter().fold(schema.to_string(), |text, (placeholder, postgres, lite)| {
            text.replace(placeholder, if sqlite { lite } else { postgres })
        })
    };
    redress_kit::db::run_script(manager.get_connection(), &spell(false), &spell(true)).await
}
