//! The Arrow Flight SQL endpoint: SQL for BI tools over the documented views, read-only and
//! confined to the caller's tenant, with results streamed as Arrow record batches.
//!
//! It listens on its own address (`analytics.flight_listen`) as a background task of the
//! analytics component, so `redress up` and `redress serve analytics` both run it.

mod catalog;
pub mod columns;
pub mod postgres;
mod service;
pub mod sqlite;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_schema::SchemaRef;
use futures::stream::BoxStream;
use redress_kit::TenantId;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use self::columns::{Builder, Kind, batch, schema};
pub use service::FlightSql;

/// Rows per record batch.
pub const BATCH_ROWS: usize = 8192;

/// How long and how large a query may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The statement timeout.
    pub timeout: Duration,
    /// The most rows a result may have.
    pub max_rows: u64,
}

/// How the endpoint is configured.
#[derive(Debug, Clone)]
pub struct FlightOptions {
    /// Where it listens; None disables it.
    pub listen: Option<SocketAddr>,
    /// On PostgreSQL, the read-only role's URL; None derives it from the service's.
    pub reader_url: Option<String>,
    /// Query limits.
    pub limits: Limits,
}

/// The tenant of a Flight SQL call: its caller's, as the server identified it; this is the one
/// place that asks.
pub fn tenant<T>(request: &tonic::Request<T>) -> Result<TenantId, Status> {
    redress_kit::tenant::tenant(request)
}

/// The answer to a statement that returns no rows (DDL, INSERT, UPDATE…).
fn query_refused() -> Status {
    Status::permission_denied(
        "read-only SQL endpoint: only queries that return rows are accepted (SELECT, WITH, VALUES)",
    )
}

/// The answer to a result over the row limit.
fn too_many_rows(max: u64) -> Status {
    Status::resource_exhausted(format!(
        "the result has more than {max} rows (analytics.flight_max_rows); aggregate, filter or add a LIMIT"
    ))
}

/// How a database failure that is not the query's fault reads to a client, logged: the
/// database out of reach is UNAVAILABLE with `unreachable` as the message, anything else
/// INTERNAL.
fn db_failure(error: impl std::fmt::Display, unreachable: Option<&str>) -> Status {
    match unreachable {
        Some(message) => {
            tracing::warn!(error = %error, "flight sql database unavailable");
            Status::unavailable(message)
        }
        None => {
            tracing::error!(error = %error, "flight sql query failed");
            Status::internal("internal error")
        }
    }
}

/// Where a query's schema and batches go.
pub struct Sink {
    schema: Option<oneshot::Sender<Result<SchemaRef, Status>>>,
    batches: mpsc::Sender<Result<RecordBatch, Status>>,
}

impl Sink {
    /// Reports the schema of a query's `columns` (a statement without any is refused) and,
    /// unless `describe_only` or nobody is listening any more, what gathers its rows.
    fn start(
        &mut self,
        columns: &[(String, Kind)],
        describe_only: bool,
        max_rows: u64,
    ) -> Result<Option<Rows>, Status> {
        if columns.is_empty() {
            return Err(query_refused());
        }
        let schema = schema(columns);
        let listening = self.schema.take().is_some_and(|tx| tx.send(Ok(schema.clone())).is_ok());
        if !listening || describe_only {
            return Ok(None);
        }
        let builders = columns.iter().map(|(_, kind)| Builder::new(*kind)).collect();
        Ok(Some(Rows { schema, builders, total: 0, pending: 0, max_rows }))
    }

    /// Reports a failure, before or after the schema.
    async fn fail(&mut self, status: Status) {
        match self.schema.take() {
            Some(tx) => {
                let _ = tx.send(Err(status));
            }
            None => {
                let _ = self.batches.send(Err(status)).await;
            }
        }
    }
}

/// A query's rows as they are read, gathered into record batches of [`BATCH_ROWS`] and sent.
pub struct Rows {
    schema: SchemaRef,
    builders: Vec<Builder>,
    total: u64,
    pending: usize,
    max_rows: u64,
}

impl Rows {
    /// The column builders for the next row; an error once the result is over the row limit.
    fn next(&mut self) -> Result<&mut [Builder], Status> {
        self.total += 1;
        if self.total > self.max_rows {
            return Err(too_many_rows(self.max_rows));
        }
        Ok(&mut self.builders)
    }

    /// Counts the row just appended and sends a full batch; false when the client went away.
    async fn appended(&mut self, sink: &Sink) -> Result<bool, Status> {
        self.pending += 1;
        if self.pending < BATCH_ROWS {
            return Ok(true);
        }
        self.pending = 0;
        self.send(sink).await
    }

    /// Sends the rows gathered since the last batch, if any.
    async fn finish(mut self, sink: &Sink) -> Result<(), Status> {
        if self.pending > 0 {
            self.send(sink).await?;
        }
        Ok(())
    }

    async fn send(&mut self, sink: &Sink) -> Result<bool, Status> {
        let b = batch(&self.schema, &mut self.builders).map_err(|e| Status::internal(e.to_string()))?;
        Ok(sink.batches.send(Ok(b)).await.is_ok())
    }
}

/// Runs queries on the service's database.
pub enum Reader {
    /// PostgreSQL, as the read-only role.
    Postgres(postgres::PgReader),
    /// SQLite, read-only with an authorizer.
    Sqlite(sqlite::SqliteReader),
}

/// A query's result: its schema and its batches.
pub type Results = (SchemaRef, BoxStream<'static, Result<RecordBatch, Status>>);

/// Where a running query reports its schema (or why it cannot run).
type SchemaReceiver = oneshot::Receiver<Result<SchemaRef, Status>>;
/// Where a running query sends its batches.
type BatchReceiver = mpsc::Receiver<Result<RecordBatch, Status>>;

impl Reader {
    /// The reader for the service's database.
    pub async fn new(db: &DatabaseConnection, database_url: &str, options: &FlightOptions) -> anyhow::Result<Self> {
        Ok(match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let url = postgres::reader_url(database_url, options.reader_url.as_deref())?;
                Reader::Postgres(postgres::PgReader::new(db, &url, options.limits).await?)
            }
            _ => {
                let path = sqlite::path_of(database_url)
                    .ok_or_else(|| anyhow::anyhow!("Flight SQL needs a SQLite file, not {database_url}"))?;
                Reader::Sqlite(sqlite::SqliteReader::new(path, options.limits))
            }
        })
    }

    /// The schema BI tools qualify the views with.
    pub fn db_schema(&self) -> &'static str {
        match self {
            Reader::Postgres(_) => "redress_analytics",
            Reader::Sqlite(_) => "temp",
        }
    }

    /// Describes `sql` and, unless `describe_only`, runs it, reporting to `sink`.
    async fn run(self: Arc<Self>, tenant: TenantId, sql: String, describe_only: bool, mut sink: Sink) {
        let done = match self.as_ref() {
            Reader::Postgres(r) => r.run(tenant.as_str(), &sql, describe_only, &mut sink).await,
            Reader::Sqlite(r) => r.run(tenant.as_str(), &sql, describe_only, &mut sink).await,
        };
        if let Err(status) = done {
            sink.fail(status).await;
        }
    }

    /// Runs `sql` on a task of its own; its schema and batches arrive on the receivers.
    fn start(self: &Arc<Self>, tenant: TenantId, sql: String, describe_only: bool) -> (SchemaReceiver, BatchReceiver) {
        let (schema_tx, schema_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(2);
        let sink = Sink { schema: Some(schema_tx), batches: tx };
        tokio::spawn(self.clone().run(tenant, sql, describe_only, sink));
        (schema_rx, rx)
    }

    /// The schema `sql` would return, checking that it is a query the caller may run.
    pub async fn describe(self: &Arc<Self>, tenant: TenantId, sql: String) -> Result<SchemaRef, Status> {
        let (schema, _) = self.start(tenant, sql, true);
        schema.await.map_err(|_| Status::internal("internal error"))?
    }

    /// Runs `sql`: its schema, then its batches as they are read.
    pub async fn execute(self: &Arc<Self>, tenant: TenantId, sql: String) -> Result<Results, Status> {
        let (schema, batches) = self.start(tenant, sql, false);
        let schema = schema.await.map_err(|_| Status::internal("internal error"))??;
        let stream = tokio_stream::wrappers::ReceiverStream::new(batches);
        Ok((schema, Box::pin(stream)))
    }
}

/// Binds the endpoint's address; failure is logged and leaves the endpoint off, so that the
/// gRPC reports still start.
pub async fn bind(listen: SocketAddr) -> Option<TcpListener> {
    match TcpListener::bind(listen).await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::error!(addr = %listen, error = %e, "flight sql endpoint cannot listen; it stays off");
            None
        }
    }
}

/// Serves Flight SQL on `listener` until `shutdown`, to the callers `auth` identifies (the
/// same bearer tokens and API keys as the gRPC services, in the `authorization` header), over
/// TLS with the gRPC listeners' certificate when one is configured.
pub async fn serve(
    listener: TcpListener,
    reader: Arc<Reader>,
    auth: Arc<redress_kit::auth::Authenticator>,
    tls: Option<Arc<redress_kit::tls::ServerTls>>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let service = FlightServiceServer::new(FlightSql::new(reader))
        .max_decoding_message_size(16 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024);
    tracing::info!(%addr, tls = tls.is_some(), "flight sql endpoint listening");
    let router = tonic::transport::Server::builder()
        .layer(redress_kit::observe::ObserveLayer::new(256))
        .layer(redress_kit::auth::AuthLayer::new(auth))
        .add_service(service);
    match tls {
        Some(tls) => {
            let incoming = tls.incoming(listener, shutdown.clone());
            router.serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned()).await?;
        }
        None => {
            let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            router.serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned()).await?;
        }
    }
    tracing::info!(%addr, "flight sql endpoint stopped");
    Ok(())
}
