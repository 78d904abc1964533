//! Streaming the event log: in sequence order from a cursor, then new events as they are
//! numbered, with a heartbeat while nothing happens.
//!
//! A message carries at most [`BATCH`] events and at most the store's event limit in bytes
//! (`grpc.max_message_bytes` less headroom), so a consumer any distance behind a backlog of
//! large events always receives messages it can decode. The write path refuses any event
//! larger than that limit, so every event fits in a message of its own.

use std::sync::Arc;
use std::time::Duration;

use redress_kit::ApiError;
use redress_proto::case::v1::{CaseEvent, StreamEventsResponse};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::App;
use crate::error::Error;
use crate::store::log;

/// The messages of one stream, ended by an error.
pub type Events = ReceiverStream<Result<StreamEventsResponse, Error>>;

/// The most events in one message.
const BATCH: u64 = 500;
/// How often an idle stream says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// What a stream follows: one tenant or all, some event types or all, from a cursor.
#[derive(Debug, Clone)]
pub struct Follow {
    /// The tenant, or `None` for every tenant.
    pub tenant: Option<String>,
    /// The event types (as numbers), or empty for all.
    pub types: Vec<i32>,
    /// The sequence after which to start.
    pub after: i64,
}

impl App {
    /// Streams the log as `follow` asks until the client goes or `shutdown` is cancelled.
    pub fn stream_events(self: &Arc<Self>, follow: Follow, shutdown: CancellationToken) -> Events {
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(pump(self.clone(), follow, tx, shutdown));
        ReceiverStream::new(rx)
    }
}

async fn pump(
    app: Arc<App>,
    follow: Follow,
    tx: mpsc::Sender<Result<StreamEventsResponse, Error>>,
    shutdown: CancellationToken,
) {
    let Follow { tenant, types, after: mut cursor } = follow;
    let store = app.store();
    let mut head = store.log().subscribe();
    loop {
        let upto = *head.borrow_and_update();
        if upto > cursor {
            match store.events(cursor, upto, tenant.as_deref(), &types, BATCH).await {
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Ok(page) => {
                    // Everything up to `upto` is numbered and visible: a read that was not cut
                    // short means the rest of that range holds nothing for this stream.
                    cursor = if page.more { page.events.last().map_or(upto, |e| e.sequence) } else { upto };
                    for events in by_size(page.events, store.event_limit()) {
                        if let [event] = events.as_slice()
                            && log::streamed_len(event) > store.event_limit()
                        {
                            // Only an event written before the limit was enforced can be here.
                            tracing::error!(sequence = event.sequence, "an event is larger than one message carries");
                        }
                        let message = StreamEventsResponse { events, head_sequence: store.log().head() };
                        if tx.send(Ok(message)).await.is_err() {
                            return;
                        }
                    }
                    if page.more {
                        continue;
                    }
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                let closing = ApiError::Unavailable("server shutting down; resume from your cursor".into());
                let _ = tx.send(Err(Error::Api(closing))).await;
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

/// Splits `events` into messages of at most `budget` bytes of events each (as
/// [`log::streamed_len`] counts them), in order; an event larger than the budget goes alone.
pub fn by_size(events: Vec<CaseEvent>, budget: usize) -> Vec<Vec<CaseEvent>> {
    let mut messages: Vec<Vec<CaseEvent>> = Vec::new();
    let mut current: Vec<CaseEvent> = Vec::new();
    let mut bytes = 0usize;
    for event in events {
        let size = log::streamed_len(&event);
        if !current.is_empty() && bytes + size > budget {
            messages.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(event);
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use redress_proto::case::v1::Case;

    use super::*;

    fn event(sequence: i64, description_bytes: usize) -> CaseEvent {
        let case = Case { description: "x".repeat(description_bytes), ..Case::default() };
        CaseEvent { sequence, event_id: format!("e{sequence}"), case: Some(case), ..CaseEvent::default() }
    }

    #[test]
    fn messages_stay_within_the_budget_in_order_and_lose_nothing() {
        let max = 4 * 1024 * 1024;
        let budget = log::event_limit(max);
        assert_eq!(budget, max - log::HEADROOM);
        let events: Vec<CaseEvent> = (1..=500).map(|s| event(s, 60 * 1024 + (s as usize % 7) * 100)).collect();
        let messages = by_size(events, budget);
        assert!(messages.len() >= 8, "500 events of 60 KiB need at least 8 messages of 4 MiB");
        let mut next = 1;
        for events in &messages {
            assert!(!events.is_empty());
            let message = StreamEventsResponse { events: events.clone(), head_sequence: i64::MAX };
            assert!(message.encoded_len() <= max, "{} bytes in a message of at most {max}", message.encoded_len());
            for event in events {
                assert_eq!(event.sequence, next, "in order, none lost");
                next += 1;
            }
        }
        assert_eq!(next, 501);
        // A message is full: the next message's first event would not have fitted.
        for pair in messages.windows(2) {
            let used: usize = pair[0].iter().map(log::streamed_len).sum();
            assert!(used + log::streamed_len(&pair[1][0]) > budget);
        }
    }

    #[test]
    fn small_events_share_a_message_and_a_large_one_goes_alone() {
        let events = vec![event(1, 10), event(2, 10), event(3, 5000), event(4, 10)];
        let sizes: Vec<usize> = by_size(events.clone(), 1 << 20).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![4]);
        let sizes: Vec<usize> = by_size(events, 1000).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 1, 1]);
        assert!(by_size(Vec::new(), 1000).is_empty());
    }

    #[test]
    fn the_limit_counts_the_sequence_an_event_will_be_given() {
        let unnumbered = event(0, 100);
        let numbered = CaseEvent { sequence: i64::MAX, ..unnumbered.clone() };
        assert!(log::streamed_len(&unnumbered) >= log::streamed_len(&numbered));
        assert_eq!(log::event_limit(1024), 512, "a tiny limit keeps half for events");
    }
}
