//! The use cases of the notification service, one file per family of RPCs and one for the
//! event-log consumer. They own transactions, call the domain for every rule and the store
//! for every read and write; the API only decodes, validates and maps.
//!
//! - [`accept`]: SendNotification, and the row a rule's notification becomes.
//! - [`notifications`]: GetNotification and ListNotifications, and who may see what.
//! - [`templates`]: CreateTemplate, UpdateTemplate, ListTemplates, and choosing a template.
//! - [`rules`]: CreateRule, ListRules, DeleteRule.
//! - [`consumer`]: the case event log turned into customer communications by the rules.
//! - [`deliver`] and [`prepare`]: the outbox workers, which decide retry or dead-letter.

pub mod accept;
pub mod consumer;
pub mod deliver;
pub mod notifications;
pub mod prepare;
pub mod rules;
pub mod templates;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::settings::Settings;
use crate::store::Store;

/// What every use case works with.
pub struct App {
    store: Arc<Store>,
    settings: Arc<Settings>,
    /// Woken when a notification is accepted, so a worker delivers it at once.
    wake: Arc<Notify>,
}

impl App {
    /// The use cases over `store`; accepted notifications wake the workers through `wake`.
    pub fn new(store: Arc<Store>, settings: Arc<Settings>, wake: Arc<Notify>) -> Self {
        Self { store, settings, wake }
    }
}

/// A page of at most `limit` items from `rows` (read with one more than `limit`), and whether
/// more follow.
fn page<T>(mut rows: Vec<T>, limit: u64) -> (Vec<T>, bool) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    (rows, more)
}
