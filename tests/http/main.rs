//! HTTP tests of the whole app, as the binary wires it, on every backend and database.

mod auth;
mod conditional;
mod docs;
mod errors;
mod greeting;
mod idempotency;
mod operations;
mod orders;
#[cfg(feature = "postgres")]
mod outage;
#[cfg(feature = "postgres")]
mod pooler;
#[path = "../shared/provider.rs"]
mod provider;
#[cfg(feature = "postgres")]
#[path = "../shared/proxy.rs"]
mod proxy;
mod support;
// xtask scaffold: modules
