//! # xtask: the project's own developer tasks
//!
//! `cargo xtask <task>` runs this crate (the alias is in `.cargo/config.toml`): a
//! workspace member, so it builds with the project's toolchain and lints, and never part
//! of the service's binary.
//!
//! - `scaffold`: a new resource through every layer, backend and database the project
//!   compiles, with its migrations, OpenAPI document and tests ([`scaffold`]).
//!
//! [`spec`] reads and checks what the command line asks for; [`project`] reads the tree
//! and changes it all at once or not at all; the templates are in `xtask/templates/`.

mod project;
mod scaffold;
mod spec;

use clap::Parser;
use std::process::ExitCode;

/// The project's developer tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
enum Task {
    /// Adds a resource: migrations, model and rules, repositories, handlers, docs, tests.
    ///
    /// Example: `cargo xtask scaffold customer name:string email:string age:int? vip:bool notes:text?`
    Scaffold(scaffold::Args),
}

fn main() -> ExitCode {
    let result = match Task::parse() {
        Task::Scaffold(args) => scaffold::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
