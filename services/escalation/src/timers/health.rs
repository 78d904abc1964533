//! Whether the index answers. Workers that cannot reach it, and the guardian's probe, mark it
//! down; while it is down, workers find due clocks in the database instead, the firer and the
//! timekeeper leave the index alone, and the guardian probes it every second. The probe marks
//! it up again and the index is rebuilt from the database, which holds what changed meanwhile.

use tokio::sync::watch;

/// The index's reachability, shared by the workers, the firer, the timekeeper and the guardian.
#[derive(Debug)]
pub struct Health {
    down: watch::Sender<bool>,
}

impl Default for Health {
    fn default() -> Self {
        Self { down: watch::Sender::new(false) }
    }
}

impl Health {
    /// An index taken to be up.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the index is taken to be unreachable.
    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Marks the index unreachable; true if it was up.
    pub fn mark_down(&self, error: &anyhow::Error) -> bool {
        let changed = self.down.send_if_modified(|down| !std::mem::replace(down, true));
        if changed {
            tracing::warn!(
                error = format!("{error:#}"),
                "the timer index is unreachable; due clocks are read from the database"
            );
        }
        changed
    }

    /// Marks the index reachable; true if it was down.
    pub fn mark_up(&self) -> bool {
        let changed = self.down.send_if_modified(|down| std::mem::replace(down, false));
        if changed {
            tracing::info!("the timer index answers again; it is rebuilt from the database");
        }
        changed
    }

    /// Waits until the index is taken to be `down` (at once if it already is).
    pub async fn until(&self, down: bool) {
        let mut receiver = self.down.subscribe();
        let _ = receiver.wait_for(|now| *now == down).await;
    }
}
