//! `redress status` and `redress parked …`: where each event consumer stands, read from the
//! databases of the consuming services as configured (the same configuration as `redress
//! serve`), and the events they parked.

use anyhow::Context as _;
use chrono::Utc;
use redress_kit::consumer::parked::{self, ConsumerStatus, Parked};
use redress_kit::{Config, ServiceKind};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::Failure;

/// The services that consume the case event log.
const CONSUMING: [ServiceKind; 4] =
    [ServiceKind::Intake, ServiceKind::Escalation, ServiceKind::Notification, ServiceKind::Analytics];

/// One consuming service's database, or why it could not be read.
struct Source {
    kind: ServiceKind,
    db: Result<DatabaseConnection, String>,
}

async fn sources(config: &Config) -> Vec<Source> {
    let mut out = Vec::new();
    for kind in CONSUMING {
        let db = redress_kit::db::connect(config, kind).await.map_err(|e| format!("{e:#}").replace('\n', " "));
        out.push(Source { kind, db });
    }
    out
}

/// A consumer found in a service's database.
struct Found {
    kind: ServiceKind,
    status: ConsumerStatus,
}

/// Every consumer of every consuming service (each once, where services share a database),
/// and the services that could not be read.
async fn consumers(sources: &[Source]) -> (Vec<Found>, Vec<(ServiceKind, String)>) {
    let (mut found, mut errors) = (Vec::<Found>::new(), Vec::new());
    for source in sources {
        let db = match &source.db {
            Ok(db) => db,
            Err(e) => {
                errors.push((source.kind, e.clone()));
                continue;
            }
        };
        match parked::statuses(db).await {
            Ok(statuses) => {
                for status in statuses {
                    if !found.iter().any(|f| f.status.consumer == status.consumer) {
                        found.push(Found { kind: source.kind, status });
                    }
                }
            }
            Err(e) => errors.push((source.kind, format!("reading its consumers (is it migrated?): {e}"))),
        }
    }
    (found, errors)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?)
}

/// `redress status [--json]`: each consumer's cursor, lease holder and parked count. Fails
/// (exit 1) when a consuming service's database could not be read, after printing the rest.
pub fn status(config: &Config, as_json: bool) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let sources = sources(config).await;
        let (found, errors) = consumers(&sources).await;
        let now = Utc::now();
        if as_json {
            let consumers: Vec<_> = found
                .iter()
                .map(|f| {
                    json!({
                        "service": f.kind.key(),
                        "consumer": f.status.consumer,
                        "cursor": f.status.cursor,
                        "holder": f.status.holder,
                        "lease_held": f.status.lease_expires > now,
                        "lease_expires": f.status.lease_expires.to_rfc3339(),
                        "parked": f.status.parked,
                    })
                })
                .collect();
            let errors: Vec<_> = errors.iter().map(|(k, e)| json!({"service": k.key(), "error": e})).collect();
            println!("{}", json!({ "consumers": consumers, "errors": errors }));
        } else {
            println!("{:<13} {:<22} {:>10} {:<8} {:<50} parked", "service", "consumer", "cursor", "lease", "holder");
            for f in &found {
                let lease = if f.status.lease_expires > now { "held" } else { "free" };
                println!(
                    "{:<13} {:<22} {:>10} {:<8} {:<50} {}",
                    f.kind.key(),
                    f.status.consumer,
                    f.status.cursor,
                    lease,
                    f.status.holder,
                    f.status.parked
                );
            }
            for (kind, error) in &errors {
                println!("{:<13} unreadable: {error}", kind.key());
            }
        }
        if let Some((kind, _)) = errors.first() {
            return Err(Failure::Runtime(anyhow::anyhow!("the {kind} database could not be read")));
        }
        Ok(())
    })
}

/// `redress parked list [<consumer>] [--json]`: parked events, oldest first per consumer.
pub fn list(config: &Config, consumer: Option<&str>, as_json: bool) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let sources = sources(config).await;
        let (found, errors) = consumers(&sources).await;
        if let Some(name) = consumer
            && !found.iter().any(|f| f.status.consumer == name)
        {
            return Err(unknown(name, &found, &errors));
        }
        let mut events: Vec<Parked> = Vec::new();
        for f in found.iter().filter(|f| consumer.is_none_or(|name| f.status.consumer == name)) {
            let db = db_of(&sources, f.kind)?;
            events.extend(parked::list(db, Some(&f.status.consumer)).await.context("listing parked events")?);
        }
        if as_json {
            println!("{}", serde_json::to_string(&events).context("encoding")?);
        } else {
            println!(
                "{:<22} {:>10} {:<20} {:<36} {:>8} {:<20} {:<5} error",
                "consumer", "sequence", "tenant", "type", "attempts", "last failure", "retry"
            );
            for e in &events {
                println!(
                    "{:<22} {:>10} {:<20} {:<36} {:>8} {:<20} {:<5} {}",
                    e.consumer,
                    e.sequence,
                    e.tenant,
                    e.event_type,
                    e.attempts,
                    e.last_failure.format("%Y-%m-%dT%H:%M:%SZ"),
                    if e.retry_requested { "asked" } else { "-" },
                    e.error
                );
            }
        }
        Ok(())
    })
}

/// `redress parked retry <consumer> [--sequence N]`: asks the consumer to retry one parked
/// event or all of them; it does so within a third of its lease and removes each that applies.
pub fn retry(config: &Config, consumer: &str, sequence: Option<i64>) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let sources = sources(config).await;
        let (found, errors) = consumers(&sources).await;
        let Some(f) = found.iter().find(|f| f.status.consumer == consumer) else {
            return Err(unknown(consumer, &found, &errors));
        };
        let db = db_of(&sources, f.kind)?;
        let asked = parked::request_retry(db, consumer, sequence).await.context("asking for a retry")?;
        match sequence {
            Some(n) if asked == 0 => {
                return Err(Failure::Usage(format!("--sequence: {consumer} has no parked event at {n}")));
            }
            _ => eprintln!("{consumer}: retry asked for {asked} parked event(s)"),
        }
        Ok(())
    })
}

fn db_of(sources: &[Source], kind: ServiceKind) -> Result<&DatabaseConnection, Failure> {
    sources
        .iter()
        .find(|s| s.kind == kind)
        .and_then(|s| s.db.as_ref().ok())
        .ok_or_else(|| Failure::Runtime(anyhow::anyhow!("the {kind} database could not be read")))
}

fn unknown(name: &str, found: &[Found], errors: &[(ServiceKind, String)]) -> Failure {
    if let Some((kind, error)) = errors.first() {
        return Failure::Runtime(anyhow::anyhow!("no consumer {name:?} found; the {kind} database: {error}"));
    }
    let mut names: Vec<&str> = found.iter().map(|f| f.status.consumer.as_str()).collect();
    names.sort_unstable();
    Failure::Usage(format!("no consumer {name:?}; known: {}", names.join(", ")))
}
