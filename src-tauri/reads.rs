//! Reads that stop when the front end goes away: a backup's contents streams the whole
//! backup, and a dialog closed meanwhile must not leave it downloading. Unlike jobs they take
//! no profile slot (a read changes nothing and may run beside a backup); the front end names
//! each one and `cancel_job(id)` stops it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use rythm_backup_core::Cancel;

use crate::error::UiResult;
use crate::state::checked_job_id;

/// How many cancels of reads not yet started are remembered (a Close can overtake the
/// command that starts the read); older ones are forgotten.
const EARLY_CANCELS_KEPT: usize = 32;

#[derive(Clone, Default)]
pub struct Reads(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    running: HashMap<String, Cancel>,
    early_cancels: VecDeque<String>,
}

impl Reads {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a read under the front end's id; without an id the read cannot be stopped
    /// (an older front end). The guard forgets it when the command ends.
    pub fn start(&self, id: Option<String>) -> UiResult<ReadGuard> {
        let cancel = Cancel::new();
        let Some(id) = id else {
            return Ok(ReadGuard {
                reads: self.clone(),
                id: None,
                cancel,
            });
        };
        let id = checked_job_id(id)?;
        let mut registry = self.lock();
        if let Some(at) = registry.early_cancels.iter().position(|e| *e == id) {
            registry.early_cancels.remove(at);
            cancel.cancel();
        }
        registry.running.insert(id.clone(), cancel.clone());
        Ok(ReadGuard {
            reads: self.clone(),
            id: Some(id),
            cancel,
        })
    }

    /// Stops the read named `id`: true when one was running; else it is remembered, so a read
    /// that starts later under that id starts stopped.
    pub fn cancel(&self, id: &str) -> bool {
        let mut registry = self.lock();
        if let Some(cancel) = registry.running.get(id) {
            tracing::info!(read = id, "stopping a read");
            cancel.cancel();
            return true;
        }
        if registry.early_cancels.len() == EARLY_CANCELS_KEPT {
            registry.early_cancels.pop_front();
        }
        registry.early_cancels.push_back(id.to_owned());
        false
    }
}

/// A running read; forgotten when dropped (however the command ends).
pub struct ReadGuard {
    reads: Reads,
    id: Option<String>,
    pub cancel: Cancel,
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            self.reads.lock().running.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_stopped_by_its_id_and_forgotten_when_it_ends() {
        let reads = Reads::default();
        let read = reads.start(Some("contents-1".into())).unwrap();
        let other = reads.start(Some("contents-2".into())).unwrap();
        assert!(reads.cancel("contents-1"));
        assert!(read.cancel.is_cancelled());
        assert!(!other.cancel.is_cancelled(), "only the named read stops");
        drop(read);
        assert!(!reads.lock().running.contains_key("contents-1"));
        assert!(reads.lock().running.contains_key("contents-2"));
    }

    #[test]
    fn a_cancel_that_overtakes_its_read_stops_it_at_start_once() {
        let reads = Reads::default();
        assert!(!reads.cancel("contents-early"));
        let read = reads.start(Some("contents-early".into())).unwrap();
        assert!(read.cancel.is_cancelled());
        drop(read);
        let again = reads.start(Some("contents-early".into())).unwrap();
        assert!(!again.cancel.is_cancelled(), "an early cancel is used once");
        for n in 0..=EARLY_CANCELS_KEPT {
            reads.cancel(&format!("never-{n}"));
        }
        assert_eq!(reads.lock().early_cancels.len(), EARLY_CANCELS_KEPT);
    }

    #[test]
    fn ids_are_checked_and_a_read_without_one_runs_unstoppable() {
        let reads = Reads::default();
        assert!(reads.start(Some("../x".into())).is_err());
        let read = reads.start(None).unwrap();
        assert!(!read.cancel.is_cancelled());
        assert!(reads.lock().running.is_empty());
    }
}
