//! The consumer of the case event log: folds each batch of events into the reporting tables,
//! in the consumer's transaction.

use redress_kit::consumer::EventHandler;
use redress_kit::db::Txn;
use redress_proto::case::v1::{CaseEvent, CaseEventType};

use crate::domain::fold::{Batch, fold};
use crate::store::{CONSUMER, ingest};

/// Folds case events into the reporting tables.
#[derive(Debug, Default, Clone)]
pub struct Consumer;

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, txn: &Txn, events: &[CaseEvent]) -> anyhow::Result<()> {
        // The log is numbered without gaps and this consumer takes every event, so a batch
        // follows the stored cursor; one that does not belongs to a session that missed a
        // rebuild. Failing it restarts the session from the rewound cursor.
        let cursor = redress_kit::consumer::cursor(txn, CONSUMER).await?;
        if let Some(first) = events.first()
            && cursor + 1 < first.sequence
        {
            anyhow::bail!("the cursor is at {cursor}, behind this batch (a rebuild rewound it); resuming from it");
        }
        let mut batch = Batch::default();
        for event in events {
            match fold(event) {
                Some(folded) => batch.add(folded),
                // An erasure that found no case of the customer says so without a case.
                None if event.r#type == CaseEventType::PersonalDataErased as i32 => {}
                None => tracing::warn!(sequence = event.sequence, "case event without a case; skipped"),
            }
        }
        ingest::write(txn, &batch, super::now()).await?;
        Ok(())
    }
}
