//! The Flight SQL protocol over the [`Reader`]: statement queries, prepared statements (a
//! handle is the query itself, so nothing is kept between calls), and the catalog calls BI
//! drivers make on connect: GetSqlInfo, GetCatalogs, GetDbSchemas, GetTables, GetTableTypes.
//! Every write is refused.

use std::pin::Pin;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::SqlInfoData;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementIngest, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, IpcMessage, SchemaAsIpc,
    Ticket,
};
use arrow_ipc::writer::IpcWriteOptions;
use arrow_schema::{Schema, SchemaRef};
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tokio::sync::OnceCell;
use tonic::{Request, Response, Status, Streaming};

use super::{Reader, Results, catalog, tenant};
use crate::store::views::VIEWS;

/// The longest query text accepted.
const MAX_QUERY_BYTES: usize = 1024 * 1024;

type DoGetStream = <FlightSql as FlightService>::DoGetStream;
/// What a GetFlightInfo call answers.
type Info = Result<Response<FlightInfo>, Status>;
/// What a DoGet call answers.
type Get = Result<Response<DoGetStream>, Status>;
/// What an update answers (they are all refused).
type Refused = Result<i64, Status>;

/// Implements Flight SQL over a [`Reader`].
pub struct FlightSql {
    reader: Arc<Reader>,
    info: Option<SqlInfoData>,
    view_schemas: OnceCell<Vec<SchemaRef>>,
}

impl FlightSql {
    /// The service over `reader`.
    pub fn new(reader: Arc<Reader>) -> Self {
        let info = catalog::sql_info().map_err(|e| tracing::error!(error = %e, "flight sql info does not build")).ok();
        Self { reader, info, view_schemas: OnceCell::new() }
    }

    /// The schema of the query `sql` (its text as sent), for its caller, and the query.
    async fn describe<T>(&self, request: &Request<T>, sql: &[u8]) -> Result<(SchemaRef, String), Status> {
        let tenant = tenant(request)?;
        let sql = sql_text(sql)?;
        Ok((self.reader.describe(tenant, sql.clone()).await?, sql))
    }

    /// The results of the query `sql` (its text as sent), for its caller.
    async fn results<T>(&self, request: &Request<T>, sql: &[u8]) -> Get {
        let tenant = tenant(request)?;
        let sql = sql_text(sql)?;
        Ok(Response::new(stream(self.reader.execute(tenant, sql).await?)))
    }

    fn info(&self) -> Result<&SqlInfoData, Status> {
        self.info.as_ref().ok_or_else(|| Status::internal("internal error"))
    }

    /// The schemas of the views, learnt once from the database.
    async fn view_schemas(&self, tenant: redress_kit::TenantId) -> Result<&Vec<SchemaRef>, Status> {
        self.view_schemas
            .get_or_try_init(|| async {
                let mut schemas = Vec::with_capacity(VIEWS.len());
                for view in VIEWS {
                    schemas.push(self.reader.describe(tenant.clone(), format!("SELECT * FROM {view}")).await?);
                }
                Ok::<_, Status>(schemas)
            })
            .await
    }
}

fn sql_text(bytes: &[u8]) -> Result<String, Status> {
    if bytes.is_empty() || bytes.len() > MAX_QUERY_BYTES {
        return Err(Status::invalid_argument(format!("the query must be 1 to {MAX_QUERY_BYTES} bytes")));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| Status::invalid_argument("the query is not UTF-8"))
}

fn arrow_status(error: impl std::fmt::Display) -> Status {
    tracing::error!(error = %error, "flight sql encoding failed");
    Status::internal("internal error")
}

fn flight_info(schema: &Schema, ticket: Vec<u8>, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(arrow_status)?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor))
}

fn stream(results: Results) -> DoGetStream {
    let (schema, batches) = results;
    let batches = batches.map_err(FlightError::from);
    Box::pin(FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map_err(Status::from))
}

/// The FlightInfo of a command whose result has `schema`: the command itself is the ticket.
fn command_info(command: &impl ProstMessageExt, schema: &Schema, request: Request<FlightDescriptor>) -> Info {
    tenant(&request)?;
    Ok(Response::new(flight_info(schema, command.as_any().encode_to_vec(), request.into_inner())?))
}

/// Refuses an update, for a caller who is one.
fn refuse<T>(request: &Request<T>) -> Refused {
    tenant(request)?;
    Err(read_only())
}

fn one_batch(schema: SchemaRef, batch: Result<RecordBatch, FlightError>) -> Get {
    let batch = batch.map_err(arrow_status)?;
    let batches = futures::stream::once(async move { Ok(batch) }).boxed();
    Ok(Response::new(stream((schema, batches))))
}

fn read_only() -> Status {
    Status::permission_denied("read-only SQL endpoint: updates, ingestion and DDL are refused")
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn do_handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>, Status> {
        // Every call, this one included, is authenticated by its `authorization` header (a
        // bearer token or an API key); there is no session to set up.
        let reply = HandshakeResponse { protocol_version: 0, payload: Default::default() };
        Ok(Response::new(Box::pin(futures::stream::once(async { Ok(reply) }))))
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Info {
        let (schema, sql) = self.describe(&request, query.query.as_bytes()).await?;
        let ticket = TicketStatementQuery { statement_handle: sql.into_bytes().into() };
        let info = flight_info(&schema, ticket.as_any().encode_to_vec(), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(&self, ticket: TicketStatementQuery, request: Request<Ticket>) -> Get {
        self.results(&request, &ticket.statement_handle).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let (schema, sql) = self.describe(&request, query.query.as_bytes()).await?;
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &IpcWriteOptions::default()).try_into().map_err(arrow_status)?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: sql.into_bytes().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        Ok(())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Info {
        let (schema, _) = self.describe(&request, &query.prepared_statement_handle).await?;
        command_info(&query, &schema, request)
    }

    async fn do_get_prepared_statement(&self, query: CommandPreparedStatementQuery, request: Request<Ticket>) -> Get {
        self.results(&request, &query.prepared_statement_handle).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        tenant(&request)?;
        // Binding parameters is not supported; an empty binding keeps the statement as it is.
        let mut data = request.into_inner();
        while let Some(message) = data.next().await {
            if !message?.data_body.is_empty() {
                return Err(Status::unimplemented(
                    "query parameters are not supported; write the values into the query",
                ));
            }
        }
        Ok(DoPutPreparedStatementResult { prepared_statement_handle: Some(query.prepared_statement_handle) })
    }

    async fn do_put_statement_update(
        &self,
        _: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Refused {
        refuse(&request)
    }

    async fn do_put_prepared_statement_update(
        &self,
        _: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Refused {
        refuse(&request)
    }

    async fn do_put_statement_ingest(
        &self,
        _: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Refused {
        refuse(&request)
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Info {
        command_info(&query, &query.clone().into_builder(self.info()?).schema(), request)
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, request: Request<Ticket>) -> Get {
        tenant(&request)?;
        let builder = query.into_builder(self.info()?);
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Info {
        command_info(&query, &query.into_builder().schema(), request)
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, request: Request<Ticket>) -> Get {
        tenant(&request)?;
        // The views live in one unnamed catalog.
        let builder = query.into_builder();
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Info {
        command_info(&query, &query.clone().into_builder().schema(), request)
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, request: Request<Ticket>) -> Get {
        tenant(&request)?;
        let mut builder = query.into_builder();
        builder.append("", self.reader.db_schema());
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Info {
        command_info(&query, &query.clone().into_builder().schema(), request)
    }

    async fn do_get_tables(&self, query: CommandGetTables, request: Request<Ticket>) -> Get {
        let tenant = tenant(&request)?;
        let empty = Schema::empty();
        let schemas = if query.include_schema { Some(self.view_schemas(tenant).await?) } else { None };
        let mut builder = query.into_builder();
        for (i, view) in VIEWS.iter().enumerate() {
            let schema = schemas.and_then(|s| s.get(i)).map(|s| s.as_ref()).unwrap_or(&empty);
            builder.append("", self.reader.db_schema(), view, "VIEW", schema).map_err(arrow_status)?;
        }
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Info {
        command_info(&query, &query.into_builder().schema(), request)
    }

    async fn do_get_table_types(&self, query: CommandGetTableTypes, request: Request<Ticket>) -> Get {
        tenant(&request)?;
        let mut builder = query.into_builder();
        builder.append("VIEW");
        one_batch(builder.schema(), builder.build())
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
