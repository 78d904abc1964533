//! The in-process index for the single-process embedded mode (`redress up`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Claimed, TimerIndex, now_ms};

#[derive(Default)]
struct State {
    due: BTreeSet<(i64, String)>,
    by_member: HashMap<String, i64>,
    inflight: HashMap<String, i64>,
}

/// Deadlines kept in memory; lost with the process and rebuilt from the database at start.
#[derive(Default)]
pub struct MemoryIndex {
    state: Mutex<State>,
    wake: Notify,
}

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl TimerIndex for MemoryIndex {
    async fn schedule(&self, timers: &[(String, i64)]) -> anyhow::Result<()> {
        {
            let mut state = self.lock();
            for (member, due) in timers {
                if let Some(old) = state.by_member.insert(member.clone(), *due) {
                    state.due.remove(&(old, member.clone()));
                }
                state.due.insert((*due, member.clone()));
            }
        }
        self.wake.notify_waiters();
        Ok(())
    }

    async fn cancel(&self, members: &[String]) -> anyhow::Result<()> {
        let mut state = self.lock();
        for member in members {
            if let Some(due) = state.by_member.remove(member) {
                state.due.remove(&(due, member.clone()));
            }
        }
        Ok(())
    }

    async fn claim(&self, now: i64, limit: usize, visibility: Duration) -> anyhow::Result<Vec<Claimed>> {
        let mut state = self.lock();
        let deadline = now + visibility.as_millis() as i64;
        let taken: Vec<(i64, String)> =
            state.due.iter().take_while(|(due, _)| *due <= now).take(limit).cloned().collect();
        let mut claimed = Vec::with_capacity(taken.len());
        for (due, member) in taken {
            state.due.remove(&(due, member.clone()));
            state.by_member.remove(&member);
            state.inflight.insert(member.clone(), deadline);
            claimed.push(Claimed { member, due_ms: due });
        }
        Ok(claimed)
    }

    async fn ack(&self, members: &[String]) -> anyhow::Result<()> {
        let mut state = self.lock();
        for member in members {
            state.inflight.remove(member);
        }
        Ok(())
    }

    async fn reap(&self, now: i64, limit: usize) -> anyhow::Result<usize> {
        let mut state = self.lock();
        let expired: Vec<String> = state
            .inflight
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(m, _)| m.clone())
            .take(limit)
            .collect();
        for member in &expired {
            state.inflight.remove(member);
            if !state.by_member.contains_key(member) {
                state.by_member.insert(member.clone(), now);
                state.due.insert((now, member.clone()));
            }
        }
        Ok(expired.len())
    }

    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        Ok(self.lock().due.iter().next().map(|(due, _)| *due))
    }

    async fn wait(&self, until_ms: i64) {
        let notified = self.wake.notified();
        let pause = Duration::from_millis((until_ms - now_ms()).clamp(0, i64::MAX) as u64);
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(pause) => {}
        }
    }

    async fn intact(&self) -> anyhow::Result<bool> {
        Ok(true)
    }

    async fn mark_built(&self) -> anyhow::Result<()> {
        Ok(())
    }

    async fn pending(&self) -> anyhow::Result<u64> {
        let state = self.lock();
        Ok((state.due.len() + state.inflight.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn claims_acks_and_reaps() {
        let index = MemoryIndex::new();
        index.schedule(&[("a".into(), 10), ("b".into(), 20), ("c".into(), 30)]).await.unwrap();
        index.schedule(&[("c".into(), 5)]).await.unwrap();
        assert_eq!(index.next_due().await.unwrap(), Some(5));
        let claimed = index.claim(20, 10, Duration::from_millis(100)).await.unwrap();
        assert_eq!(claimed.iter().map(|c| c.member.as_str()).collect::<Vec<_>>(), ["c", "a", "b"]);
        assert!(index.claim(20, 10, Duration::from_millis(100)).await.unwrap().is_empty(), "claimed once");
        index.ack(&["a".into(), "b".into()]).await.unwrap();
        assert_eq!(index.reap(200, 10).await.unwrap(), 1, "c was never acknowledged");
        assert_eq!(index.claim(200, 10, Duration::from_millis(100)).await.unwrap()[0].member, "c");
        index.cancel(&["zzz".into()]).await.unwrap();
        assert_eq!(index.pending().await.unwrap(), 1);
    }
}
