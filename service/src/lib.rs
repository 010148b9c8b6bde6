//! # app-service: the domain and its rules
//!
//! The middle layer of the three (web → **service** ← data). It holds what the business
//! means, independent of how requests arrive or where rows are stored:
//!
//! - [`model`]: `Order`, `OrderItem`, `Size`, `Status` — plain data.
//! - [`rules`]: input limits and the allowed status transitions.
//! - [`repository`]: the ports the data layer implements: `OrdersRepository`, and
//!   `StorageHealth` for the database as a whole.
//! - [`orders`]: `OrdersService`, the use cases the web layer calls.
//! - [`resources`]: what every scaffolded resource shares (`cargo xtask scaffold`): its
//!   port and its use cases, generic over its fields.
//! - [`idempotency`]: safe retries (`Idempotency-Key`): the records of keyed requests.
//! - [`fake`]: an in-memory repository for unit tests (the book's "fake" layer).
//!
//! This crate depends on no HTTP and no database crate: both outer layers depend on it,
//! never the other way round. A new resource starts here, with its model, its rules and
//! its repository trait.

pub mod error;
pub mod fake;
pub mod idempotency;
pub mod model;
pub mod orders;
pub mod repository;
pub mod resources;
pub mod rules;
// xtask scaffold: modules

pub use error::{Loc, RepositoryError, ServiceError, Violation};
pub use idempotency::{Idempotency, IdempotencyRepository, KeyRecord, Keyed, StoredResponse};
pub use model::{Order, OrderItem, Owner, Resource, Size, Status};
pub use orders::OrdersService;
// xtask scaffold: exports
pub use repository::{GuardedWrite, OrderFilter, OrdersRepository, Page, PoolStats, Precondition, StorageHealth};
pub use resources::{Fields, ResourceRepository, ResourceService};
