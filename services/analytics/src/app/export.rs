//! ExportCases: one row per case, read from the store in pages and streamed as they are read.

use redress_proto::analytics::v1::CaseRow;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::domain::query::{ExportFilter, Scoped};
use crate::error::Error;
use crate::store::Store;

/// Rows per page, and per message of the stream.
pub const BATCH: u64 = 500;

/// The tenant's cases that pass `filter`, oldest first, in pages of up to [`BATCH`] rows. A
/// failure ends the stream; so does the reader going away.
pub fn export(store: Store, call: Scoped<ExportFilter>) -> ReceiverStream<Result<Vec<CaseRow>, Error>> {
    let Scoped { tenant, query: filter } = call;
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let mut after = None;
        loop {
            let page = match store.export_page(tenant.as_str(), &filter, after.as_ref(), BATCH).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let full = page.len() as u64 == BATCH;
            after = page.last().map(|(cursor, _)| cursor.clone());
            let rows: Vec<CaseRow> = page.into_iter().map(|(_, row)| row).collect();
            if !rows.is_empty() && tx.send(Ok(rows)).await.is_err() {
                return;
            }
            if !full {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}
