//! The event log: an outbox that is also the log.
//!
//! A change inserts its event in the same transaction as the change, with no sequence. The
//! sequencer then numbers committed events in the order it sees them: it reads only committed
//! rows, takes a transaction-scoped advisory lock so that one replica numbers at a time, and
//! continues from the highest number given. A transaction that commits late is numbered after
//! the ones before it became visible, never before them, so a reader that resumes after
//! sequence N can never miss an event: every event with a number at or below N was committed
//! before N was given. Numbers are contiguous.
//!
//! Writers wake their own process's sequencer; the sequencer announces the new head to the
//! process's readers and, on PostgreSQL, to other replicas with `NOTIFY`.
//!
//! Numbering an event leaves its unnumbered version behind in the index of unnumbered
//! events until the table is vacuumed, so a pass that searched that index from the start
//! would step over every event numbered since the last vacuum. A pass therefore searches
//! above a floor: the highest id that existed [`FLOOR_LAG`] ago, below which every event
//! whose transaction took less than that from insert to commit has been numbered. Every
//! [`FULL_PASS_EVERY`] a pass searches from the start, for any slower transaction.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use redress_kit::db::statement;
use redress_proto::case::v1::CaseEvent;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, FromQueryResult, Statement, Value};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The PostgreSQL channel on which sequencers announce a new head.
pub const CHANNEL: &str = "redress_case_sequenced";
/// The advisory lock that lets one sequencer number at a time.
const SEQUENCER_LOCK: i64 = 0x7265_6472_6573_7331;
/// The most events numbered in one pass: a pass that numbers this many leaves more to number.
pub const BATCH: u64 = 10_000;
/// How long after an id existed a pass may search above it.
pub const FLOOR_LAG: Duration = Duration::from_secs(2);
/// The least time from the start of one pass to the start of the next: under load, one pass
/// numbers the events of many writers instead of each writer's event having a pass (and a
/// commit) of its own.
pub const PASS_GAP: Duration = Duration::from_millis(10);
/// How often a pass searches every unnumbered event, whatever its id.
pub const FULL_PASS_EVERY: Duration = Duration::from_secs(10);

/// What connects writers, the sequencer and readers within a process.
pub struct Log {
    wake: Notify,
    head: watch::Sender<i64>,
    floor: Mutex<Floor>,
}

/// Where the sequencer's passes search from.
struct Floor {
    /// The highest id at the end of recent passes, oldest first.
    seen: VecDeque<(Instant, i64)>,
    /// The id below which passes skip, until the next full pass.
    floor: i64,
    /// When the last full pass began.
    full: Option<Instant>,
}

impl Floor {
    /// The id the pass beginning at `now` searches above.
    fn start(&mut self, now: Instant) -> i64 {
        if self.full.is_none_or(|at| now.duration_since(at) >= FULL_PASS_EVERY) {
            self.full = Some(now);
            return 0;
        }
        while let Some(&(at, top)) = self.seen.front() {
            if now.duration_since(at) < FLOOR_LAG {
                break;
            }
            self.floor = self.floor.max(top);
            self.seen.pop_front();
        }
        self.floor
    }

    /// Notes that at `now` the highest id was `top`.
    fn saw(&mut self, now: Instant, top: i64) {
        match self.seen.back_mut() {
            // One entry per tenth of the lag is enough.
            Some((at, last)) if now.duration_since(*at) < FLOOR_LAG / 10 => *last = (*last).max(top),
            _ => self.seen.push_back((now, top)),
        }
    }
}

impl Log {
    /// A log whose head is `head`.
    pub fn new(head: i64) -> Arc<Self> {
        let floor = Floor { seen: VecDeque::new(), floor: 0, full: None };
        Arc::new(Self { wake: Notify::new(), head: watch::Sender::new(head), floor: Mutex::new(floor) })
    }

    fn floor(&self) -> std::sync::MutexGuard<'_, Floor> {
        self.floor.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the sequencer that events were committed.
    pub fn written(&self) {
        self.wake.notify_one();
    }

    /// Waits until a writer says events were committed (at once if one said so since the last
    /// wait).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Follows the head of the log.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The highest sequence known to this process.
    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    fn advance(&self, head: i64) {
        self.head.send_if_modified(|current| {
            if head > *current {
                *current = head;
                true
            } else {
                false
            }
        });
    }
}

#[derive(Debug, FromQueryResult)]
struct Head {
    head: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct HeadAndTop {
    head: Option<i64>,
    top: Option<i64>,
}

/// The highest sequence in the database.
pub async fn read_head(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = Head::find_by_statement(Statement::from_string(backend, "SELECT MAX(sequence) AS head FROM events"))
        .one(db)
        .await?;
    Ok(row.and_then(|r| r.head).unwrap_or(0))
}

/// Numbers the committed, unnumbered events. Returns how many were numbered.
pub async fn sequence_pass(db: &DatabaseConnection, log: &Log) -> Result<u64, DbErr> {
    sequence_pass_at(db, log, Instant::now()).await
}

/// A pass as if begun at `now`.
async fn sequence_pass_at(db: &DatabaseConnection, log: &Log, now: Instant) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let floor = log.floor().start(now);
    let txn = redress_kit::db::begin_write(db).await?;
    if backend == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(backend, format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")))
            .await?;
    }
    let update = format!(
        "WITH todo AS (
             SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn
             FROM (SELECT id FROM events WHERE sequence IS NULL AND id > {floor} ORDER BY id LIMIT {BATCH}) AS pending
         ),
         base AS (SELECT COALESCE(MAX(sequence), 0) AS m FROM events)
         UPDATE events SET sequence = base.m + todo.rn FROM todo, base WHERE events.id = todo.id"
    );
    let numbered = txn.execute_raw(Statement::from_string(backend, update)).await?.rows_affected();
    // The new head, announced to other replicas in the same statement on PostgreSQL.
    let select = if numbered > 0 && backend == DatabaseBackend::Postgres {
        Statement::from_sql_and_values(
            backend,
            "SELECT s.head, s.top, pg_notify($1, s.head::text) AS announced
             FROM (SELECT MAX(sequence) AS head, MAX(id) AS top FROM events) AS s",
            [Value::from(CHANNEL)],
        )
    } else {
        Statement::from_string(backend, "SELECT MAX(sequence) AS head, MAX(id) AS top FROM events")
    };
    let row = HeadAndTop::find_by_statement(select).one(&txn).await?;
    let (head, top) = row.map(|r| (r.head.unwrap_or(0), r.top.unwrap_or(0))).unwrap_or((0, 0));
    if numbered == 0 {
        txn.rollback().await?;
        log.floor().saw(now, top);
        return Ok(0);
    }
    txn.commit().await?;
    log.floor().saw(now, top);
    log.advance(head);
    Ok(numbered)
}

/// Follows other replicas' sequencers through PostgreSQL `LISTEN`, until `shutdown`.
pub async fn run_listener(db: DatabaseConnection, log: Arc<Log>, shutdown: CancellationToken) -> anyhow::Result<()> {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            // Anything numbered while not listening.
            if let Ok(head) = read_head(&db).await {
                log.advance(head);
            }
            loop {
                let notification = listener.recv().await?;
                if let Ok(head) = notification.payload().parse::<i64>() {
                    log.advance(head);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sea_orm::sqlx::Error>(())
        };
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            result = listening => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "listening for sequenced events failed; reconnecting");
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Room kept in every `StreamEvents` message beyond its events: the head sequence and slack.
pub const HEADROOM: usize = 1024;
/// The most a sequence number adds to a stored event when it is streamed (tag and varint).
const SEQUENCE_ROOM: usize = 11;

/// How many bytes of events one `StreamEvents` message may carry when messages are limited to
/// `max_message_bytes` (`grpc.max_message_bytes`): the limit less [`HEADROOM`], or half the
/// limit when it is too small for that. No event larger than this is ever written.
pub fn event_limit(max_message_bytes: usize) -> usize {
    max_message_bytes - HEADROOM.min(max_message_bytes / 2)
}

/// The bytes `event` takes inside a `StreamEventsResponse` (field tag, length and the event),
/// counting its sequence number whether or not it has been given one.
pub fn streamed_len(event: &CaseEvent) -> usize {
    let len = event.encoded_len() + if event.sequence == 0 { SEQUENCE_ROOM } else { 0 };
    1 + prost::length_delimiter_len(len) + len
}

/// How many of the events, whose stored sizes are `sizes` in order, one read returns: as many
/// as fit in `bytes`, and always the first.
fn fitting(sizes: &[i64], bytes: usize) -> usize {
    let mut total = 0usize;
    for (i, size) in sizes.iter().enumerate() {
        total = total.saturating_add(usize::try_from(*size).unwrap_or(usize::MAX));
        if total > bytes && i > 0 {
            return i;
        }
    }
    sizes.len()
}

/// Events read from the log, and whether more may follow in the range asked for.
#[derive(Debug, Default)]
pub struct Page {
    /// The events, in sequence order.
    pub events: Vec<CaseEvent>,
    /// True when the read stopped at its count or byte limit: the range holds more to read
    /// after the last event. False: nothing else in the range matches.
    pub more: bool,
}

#[derive(Debug, FromQueryResult)]
struct EventSize {
    sequence: i64,
    size: i64,
}

#[derive(Debug, FromQueryResult)]
struct EventRow {
    sequence: i64,
    payload: Vec<u8>,
}

/// Numbered events after `after` and up to `upto`, in order, for one tenant or all, of the
/// given types or all: at most `limit` events and, beyond the first, at most `bytes` of them.
/// The sizes are read first (neither database reads a stored value to measure it), then the
/// payloads that fit, so a backlog of large events is read a message's worth at a time.
pub async fn read(
    db: &DatabaseConnection,
    after: i64,
    upto: i64,
    tenant: Option<&str>,
    types: &[i32],
    limit: u64,
    bytes: usize,
) -> Result<Page, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![after.into(), upto.into()];
    let mut filter = String::from("FROM events WHERE sequence > $1 AND sequence <= $2");
    if let Some(tenant) = tenant {
        values.push(tenant.into());
        filter.push_str(" AND tenant = $3");
    }
    if !types.is_empty() {
        let list: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        filter.push_str(&format!(" AND event_type IN ({})", list.join(",")));
    }
    let sizes =
        format!("SELECT sequence, CAST(LENGTH(payload) AS BIGINT) AS size {filter} ORDER BY sequence LIMIT {limit}");
    let sizes = EventSize::find_by_statement(statement(backend, &sizes, values.clone())).all(db).await?;
    let lengths: Vec<i64> = sizes.iter().map(|s| s.size).collect();
    let take = fitting(&lengths, bytes);
    let Some(last) = take.checked_sub(1).map(|i| sizes[i].sequence) else {
        return Ok(Page::default());
    };
    let more = take < sizes.len() || sizes.len() as u64 == limit;
    // The range is numbered and committed: the same filter up to `last` finds the same events.
    values[1] = last.into();
    let sql = format!("SELECT sequence, payload {filter} ORDER BY sequence");
    let rows = EventRow::find_by_statement(statement(backend, &sql, values)).all(db).await?;
    let events = rows
        .into_iter()
        .map(|row| {
            let mut event = CaseEvent::decode(row.payload.as_slice())
                .map_err(|e| DbErr::Custom(format!("event {} does not decode: {e}", row.sequence)))?;
            event.sequence = row.sequence;
            Ok(event)
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(Page { events, more })
}

#[cfg(test)]
mod tests {
    use redress_kit::ServiceKind;
    use redress_testkit::{Backend, TestStore};
    use sea_orm::TransactionTrait;

    use super::*;

    #[test]
    fn the_floor_trails_the_ids_seen_and_drops_for_a_full_pass() {
        let mut floor = Floor { seen: VecDeque::new(), floor: 0, full: None };
        let t0 = Instant::now();
        assert_eq!(floor.start(t0), 0, "the first pass is a full one");
        floor.saw(t0, 100);
        let half = FLOOR_LAG / 2;
        floor.saw(t0 + half, 200);
        assert_eq!(floor.start(t0 + half), 0, "nothing is old enough yet");
        assert_eq!(floor.start(t0 + FLOOR_LAG), 100);
        assert_eq!(floor.start(t0 + FLOOR_LAG + half), 200);
        assert_eq!(floor.start(t0 + FULL_PASS_EVERY), 0, "a full pass");
        assert_eq!(floor.start(t0 + FULL_PASS_EVERY + half), 200);
    }

    #[test]
    fn a_read_takes_what_fits_in_its_bytes_and_always_the_first() {
        assert_eq!(fitting(&[], 100), 0);
        assert_eq!(fitting(&[500], 100), 1, "one event larger than the bytes still comes");
        assert_eq!(fitting(&[500, 1], 100), 1);
        assert_eq!(fitting(&[40, 60, 1], 100), 2);
        assert_eq!(fitting(&[40, 40, 20], 100), 3);
    }

    async fn event(db: &impl ConnectionTrait) {
        db.execute_unprepared(
            "INSERT INTO events (sequence, tenant, case_id, event_type, event_time, payload)
             VALUES (NULL, 't', gen_random_uuid(), 1, now(), ''::bytea)",
        )
        .await
        .expect("insert an event");
    }

    async fn unnumbered(db: &DatabaseConnection) -> Vec<i64> {
        #[derive(FromQueryResult)]
        struct Id {
            id: i64,
        }
        let sql = "SELECT id FROM events WHERE sequence IS NULL ORDER BY id";
        let rows = Id::find_by_statement(Statement::from_string(db.get_database_backend(), sql)).all(db).await;
        rows.expect("unnumbered events").into_iter().map(|r| r.id).collect()
    }

    /// An event whose transaction commits after the floor passed its id waits for the next
    /// full pass, and is numbered after the events before it became visible.
    #[tokio::test]
    async fn a_slow_transaction_is_numbered_by_the_next_full_pass() {
        let store = TestStore::create(Backend::Postgres).await;
        let db = redress_kit::db::connect_url(&store.url, ServiceKind::Case, 4, Duration::from_secs(5))
            .await
            .expect("connect");
        redress_kit::db::migrate::<crate::migration::Migrator>(&db, ServiceKind::Case, &store.url)
            .await
            .expect("migrate");
        let log = Log::new(0);
        let t0 = Instant::now();

        let slow = db.begin().await.expect("begin");
        event(&slow).await;
        event(&db).await;
        assert_eq!(sequence_pass_at(&db, &log, t0).await.expect("pass"), 1);
        assert_eq!(log.head(), 1);

        event(&db).await;
        let later = t0 + FLOOR_LAG + Duration::from_secs(1);
        assert_eq!(sequence_pass_at(&db, &log, later).await.expect("pass"), 1, "above the floor");
        slow.commit().await.expect("commit");
        let skipped = unnumbered(&db).await;
        assert_eq!(skipped.len(), 1);
        assert_eq!(sequence_pass_at(&db, &log, later).await.expect("pass"), 0, "below the floor: skipped");

        assert_eq!(sequence_pass_at(&db, &log, t0 + FULL_PASS_EVERY).await.expect("pass"), 1, "the full pass");
        assert!(unnumbered(&db).await.is_empty());
        assert_eq!(log.head(), 3);
        let page = read(&db, 0, 3, None, &[], 10, 1 << 20).await.expect("read");
        assert_eq!(page.events.len(), 3);
        assert!(!page.more);
        let page = read(&db, 0, 3, None, &[], 2, 1 << 20).await.expect("read");
        assert_eq!(page.events.iter().map(|e| e.sequence).collect::<Vec<_>>(), vec![1, 2]);
        assert!(page.more, "cut short by its count");
    }
}
