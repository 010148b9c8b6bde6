//! The conditions the orders queries write with: `owner`'s order `id`, and the guards of
//! a conditional write (its statuses, the versions a [`Precondition`] admits), so that
//! check and write are one statement; [`version_admitted`] is the version guard of any
//! table, which the scaffolded resources use.

use super::schema::orders;
use crate::storage::DbUuid;
use app_service::{Precondition, Status};
use diesel::backend::Backend;
use diesel::dsl::{EqAny, Filter, Find, GtEq};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use uuid::Uuid;

/// `owner`'s order `id`.
pub type Owned<'a> = Filter<Find<orders::table, DbUuid>, diesel::dsl::Eq<orders::owner, &'a str>>;

/// `owner`'s order `id`.
pub fn owned(owner: &str, id: Uuid) -> Owned<'_> {
    orders::table.find(DbUuid(id)).filter(orders::owner.eq(owner))
}

/// A condition on `orders` in database `DB`.
pub type Condition<DB> = Box<dyn BoxableExpression<orders::table, DB, SqlType = Bool>>;

/// The orders' versions `precondition` admits (see [`version_admitted`]).
pub fn admitted<DB: Backend>(precondition: &Precondition) -> Condition<DB>
where
    EqAny<orders::version, Vec<i64>>: BoxableExpression<orders::table, DB, SqlType = Bool>,
    GtEq<orders::version, i64>: BoxableExpression<orders::table, DB, SqlType = Bool>,
{
    version_admitted(orders::version, precondition)
}

/// The values of a table's `version` column that `precondition` admits, as a condition:
/// those it names, or any (every version is at least the first). Boxed: which one depends
/// on the request. A conditional write filters by it, so check and write are one statement.
pub fn version_admitted<T, V, DB>(
    version: V,
    precondition: &Precondition,
) -> Box<dyn BoxableExpression<T, DB, SqlType = Bool>>
where
    DB: Backend,
    V: ExpressionMethods + Expression<SqlType = BigInt>,
    EqAny<V, Vec<i64>>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    GtEq<V, i64>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
{
    match precondition.versions() {
        Some(versions) => Box::new(version.eq_any(versions.to_vec())),
        None => Box::new(version.ge(app_service::model::FIRST_VERSION)),
    }
}

/// `owner`'s order `id` under a version condition and in one of some statuses.
pub type Guarded<'a, DB> = Filter<Filter<Owned<'a>, Condition<DB>>, EqAny<orders::status, Vec<&'static str>>>;

/// `owner`'s order `id`, if its status is one of `allowed` and its version meets
/// `versions` (from [`admitted`]).
pub fn guarded<'a, DB: Backend>(
    owner: &'a str,
    id: Uuid,
    allowed: &[Status],
    versions: Condition<DB>,
) -> Guarded<'a, DB> {
    let allowed: Vec<&'static str> = allowed.iter().map(|status| status.as_str()).collect();
    owned(owner, id).filter(versions).filter(orders::status.eq_any(allowed))
}

/// The status and version of `owner`'s order `id`: why a guarded write did not apply.
pub fn state_of(owner: &str, id: Uuid) -> diesel::dsl::Select<Owned<'_>, (orders::status, orders::version)> {
    owned(owner, id).select((orders::status, orders::version))
}
