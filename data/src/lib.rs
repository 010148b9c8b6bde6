//! # app-data: where the service's data is stored
//!{% capture rust %}
//! The outer layer under the service (web → service ← **data**). It implements the
//~ {%- if backend == "both" %}
//! service's ports with two libraries, to show both ways of reaching a database from an
//! async server:
//!
//! - `sqlx_backend` (feature `sqlx`): async queries, awaited directly on the async workers.
//! - `diesel_backend` (feature `diesel`): blocking queries, plain synchronous functions,
//!   run on a threadpool through deadpool-diesel's `interact` so they never stall a worker.
//~ {%- elsif backend == "sqlx" %}
//+ //! service's ports with sqlx (`sqlx_backend`): async queries, awaited directly on the
//+ //! async workers.
//~ {%- else %}
//+ //! service's ports with diesel (`diesel_backend`): blocking queries, plain synchronous
//+ //! functions, run on a threadpool through deadpool-diesel's `interact` so they never
//+ //! stall a worker.
//~ {%- endif %}{% if database == "both" %}
//!
//! Each works on SQLite (feature `sqlite`) and Postgres (feature `postgres`). What is off
//! is not compiled: no libsqlite3 without `sqlite`, no Postgres driver without `postgres`.
//~ {%- endif %}
//!
//! Start at [`Database`]: the one handle a process opens on its database (the pool, the
//! writer queue, readiness and pool gauges). Repositories borrow it — [`Database::orders`]
//! — so every resource shares one pool. What the repositories share (stored formats,
//! rows → orders) is in `storage`; SQL text used in more than one place in [`sql`]; how
//! connections are set up in `connection`, and pooled (deadpool) in `pool`; the schema in
//! `migrations/` at the top of the workspace, applied by [`migrate`]. The spans that
//! traces show for statements and connection waits are made in [`trace`].
//~ {%- if backend == "both" %}

#[cfg(not(any(feature = "sqlx", feature = "diesel")))]
compile_error!("app-data needs a backend: enable the `sqlx` or the `diesel` feature");
//~ {%- endif %}{% if database == "both" %}
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("app-data needs a database: enable the `sqlite` or the `postgres` feature");
//~ {%- endif %}

mod connection;
mod database;
//~ {%- if backend != "sqlx" %}
#[cfg(feature = "diesel")]
pub mod diesel_backend;
//~ {%- endif %}
mod error;
pub mod migrate;
mod pool;
mod settings;
pub mod sql;
//~ {%- if backend != "diesel" %}
#[cfg(feature = "sqlx")]
pub mod sqlx_backend;
//~ {%- endif %}
mod storage;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "testing")]
pub use rstest_reuse;
#[cfg(feature = "testing")]
pub use testing::all_backends;
pub mod trace;
mod write_gate;

//~ {%- if database != "postgres" %}
#[cfg(feature = "sqlite")]
pub use connection::SQLITE_PRAGMAS;
//~ {%- endif %}
pub use database::Database;
pub use error::ConnectError;
pub use settings::{Backend, DatabaseKind, PoolSettings, Pooler};
//~ {%- if database != "postgres" %}
/// How a time is stored on SQLite, public for the SQLite ceiling in `bench/sqlite`, which
/// writes rows as the service does.
#[cfg(feature = "sqlite")]
pub use storage::DbTime;
//~ {%- endif %}
pub use write_gate::WriteGate;
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
