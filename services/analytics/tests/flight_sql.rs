//! The Flight SQL endpoint with the Rust Flight SQL client: the catalog calls drivers make on
//! connect, statement and prepared queries over the documented views, and the read-only and
//! tenant guarantees: DROP, INSERT, UPDATE, DELETE, a 10-second sleep, a runaway query, a
//! result over the row limit and every way to another tenant's rows are refused or time out
//! cleanly, and nothing changes.

mod support;

use std::time::{Duration, Instant};

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_flight::error::FlightError;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables, SqlInfo};
use futures::TryStreamExt;
use redress_proto::common::v1::{Channel, Severity};
use redress_testkit::{Backend, on_both_backends};
use sea_orm::ConnectionTrait;
use support::{cases, query, start_analytics, start_case};
use tonic::Code;

on_both_backends!(sql_is_read_only_and_sees_one_tenant);

fn code(error: &FlightError) -> Code {
    match error {
        FlightError::Tonic(status) => status.code(),
        other => panic!("not a gRPC status: {other:?}"),
    }
}

fn strings(batches: &[RecordBatch], column: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(column).as_any().downcast_ref::<StringArray>().expect("strings");
            (0..a.len()).map(|i| a.value(i).to_string()).collect::<Vec<_>>()
        })
        .collect()
}

fn ints(batches: &[RecordBatch], column: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(column).as_any().downcast_ref::<Int64Array>().expect("int64");
            (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
        })
        .collect()
}

async fn count(client: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>) -> i64 {
    ints(&query(client, "SELECT count(*) AS n FROM cases").await.expect("count"), 0)[0]
}

async fn sql_is_read_only_and_sees_one_tenant(backend: Backend) {
    let case = start_case(backend).await;
    let analytics = start_analytics(backend, &case, "2s", 1000).await;
    let mut acme_cases = cases(&case, "acme", "agent-1", "agent").await;
    for category in ["billing", "billing", "billing", "delivery", "delivery"] {
        acme_cases.open(category, Channel::Email, Severity::Medium, "SKU-1").await;
    }
    let mut globex_cases = cases(&case, "globex", "agent-9", "agent").await;
    for category in ["billing", "secret-project", "secret-project"] {
        globex_cases.open(category, Channel::Phone, Severity::High, "G-1").await;
    }
    analytics.caught_up(&case).await;
    let mut acme = analytics.sql("acme").await;
    let mut globex = analytics.sql("globex").await;

    // What drivers ask on connect, and the tables.
    let info =
        acme.get_sql_info(vec![SqlInfo::FlightSqlServerName, SqlInfo::FlightSqlServerReadOnly]).await.expect("info");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let batches: Vec<RecordBatch> = acme.do_get(ticket).await.expect("info").try_collect().await.expect("info rows");
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let schemas = acme.get_db_schemas(CommandGetDbSchemas::default()).await.expect("schemas");
    let batches: Vec<RecordBatch> =
        acme.do_get(schemas.endpoint[0].ticket.clone().expect("t")).await.expect("s").try_collect().await.expect("s");
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    let tables = CommandGetTables { include_schema: true, ..Default::default() };
    let tables = acme.get_tables(tables).await.expect("tables");
    let batches: Vec<RecordBatch> =
        acme.do_get(tables.endpoint[0].ticket.clone().expect("t")).await.expect("t").try_collect().await.expect("t");
    let mut names = strings(&batches, 2);
    names.sort();
    assert_eq!(names, ["case_events", "cases", "daily_volume", "escalations", "sla_clocks"]);

    // Statement and prepared queries.
    let batches = query(&mut acme, "SELECT category, count(*) FROM cases GROUP BY 1 ORDER BY 1").await.expect("query");
    assert_eq!(strings(&batches, 0), ["billing", "delivery"]);
    assert_eq!(ints(&batches, 1), [3, 2]);
    let mut prepared = acme.prepare("SELECT count(*) AS n FROM case_events".into(), None).await.expect("prepare");
    assert_eq!(prepared.dataset_schema().expect("schema").field(0).name(), "n");
    let info = prepared.execute().await.expect("execute");
    let batches: Vec<RecordBatch> =
        acme.do_get(info.endpoint[0].ticket.clone().expect("t")).await.expect("get").try_collect().await.expect("rows");
    assert_eq!(ints(&batches, 0), [5]);
    prepared.close().await.expect("close");
    let all = query(&mut acme, "SELECT * FROM cases").await.expect("all columns");
    assert_eq!(all.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    assert!(all[0].schema().field_with_name("time_to_acknowledge_seconds").is_ok());

    // Writes are refused.
    for sql in [
        "DROP TABLE cases",
        "DROP VIEW cases",
        "DROP TABLE case_facts",
        "INSERT INTO cases (tenant, case_id) VALUES ('acme', 'x')",
        "INSERT INTO case_facts (tenant) VALUES ('acme') RETURNING tenant",
        "UPDATE cases SET category = 'x'",
        "UPDATE case_facts SET category = 'x' RETURNING category",
        "DELETE FROM case_facts",
        "CREATE TABLE t (x INTEGER)",
    ] {
        let error = query(&mut acme, sql).await.expect_err(sql);
        assert!(matches!(code(&error), Code::PermissionDenied | Code::InvalidArgument), "{sql}: {error:?}");
    }
    let error = acme.execute_update("DELETE FROM cases".into(), None).await.expect_err("update");
    assert_eq!(code(&error), Code::PermissionDenied);

    // Slow queries stop at the statement timeout, cleanly.
    let started = Instant::now();
    let error = query(&mut acme, "SELECT pg_sleep(10)").await.expect_err("sleep");
    match backend {
        Backend::Postgres => assert_eq!(code(&error), Code::DeadlineExceeded, "{error:?}"),
        Backend::Sqlite => assert_eq!(code(&error), Code::InvalidArgument, "no such function: {error:?}"),
    }
    let runaway = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";
    let error = query(&mut acme, runaway).await.expect_err("runaway");
    assert_eq!(code(&error), Code::DeadlineExceeded, "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(9), "both stopped at the 2 s timeout: {:?}", started.elapsed());
    let big = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) SELECT i FROM r";
    assert_eq!(code(&query(&mut acme, big).await.expect_err("row limit")), Code::ResourceExhausted);

    // Another tenant's rows are out of reach.
    assert_eq!(ints(&query(&mut acme, "SELECT count(*) FROM cases WHERE tenant = 'globex'").await.expect("q"), 0), [0]);
    let tenants = query(&mut acme, "SELECT DISTINCT tenant FROM case_events").await.expect("tenants");
    assert_eq!(strings(&tenants, 0), ["acme"]);
    for sql in [
        "SELECT count(*) FROM case_facts",
        "SELECT category FROM case_facts WHERE tenant = 'globex'",
        "SELECT count(*) FROM main.case_facts",
        "SELECT count(*) FROM redress_analytics.case_facts",
        "SELECT secret FROM redress_analytics.reader_secret",
        "WITH x AS (SELECT * FROM case_facts) SELECT count(*) FROM x",
        "SELECT count(*) FROM event_consumers",
    ] {
        let error = query(&mut acme, sql).await.expect_err(sql);
        assert!(matches!(code(&error), Code::PermissionDenied | Code::InvalidArgument), "{sql}: {error:?}");
    }
    if backend == Backend::Postgres {
        // Setting the tenant from SQL does not sign it: the views show nothing of globex.
        for forged in ["globex", "globex:0000000000000000000000000000000000000000000000000000000000000000"] {
            let sql = format!(
                "WITH s AS (SELECT set_config('redress.tenant', '{forged}', true) AS v) \
                 SELECT (SELECT v FROM s), (SELECT count(*) FROM cases), (SELECT count(*) FROM cases)"
            );
            let batches = query(&mut acme, &sql).await.expect("forged");
            assert!(ints(&batches, 1)[0] != 3 && ints(&batches, 2)[0] != 3, "{forged}");
        }
        let error = query(&mut acme, "SET ROLE postgres").await.expect_err("set role");
        assert!(matches!(code(&error), Code::PermissionDenied | Code::InvalidArgument), "{error:?}");
    }
    let mut anonymous = arrow_flight::sql::client::FlightSqlServiceClient::new(
        tonic::transport::Endpoint::from_shared(format!("http://{}", analytics.flight))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    assert_eq!(code(&query(&mut anonymous, "SELECT 1").await.expect_err("anonymous")), Code::Unauthenticated);

    // Nothing changed.
    assert_eq!((count(&mut acme).await, count(&mut globex).await), (5, 3));
    let batches = query(&mut globex, "SELECT category, count(*) FROM cases GROUP BY 1 ORDER BY 1").await.expect("q");
    assert_eq!(strings(&batches, 0), ["billing", "secret-project"]);
    let backend_db = analytics.db.get_database_backend();
    let row = analytics
        .db
        .query_one_raw(sea_orm::Statement::from_string(backend_db, "SELECT count(*) FROM case_facts"))
        .await
        .expect("facts")
        .expect("row");
    assert_eq!(row.try_get_by_index::<i64>(0).expect("n"), 8);

    analytics.stop().await;
    case.stop().await;
}
