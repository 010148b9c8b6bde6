//! The SQLite writer queue, one per database handle.

use crate::DatabaseKind;
use app_service::RepositoryError;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

/// Queues writers in-process on SQLite, which takes one writer at a time.
///
/// Without it, colliding writers wait in SQLite's busy handler, which polls with sleeps
/// of up to 100 ms: fine for throughput, poor for tail latency. Queued here (first come,
/// first served, no polling) they go one after another as soon as the previous commits.
/// The wait is bounded by the pool timeout like any other. Postgres needs no gate.
///
/// The [`Database`](crate::Database) owns the one gate of its database, and every
/// repository's writes pass it, so writers of different resources queue together.
#[derive(Debug)]
pub struct WriteGate {
    turn: Option<Mutex<()>>,
    patience: Duration,
}

/// A writer's turn: held until dropped. `None` where there is no queue (Postgres).
pub type Turn<'gate> = Option<MutexGuard<'gate, ()>>;

impl WriteGate {
    /// A gate for `kind`'s writers, waiting at most `patience` for a turn.
    pub fn new(kind: DatabaseKind, patience: Duration) -> Self {
        let turn = (kind == DatabaseKind::Sqlite).then(|| Mutex::new(()));
        Self { turn, patience }
    }

    /// Waits for this writer's turn, which lasts as long as the returned guard.
    pub async fn enter(&self) -> Result<Turn<'_>, RepositoryError> {
        let Some(turn) = &self.turn else { return Ok(None) };
        match tokio::time::timeout(self.patience, turn.lock()).await {
            Ok(guard) => Ok(Some(guard)),
            Err(elapsed) => Err(RepositoryError::Unavailable(Box::new(elapsed))),
        }
    }
}
