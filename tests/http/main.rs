//! HTTP tests of the whole app, as the binary wires it, on every backend and database.

mod docs;
mod errors;
mod greeting;
mod orders;
mod support;
