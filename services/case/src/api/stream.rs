//! `StreamEvents`: the log in sequence order from a cursor, then new events as they are
//! numbered, with a heartbeat while nothing happens.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::case::v1::{CaseEventType, StreamEventsRequest, StreamEventsResponse};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::store::Store;

/// The stream StreamEvents answers with.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEventsResponse, Status>> + Send>>;

/// The most events in one message.
const BATCH: u64 = 500;
/// How often an idle stream says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Validates the request and starts streaming.
pub fn open(
    store: Arc<Store>,
    caller: &Caller,
    request: StreamEventsRequest,
    shutdown: CancellationToken,
) -> Result<EventStream, Status> {
    let tenant = if request.parent == "tenants/-" {
        if !caller.is_system() {
            return Err(
                ApiError::PermissionDenied("only redress services may stream every tenant (tenants/-)".into()).into()
            );
        }
        None
    } else {
        names::check_parent("parent", &request.parent, &caller.tenant)?;
        Some(caller.tenant.as_str().to_string())
    };
    let mut v = Violations::new();
    v.check(request.after_sequence < 0, "after_sequence", "must not be negative");
    for (i, t) in request.event_types.iter().enumerate() {
        redress_kit::validate::enum_value::<CaseEventType>(&mut v, &format!("event_types[{i}]"), *t, false);
    }
    v.finish()?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(pump(store, tenant, request.event_types, request.after_sequence, tx, shutdown));
    Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
}

async fn pump(
    store: Arc<Store>,
    tenant: Option<String>,
    types: Vec<i32>,
    mut cursor: i64,
    tx: mpsc::Sender<Result<StreamEventsResponse, Status>>,
    shutdown: CancellationToken,
) {
    let mut head = store.log().subscribe();
    loop {
        let upto = *head.borrow_and_update();
        if upto > cursor {
            match store.events(cursor, upto, tenant.as_deref(), &types, BATCH).await {
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
                Ok(events) => {
                    let full = events.len() as u64 == BATCH;
                    // Everything up to `upto` is numbered and visible: a short batch means the
                    // rest of that range holds nothing for this stream.
                    cursor = if full { events.last().map_or(upto, |e| e.sequence) } else { upto };
                    if !events.is_empty() {
                        let message = StreamEventsResponse { events, head_sequence: store.log().head() };
                        if tx.send(Ok(message)).await.is_err() {
                            return;
                        }
                    }
                    if full {
                        continue;
                    }
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                let _ = tx.send(Err(Status::unavailable("server shutting down; resume from your cursor"))).await;
                return;
            }
            () = tx.closed() => return,
            changed = head.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(HEARTBEAT) => {
                let beat = StreamEventsResponse { events: Vec::new(), head_sequence: store.log().head() };
                if tx.send(Ok(beat)).await.is_err() {
                    return;
                }
            }
        }
    }
}
