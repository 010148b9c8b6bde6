//! # app-data: where the service's data is stored
//!
//! The outer layer under the service (web → service ← **data**). It implements the
//! service's ports with two libraries, to show both ways of reaching a database from an
//! async server:
//!
//! - `sqlx_backend` (feature `sqlx`): async queries, awaited directly on the async workers.
//! - `diesel_backend` (feature `diesel`): blocking queries, plain synchronous functions,
//!   run on a threadpool through deadpool-diesel's `interact` so they never stall a worker.
//!
//! Each works on SQLite (feature `sqlite`) and Postgres (feature `postgres`). What is off
//! is not compiled: no diesel crate without `diesel`, no libsqlite3 without `sqlite`.
//!
//! Start at [`Database`]: the one handle a process opens on its database (the pool, the
//! SQLite writer queue, readiness and pool gauges). Repositories borrow it —
//! [`Database::orders`] — so every resource shares one pool. What both backends share
//! (stored formats, rows → orders) is in `storage`; SQL text used in more than one place
//! (by both backends, or by a repository and the SQLite benchmark) in [`sql`]; how
//! connections are set up (SQLite pragmas, Postgres options) in `connection`, and pooled
//! (deadpool, for both backends) in `pool`; the schema
//! in `migrations/` at the top of the workspace, applied by [`migrate`]. The spans that
//! traces show for statements and connection waits are made in [`trace`].

#[cfg(not(any(feature = "sqlx", feature = "diesel")))]
compile_error!("app-data needs a backend: enable the `sqlx` or the `diesel` feature");
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("app-data needs a database: enable the `sqlite` or the `postgres` feature");

mod connection;
mod database;
// A service generated with one backend has no folder for the other, and rustfmt wants the
// file of every `mod` it sees, whatever its `cfg`: generation drops the declaration too
// (the Liquid `if` comments around it are cargo-generate's; the compiler and rustfmt ignore them).
// {%- if backend != "sqlx" %}
#[cfg(feature = "diesel")]
pub mod diesel_backend;
// {%- endif %}
mod error;
pub mod migrate;
mod pool;
mod settings;
pub mod sql;
// {%- if backend != "diesel" %}
#[cfg(feature = "sqlx")]
pub mod sqlx_backend;
// {%- endif %}
mod storage;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "testing")]
pub use rstest_reuse;
#[cfg(feature = "testing")]
pub use testing::all_backends;
pub mod trace;
mod write_gate;

#[cfg(feature = "sqlite")]
pub use connection::SQLITE_PRAGMAS;
pub use database::Database;
pub use error::ConnectError;
pub use settings::{Backend, DatabaseKind, PoolSettings, Pooler};
/// How a time is stored on SQLite, public for the SQLite ceiling in `bench/sqlite`, which
/// writes rows as the service does.
#[cfg(feature = "sqlite")]
pub use storage::DbTime;
pub use write_gate::WriteGate;
