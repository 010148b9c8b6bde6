//! Errors of the service layer and of the repositories beneath it.

use crate::model::Status;
use crate::repository::Precondition;
use uuid::Uuid;

/// Why a use case failed. The web layer maps each variant to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke one or more rules; nothing was written.
    #[error("invalid input")]
    Invalid(Vec<Violation>),
    /// No `resource` (e.g. "Order") has this id, or not one the caller may see.
    #[error("{resource} with ID {id} not found")]
    NotFound {
        /// What was looked for, as clients read it: "Order".
        resource: &'static str,
        /// The id asked for.
        id: Uuid,
    },
    /// The order exists but its status does not allow the operation.
    #[error("{action} is not allowed for an order that is {status}")]
    Conflict {
        /// What was attempted ("pay", "cancel", "update").
        action: &'static str,
        /// The order's status at the time.
        status: Status,
    },
    /// The caller expected the resource at other versions (or to exist); nothing changed.
    #[error("{resource} with ID {id} is not at the version the request expects")]
    PreconditionFailed {
        /// What was written to, as clients read it: "Order".
        resource: &'static str,
        /// Its id.
        id: Uuid,
    },
    /// Another request with the same `Idempotency-Key` stored its answer first; this one
    /// changed nothing (see [`crate::idempotency`]).
    #[error("the idempotency key is in use")]
    KeyInUse,
    /// The database could not be reached in time; the request may be retried.
    #[error("the database is unavailable")]
    Unavailable,
    /// Anything else: a bug or corrupt data. Logged, never shown to clients.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// What a write to `resource` `id` that found nothing to change answers: with a
    /// `precondition` (the caller expected a version, or any), [`Self::PreconditionFailed`];
    /// without one, [`Self::NotFound`].
    pub fn nothing_written(resource: &'static str, id: Uuid, precondition: &Precondition) -> Self {
        if precondition.is_conditional() {
            Self::PreconditionFailed { resource, id }
        } else {
            Self::NotFound { resource, id }
        }
    }
}

impl From<RepositoryError> for ServiceError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::KeyInUse => Self::KeyInUse,
            RepositoryError::Unavailable(_) => Self::Unavailable,
            RepositoryError::Internal(source) => Self::Internal(source),
        }
    }
}

/// What a repository reports. Expected outcomes (missing row, refused transition) are
/// values, not errors; see [`crate::repository::GuardedWrite`].
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// A write carried a key record, and its owner already has a live record of that key:
    /// nothing was written.
    #[error("the idempotency key is in use")]
    KeyInUse,
    /// No connection within the pool's timeout, or the connection broke.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A query failed for another reason, or returned data the model cannot hold.
    #[error("database error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One broken rule, located in the input like FastAPI's validation errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the input, relative to the argument that was checked.
    pub loc: Vec<Loc>,
    /// A human-readable message.
    pub msg: String,
    /// A stable machine-readable kind, e.g. `too_long`.
    pub kind: &'static str,
}

/// One step of a [`Violation`]'s location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    /// A named field.
    Field(&'static str),
    /// A position in a list.
    Index(usize),
}
