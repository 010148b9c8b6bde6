//! The threads diesel's queries run on: a blocking threadpool of the backend's own, with
//! one thread per pooled connection.
//!
//! deadpool-diesel's `interact` hands its closure to `tokio::task::spawn_blocking`, that
//! is, to the blocking threadpool of whichever runtime polls it. Under actix-web that is
//! the worker's: one pool per worker, shared with `web::block` and any other blocking
//! work, and allowed to grow to hundreds of threads. Under load it grows to several
//! threads per connection (a thread that has just finished is not yet idle when the next
//! query comes, so tokio starts another), each with its share of glibc's malloc arenas.
//!
//! Here `interact` is polled with this backend's own runtime as the current one
//! ([`QueryThreads::run`]), so its closure lands on that runtime's blocking threads: at
//! most one per connection, since a query without a connection cannot start. A query never
//! waits for a thread behind other blocking work, and other blocking work never waits
//! behind queries. The runtime runs nothing else: no async tasks, no timers, no I/O.

use std::future::Future;
use std::pin::pin;
use tokio::runtime::{Builder, Handle, Runtime};

/// What the query threads are called (in `top -H`, a debugger, a panic message).
pub const THREAD_NAME: &str = "diesel-query";

/// A runtime kept only for its blocking threadpool.
pub struct QueryThreads {
    /// Always `Some` until `drop`, which shuts it down.
    runtime: Option<Runtime>,
}

impl QueryThreads {
    /// At most `threads` threads, started as queries need them and stopped after ten
    /// seconds idle (tokio's default).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let runtime =
            Builder::new_current_thread().max_blocking_threads(threads.max(1)).thread_name(THREAD_NAME).build()?;
        Ok(Self { runtime: Some(runtime) })
    }

    /// Awaits `future` (a deadpool-diesel `interact`, or a connection's `new`) with these
    /// threads as the place where it spawns blocking work. Only the polling switches
    /// runtime; the awaiting task stays on its worker and is woken when the query is done.
    ///
    /// Wrap only those calls, not a whole pool checkout: the pool's waits are tokio
    /// timers, which must stay on the worker's runtime (this one has no timers).
    pub async fn run<T>(&self, future: impl Future<Output = T>) -> T {
        let mut future = pin!(future);
        std::future::poll_fn(|cx| {
            let _current = self.handle().map(Handle::enter);
            future.as_mut().poll(cx)
        })
        .await
    }

    fn handle(&self) -> Option<&Handle> {
        self.runtime.as_ref().map(Runtime::handle)
    }
}

impl Drop for QueryThreads {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its threads end, which may not happen on an
        // async worker; a query still running finishes on its own and is discarded.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
