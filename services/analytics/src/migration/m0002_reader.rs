//! What Flight SQL reads on PostgreSQL: the documented views, a read-only login role that may
//! select from them and nothing else, and the tenant check the views filter by.
//!
//! Flight SQL queries log in as `redress_analytics_reader`, whose transactions default to read
//! only. Each view shows the rows of `reader_tenant()`: the tenant named by the
//! `redress.tenant` setting *if* it carries that tenant's signature, `tenant:hex(sha256(secret ||
//! ':' || tenant))`, where the secret lives in a table only the service's own role may read. The
//! server signs the caller's tenant at the start of each transaction; a query that sets
//! `redress.tenant` itself cannot sign another tenant, so it sees nothing. (A length-extension
//! of SHA-256 cannot produce another tenant either: tenants are lowercase letters, digits and
//! hyphens, and the extension would carry padding bytes, which the check refuses.)
//!
//! Creating the role needs CREATEROLE. Without it the migration warns and goes on; an
//! administrator then creates the role (see docs/analytics.md) and re-runs the grants.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use crate::store::views::{POSTGRES_PREDICATE, VIEWS, select};

/// The read-only role Flight SQL queries log in as on PostgreSQL.
pub const READER_ROLE: &str = "redress_analytics_reader";

/// The views, the role and their grants.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_reader"
    }
}

const SECRET: &str = "CREATE TABLE reader_secret (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)";

const SECRET_VALUE: &str = "INSERT INTO reader_secret (id, secret) VALUES (1, encode(sha256(convert_to(\
    gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'))";

const TENANT_FUNCTION: &str = r#"
CREATE FUNCTION reader_tenant() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tenant
    FROM (
        SELECT split_part(v, ':', 1) AS tenant, split_part(v, ':', 2) AS mac
        FROM (SELECT current_setting('redress.tenant', true) AS v) AS s
    ) AS t, redress_analytics.reader_secret AS k
    WHERE k.id = 1
      AND t.tenant ~ '^[a-z0-9][a-z0-9-]{0,62}$'
      AND t.mac = encode(sha256(convert_to(k.secret || ':' || t.tenant, 'UTF8')), 'hex')
$$"#;

fn role_script() -> String {
    format!(
        r#"DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        CREATE ROLE {READER_ROLE} LOGIN NOINHERIT;
        ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on;
        ALTER ROLE {READER_ROLE} SET statement_timeout = '300s';
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE WARNING 'cannot create role {READER_ROLE}: create it with CREATEROLE and grant it SELECT on the redress_analytics views';
END
$$"#
    )
}

fn grant_script() -> String {
    format!(
        r#"DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        GRANT USAGE ON SCHEMA redress_analytics TO {READER_ROLE};
        GRANT SELECT ON {} TO {READER_ROLE};
        GRANT EXECUTE ON FUNCTION reader_tenant() TO {READER_ROLE};
    END IF;
END
$$"#,
        VIEWS.join(", ")
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            // SQLite has no roles: Flight SQL opens the file read-only and creates these views
            // per connection, for the caller's tenant alone.
            return Ok(());
        }
        let mut statements = vec![
            SECRET.to_string(),
            SECRET_VALUE.to_string(),
            "REVOKE ALL ON reader_secret FROM PUBLIC".to_string(),
            TENANT_FUNCTION.to_string(),
            "REVOKE ALL ON FUNCTION reader_tenant() FROM PUBLIC".to_string(),
        ];
        for view in VIEWS {
            let body = select(view, DatabaseBackend::Postgres, POSTGRES_PREDICATE)
                .ok_or_else(|| DbErr::Custom(format!("no definition of view {view}")))?;
            statements.push(format!("CREATE VIEW {view} AS {body}"));
        }
        statements.push(role_script());
        statements.push(grant_script());
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
