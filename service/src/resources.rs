//! What every resource made by `cargo xtask scaffold` shares, written once: its storage
//! port ([`ResourceRepository`]) and its use cases ([`ResourceService`]), generic over the
//! resource's fields. A resource is its fields type and their rules ([`Fields`]), e.g.
//! `service/src/customers.rs` after `cargo xtask scaffold customer name:string`; what is
//! special about a resource (a status, items, a rule across fields) is written out by
//! hand, as the orders are.

use crate::error::{RepositoryError, ServiceError, Violation};
use crate::idempotency::{KeyRecord, Keyed};
use crate::model::{self, Owner, Resource};
use crate::repository::{Page, Precondition};
use crate::rules;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// A resource's fields: what a client creates or replaces, and the rules they follow.
pub trait Fields: Clone + Send + Sync + 'static {
    /// What errors call the resource: "Customer" in "Customer with ID … not found".
    const RESOURCE: &'static str;

    /// Checks the fields against the rules, each problem located at its field.
    fn validate(&self) -> Result<(), Vec<Violation>>;

    /// The fields as the database keeps them (times to the microsecond, see
    /// [`model::stored_precision`]), so that they read back as they were answered.
    fn stored(self) -> Self {
        self
    }
}

/// Where resources with fields `F` are stored; `data/` implements it on each backend.
/// Every method is atomic and acts for one `owner`: another owner's resource is not
/// seen, listed or touched, exactly like one that does not exist.
#[async_trait]
pub trait ResourceRepository<F: Fields>: Send + Sync + 'static {
    /// Stores a new resource, and `key`'s record with it in one transaction: if the key
    /// is in use, nothing ([`RepositoryError::KeyInUse`]; see [`crate::idempotency`]).
    async fn insert(
        &self,
        owner: &Owner,
        resource: &Resource<F>,
        key: Option<&KeyRecord>,
    ) -> Result<(), RepositoryError>;

    /// The resource with this id.
    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Resource<F>>, RepositoryError>;

    /// A page of resources, newest first.
    async fn list(&self, owner: &Owner, page: Page) -> Result<Vec<Resource<F>>, RepositoryError>;

    /// Replaces the fields if the resource meets `precondition`, as of `at`, one version
    /// up (check and write in one statement): the resource as stored, or `None` if there
    /// is none at a version `precondition` admits.
    async fn replace(
        &self,
        owner: &Owner,
        id: Uuid,
        fields: &F,
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> Result<Option<Resource<F>>, RepositoryError>;

    /// Deletes the resource if it meets `precondition`; `false` if there was none.
    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError>;
}

/// The use cases of resources with fields `F`, over any [`ResourceRepository`]: what the
/// web layer calls, one method per operation. Cheap to clone.
pub struct ResourceService<F: Fields> {
    repository: Arc<dyn ResourceRepository<F>>,
}

impl<F: Fields> Clone for ResourceService<F> {
    fn clone(&self) -> Self {
        Self { repository: Arc::clone(&self.repository) }
    }
}

impl<F: Fields> ResourceService<F> {
    /// The use cases over `repository`.
    pub fn new(repository: Arc<dyn ResourceRepository<F>>) -> Self {
        Self { repository }
    }

    /// Creates a resource of `owner` (with `key`, its record too).
    pub async fn create(
        &self,
        owner: &Owner,
        fields: F,
        key: Option<&Keyed<Resource<F>>>,
    ) -> Result<Resource<F>, ServiceError> {
        fields.validate().map_err(ServiceError::Invalid)?;
        let resource = Resource::new(fields.stored());
        let record = key.map(|key| key.record(&resource, resource.created));
        self.repository.insert(owner, &resource, record.as_ref()).await?;
        Ok(resource)
    }

    /// A page of `owner`'s resources, newest first.
    pub async fn list(&self, owner: &Owner, page: Page) -> Result<Vec<Resource<F>>, ServiceError> {
        rules::validate_page(page.limit, page.offset).map_err(ServiceError::Invalid)?;
        Ok(self.repository.list(owner, page).await?)
    }

    /// One of `owner`'s resources.
    pub async fn get(&self, owner: &Owner, id: Uuid) -> Result<Resource<F>, ServiceError> {
        self.repository.get(owner, id).await?.ok_or(ServiceError::NotFound { resource: F::RESOURCE, id })
    }

    /// Replaces every field of a resource that meets `precondition`.
    pub async fn replace(
        &self,
        owner: &Owner,
        id: Uuid,
        fields: F,
        precondition: &Precondition,
    ) -> Result<Resource<F>, ServiceError> {
        fields.validate().map_err(ServiceError::Invalid)?;
        let replaced = self.repository.replace(owner, id, &fields.stored(), precondition, model::now()).await?;
        replaced.ok_or_else(|| ServiceError::nothing_written(F::RESOURCE, id, precondition))
    }

    /// Deletes a resource that meets `precondition`.
    pub async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<(), ServiceError> {
        match self.repository.delete(owner, id, precondition).await? {
            true => Ok(()),
            false => Err(ServiceError::nothing_written(F::RESOURCE, id, precondition)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::InMemoryResources;
    use crate::model::FIRST_VERSION;

    /// A resource with one short string field.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Note(String);

    impl Fields for Note {
        const RESOURCE: &'static str = "Note";

        fn validate(&self) -> Result<(), Vec<Violation>> {
            let mut violations = Vec::new();
            rules::check_string("text", &self.0, &mut violations);
            rules::verdict(violations)
        }
    }

    fn service() -> ResourceService<Note> {
        ResourceService::new(Arc::new(InMemoryResources::default()))
    }

    fn alice() -> Owner {
        Owner::new("alice")
    }

    #[tokio::test]
    async fn a_resource_is_created_replaced_and_deleted_by_its_owner_only() {
        let notes = service();
        let note = notes.create(&alice(), Note("hello".into()), None).await.unwrap();
        assert_eq!((note.version, notes.get(&alice(), note.id).await.unwrap()), (FIRST_VERSION, note.clone()));
        let bob = Owner::new("bob");
        let hidden = notes.get(&bob, note.id).await.unwrap_err();
        assert!(matches!(hidden, ServiceError::NotFound { resource: "Note", id } if id == note.id));

        let current = Precondition::AtVersion(vec![FIRST_VERSION]);
        let replaced = notes.replace(&alice(), note.id, Note("again".into()), &current).await.unwrap();
        assert_eq!((replaced.version, replaced.fields.0.as_str()), (FIRST_VERSION + 1, "again"));
        let stale = notes.replace(&alice(), note.id, Note("stale".into()), &current).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed { .. }), "{stale:?}");
        assert!(matches!(
            notes.delete(&bob, note.id, &Precondition::Unconditional).await,
            Err(ServiceError::NotFound { .. })
        ));
        notes.delete(&alice(), note.id, &Precondition::Exists).await.unwrap();
        assert!(notes.list(&alice(), Page { limit: 10, offset: 0 }).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn bad_fields_and_pages_are_refused_before_anything_is_stored() {
        let notes = service();
        let refused = notes.create(&alice(), Note(" ".into()), None).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Invalid(violations) if violations[0].kind == "string_blank"));
        assert!(matches!(notes.list(&alice(), Page { limit: 0, offset: 0 }).await, Err(ServiceError::Invalid(_))));
        assert!(notes.list(&alice(), Page { limit: 10, offset: 0 }).await.unwrap().is_empty());
    }
}
