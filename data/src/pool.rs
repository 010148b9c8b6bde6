//! What both backends' connection pools share: deadpool's managed pool, built from the
//! [`PoolSettings`], with the same patience, the same check of idle connections, and the
//! same gauges.
//!
//! Each backend brings a [`Manager`]: how to open one of its connections, and what
//! "check it before reuse" means for it (`sqlx_backend/lease.rs`, `diesel_backend/connections.rs`).
//!
//! Why not sqlx's own pool for sqlx: it checks every connection with a round trip to the
//! database as the connection comes back, so a one-statement read wakes the database
//! twice. Here a connection in steady use goes back as it is, and one whose last user did
//! not finish cleanly is closed instead (see `sqlx_backend::Lease`).

use crate::{ConnectError, PoolSettings};
use app_service::PoolStats;
use deadpool::Runtime;
use deadpool::managed::{Manager, Metrics, Pool};
use std::time::Duration;

/// A pooled connection idle for longer than this gets a round trip before reuse, so that
/// one broken while it sat (a database restart, a pooler cut) is replaced rather than
/// handed to a request. Connections in steady use are trusted; one that fails a query is
/// closed by its backend.
const IDLE_CHECK: Duration = Duration::from_secs(10);

/// Whether a pooled connection with these `metrics` needs a round trip before reuse.
pub fn needs_check(metrics: &Metrics) -> bool {
    metrics.last_used() >= IDLE_CHECK
}

/// A pool of `manager`'s connections: at most `max_connections`, opened on demand (so
/// the pool outlives database outages), and every wait (for a free connection, a new
/// one, a check) bounded by `acquire_timeout`: deadpool waits forever by default, and a
/// request should fail instead.
pub fn build<M: Manager>(manager: M, settings: &PoolSettings) -> Result<Pool<M>, ConnectError> {
    let timeout = Some(settings.acquire_timeout);
    Pool::builder(manager)
        .max_size(settings.max_connections as usize)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))
}

/// Connections open and idle, for the gauges.
pub fn stats<M: Manager>(pool: &Pool<M>) -> PoolStats {
    let status = pool.status();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    PoolStats { open: count(status.size), idle: count(status.available) }
}
