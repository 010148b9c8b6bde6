//! `cargo xtask scaffold`: a new resource through every layer, on the backends and
//! databases the project compiles by default. Everything is checked and rendered first;
//! then the files are written together, formatted with rustfmt, and the OpenAPI snapshot
//! brought up to date.

use crate::project::{Changes, Project};
use crate::spec::{self, Field, FieldType, Names};
use minijinja::{Environment, context};
use serde::Serialize;
use std::fs;
use std::path::Path;
use std::process::Command;

/// `cargo xtask scaffold <singular> <name:type>...`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The resource's singular name, snake_case: `customer`, `order_note`.
    singular: String,
    /// Its fields, `name:type`; a trailing `?` makes one optional. Types: string (1–255
    /// characters, not blank), text (up to 10,000), int (64-bit), bool, datetime (RFC 3339
    /// with a time zone), uuid.
    fields: Vec<String>,
    /// The plural, when the inflection crate's is not the one you want.
    #[arg(long)]
    plural: Option<String>,
    /// Leave the OpenAPI snapshot as it is (it needs a test build); bring it up to date later.
    #[arg(long)]
    no_snapshot: bool,
}

/// diesel's `table!` and tuples hold 16 columns (without its `32-column-tables` feature);
/// every resource has five of its own.
const MAX_FIELDS_ON_DIESEL: usize = 11;

/// Runs the task in the workspace this crate is part of.
pub fn run(args: &Args) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace above xtask/")?;
    let names = Names::new(&args.singular, args.plural.as_deref())?;
    let fields = spec::fields(&args.fields)?;
    let project = Project::open(root)?;
    if project.diesel && fields.len() > MAX_FIELDS_ON_DIESEL {
        return Err(format!("{} fields: on diesel a resource has at most {MAX_FIELDS_ON_DIESEL}", fields.len()));
    }
    if project.has_table(&names.plural) || root.join(format!("service/src/{}.rs", names.plural)).exists() {
        return Err(format!("a resource {:?} already exists", names.plural));
    }
    if let Some(field) = fields.iter().find(|field| field.name == names.plural) {
        return Err(format!(
            "field {:?} has the table's name: diesel's table! cannot hold it; choose another",
            field.name
        ));
    }
    let exported =
        fs::read_to_string(root.join("service/src/lib.rs")).map_err(|error| format!("service/src/lib.rs: {error}"))?;
    let Names { Singular, Plural, .. } = &names;
    for name in [Singular.clone(), format!("{Singular}Fields"), format!("{Plural}Service")] {
        if exported.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == name) {
            return Err(format!(
                "{name} is already a name in app_service (service/src/lib.rs): choose another resource name"
            ));
        }
    }
    let (created, changed) = changes(&project, &names, &fields)?.apply()?;
    for path in &created {
        println!("created  {}", path.display());
    }
    for path in &changed {
        println!("changed  {}", path.display());
    }
    let rust: Vec<_> =
        created.iter().chain(&changed).filter(|path| path.extension().is_some_and(|e| e == "rs")).collect();
    let formatted = Command::new("rustfmt").args(["--edition", "2024"]).args(&rust).current_dir(root).status();
    if !formatted.is_ok_and(|status| status.success()) {
        return Err("the files are written, but rustfmt failed on them: run `cargo fmt` and see".into());
    }
    println!("formatted with rustfmt");
    update_snapshot(root, args.no_snapshot)?;
    println!(
        "\n/{plural} is ready: `cargo run` serves it, documented at /docs; `cargo nextest run --workspace` tests it.\n\
         Your rules go in service/src/{plural}.rs, `{Singular}Fields::validate`.",
        plural = names.plural,
        Singular = names.Singular,
    );
    Ok(())
}

/// The OpenAPI snapshot (`tests/http/snapshots/`), accepted as the document now is: the
/// snapshot test run with insta told to write what it sees.
fn update_snapshot(root: &Path, skip: bool) -> Result<(), String> {
    const HOW: &str = "INSTA_UPDATE=always INSTA_FORCE_PASS=1 cargo test --test http -- docs::the_openapi_document_is_the_reviewed_one";
    if skip {
        println!("the OpenAPI snapshot is left as it was: bring it up to date with\n  {HOW}");
        return Ok(());
    }
    println!("bringing the OpenAPI snapshot up to date (a test build):\n  {HOW}");
    let status = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--test", "http", "--", "docs::the_openapi_document_is_the_reviewed_one"])
        .env("INSTA_UPDATE", "always")
        .env("INSTA_FORCE_PASS", "1")
        .current_dir(root)
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => {
            Err(format!("the resource is written, but the snapshot was not updated: fix the build, then run\n  {HOW}"))
        }
    }
}

/// Every file to create and every insertion, checked and rendered.
fn changes(project: &Project, names: &Names, fields: &[Field]) -> Result<Changes, String> {
    let templates = templates()?;
    let fields: Vec<FieldView> = fields.iter().map(FieldView::of).collect();
    let both_databases = project.sqlite && project.postgres;
    let database_type = |both: &str, postgres: &str, sqlite: &str| match (both_databases, project.postgres) {
        (true, _) => both.to_owned(),
        (false, true) => postgres.to_owned(),
        (false, false) => sqlite.to_owned(),
    };
    let columns = ["id", "created", "updated", "version"].into_iter().map(str::to_owned);
    let context = context! {
        r => names,
        checks => fields.iter().filter(|f| matches!(f.ty, "string" | "text")).collect::<Vec<_>>(),
        times => fields.iter().filter(|f| f.ty == "datetime").collect::<Vec<_>>(),
        uses_uuid => fields.iter().any(|f| f.ty == "uuid"),
        columns => columns.chain(fields.iter().map(|f| f.name.clone())).collect::<Vec<_>>().join(", "),
        fields => &fields,
        both_databases,
        only_database => if project.postgres { "postgres" } else { "sqlite" },
        db_type => database_type("Db", "sqlx::Postgres", "sqlx::Sqlite"),
        conn_type => database_type("Conn", "diesel::PgConnection", "diesel::SqliteConnection"),
    };
    let render = |name: &str, extra: minijinja::Value| {
        let template = templates.get_template(name).map_err(|error| error.to_string())?;
        template.render(context! { ..context.clone(), ..extra }).map_err(|error| format!("template {name}: {error}"))
    };
    let (plural, none) = (&names.plural, context! {});
    let mut changes = Changes::new(&project.root);
    let migration = project.next_migration()?;
    for database in project.databases() {
        let sql = render("migration.sql.jinja", context! { database })?;
        changes.create(&format!("migrations/{database}/{migration:04}_create_{plural}.sql"), sql)?;
    }
    changes.create(&format!("service/src/{plural}.rs"), render("service.rs.jinja", none.clone())?)?;
    changes.create(&format!("web/src/handlers/{plural}.rs"), render("web.rs.jinja", none.clone())?)?;
    changes.create(&format!("data/tests/{plural}.rs"), render("data_test.rs.jinja", none.clone())?)?;
    changes.create(&format!("tests/http/{plural}.rs"), render("http_test.rs.jinja", none.clone())?)?;
    let Names { Singular, Plural, words_plural, .. } = names;
    changes.insert("service/src/lib.rs", "modules", &format!("pub mod {plural};"))?;
    let exports = format!("pub use {plural}::{{{Singular}, {Singular}Fields, {Plural}Service}};");
    changes.insert("service/src/lib.rs", "exports", &exports)?;
    for (backend, on, prefix) in [("sqlx", project.sqlx, "Sqlx"), ("diesel", project.diesel, "Diesel")] {
        if on {
            let file = format!("data/src/{backend}_backend/{plural}.rs");
            changes.create(&file, render(&format!("{backend}.rs.jinja"), none.clone())?)?;
            changes.insert(&format!("data/src/{backend}_backend/mod.rs"), "modules", &format!("mod {plural};"))?;
            let export = format!("pub use {plural}::{prefix}{Plural};");
            changes.insert(&format!("data/src/{backend}_backend/mod.rs"), "repositories", &export)?;
        }
    }
    // One repository type per backend the service has (see `repository!`).
    let backends = [("Sqlx", project.sqlx), ("Diesel", project.diesel)];
    let repositories: Vec<String> =
        backends.iter().filter(|(_, on)| *on).map(|(prefix, _)| format!("{prefix}{Plural}")).collect();
    let repositories = repositories.join(", ");
    let method = format!(
        "/// The {words_plural} repository on this database.\n\
         pub fn {plural}(&self) -> Arc<dyn app_service::ResourceRepository<app_service::{Singular}Fields>> {{\n    \
         repository!(&self.pool, {repositories})\n}}\n"
    );
    changes.insert("data/src/database.rs", "repositories", &method)?;
    changes.insert("web/src/handlers/mod.rs", "modules", &format!("pub mod {plural};"))?;
    let singular = &names.singular;
    let routes = format!(
        "cfg.service({plural}::list_{plural})\n    .service({plural}::create_{singular})\n    \
         .service({plural}::get_{singular})\n    .service({plural}::replace_{singular})\n    \
         .service({plural}::delete_{singular});"
    );
    changes.insert("web/src/handlers/mod.rs", "routes", &routes)?;
    let field = format!("/// The {words_plural} use cases.\npub {plural}: app_service::{Plural}Service,");
    changes.insert("web/src/lib.rs", "services", &field)?;
    changes.insert(
        "web/src/lib.rs",
        "register",
        &format!("config.app_data(web::Data::new(self.{plural}.clone()));"),
    )?;
    let service = format!("{plural}: app_service::{Plural}Service::new(database.{plural}()),");
    changes.insert("src/lib.rs", "services", &service)?;
    changes.insert("tests/http/main.rs", "modules", &format!("mod {plural};"))?;
    Ok(changes)
}

/// The templates, compiled into the task (so it runs from anywhere in the tree).
fn templates() -> Result<Environment<'static>, String> {
    let mut templates = Environment::new();
    templates.set_trim_blocks(true);
    templates.set_lstrip_blocks(true);
    templates.set_keep_trailing_newline(true);
    templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let sources = [
        ("migration.sql.jinja", include_str!("../templates/migration.sql.jinja")),
        ("service.rs.jinja", include_str!("../templates/service.rs.jinja")),
        ("sqlx.rs.jinja", include_str!("../templates/sqlx.rs.jinja")),
        ("diesel.rs.jinja", include_str!("../templates/diesel.rs.jinja")),
        ("web.rs.jinja", include_str!("../templates/web.rs.jinja")),
        ("data_test.rs.jinja", include_str!("../templates/data_test.rs.jinja")),
        ("http_test.rs.jinja", include_str!("../templates/http_test.rs.jinja")),
    ];
    for (name, source) in sources {
        templates.add_template(name, source).map_err(|error| format!("template {name}: {error}"))?;
    }
    Ok(templates)
}

/// A field as the templates write it: its type in each layer, and sample values.
#[derive(Debug, Clone, Serialize)]
struct FieldView {
    name: String,
    ty: &'static str,
    optional: bool,
    /// The doc comment of its Rust fields.
    doc: String,
    /// Its Rust type in the model and the JSON schemas.
    model: String,
    /// Its type in a stored row (ids and times in the data layer's stored forms).
    row: String,
    /// Its `diesel::table!` SQL type.
    diesel: String,
    /// Its column on each database.
    postgres: String,
    sqlite: String,
    /// The value to bind from `fields` (sqlx; borrowed) and to write (diesel; owned).
    bind: String,
    value: String,
    /// The model's value from a row, `row`.
    from_row: String,
    /// `#[schema(...)]` and `#[serde(...)]` of the request body's field, if any.
    schema_attr: String,
    serde_attr: String,
    /// Test values: Rust (by `full`: a sample, or another value or none), JSON, other
    /// JSON, and JSON of the wrong type.
    rust_maybe: String,
    json_sample: String,
    json_other: String,
    json_wrong: String,
}

impl FieldView {
    fn of(field: &Field) -> Self {
        let (name, optional) = (field.name.clone(), field.optional);
        let wrap = |ty: &str| if optional { format!("Option<{ty}>") } else { ty.to_owned() };
        let stored = |wrapper: &str| {
            if optional {
                (format!("fields.{name}.map({wrapper})"), format!("row.{name}.map(|value| value.0)"))
            } else {
                (format!("{wrapper}(fields.{name})"), format!("row.{name}.0"))
            }
        };
        let plain = (format!("fields.{name}"), format!("row.{name}"));
        let null = if optional { "" } else { " NOT NULL" };
        let (model, row, diesel, postgres, sqlite, (value, from_row)) = match field.ty {
            FieldType::String | FieldType::Text => ("String", "String", "Text", "TEXT", "TEXT", plain.clone()),
            FieldType::Int => ("i64", "i64", "BigInt", "BIGINT", "INTEGER", plain.clone()),
            FieldType::Bool => ("bool", "bool", "Bool", "BOOLEAN", "INTEGER", plain.clone()),
            FieldType::Datetime => ("DateTime<Utc>", "DbTime", "StoredTime", "TIMESTAMPTZ", "TEXT", stored("DbTime")),
            FieldType::Uuid => ("Uuid", "DbUuid", "StoredUuid", "UUID", "TEXT", stored("DbUuid")),
        };
        let bind = match (field.ty, optional) {
            (FieldType::String | FieldType::Text, false) => format!("fields.{name}.as_str()"),
            (FieldType::String | FieldType::Text, true) => format!("fields.{name}.as_deref()"),
            _ => value.clone(),
        };
        let sqlite_check =
            if field.ty == FieldType::Bool { format!(" CHECK ({name} IN (0, 1))") } else { String::new() };
        let optional_doc = if optional { " Optional: `null` or left out when absent." } else { "" };
        let rust_other = match field.ty {
            FieldType::String | FieldType::Text => format!("\"another {name}\".to_owned()"),
            FieldType::Int => "-7".to_owned(),
            FieldType::Bool => "false".to_owned(),
            FieldType::Datetime => "\"2027-02-01T08:30:00Z\".parse().unwrap()".to_owned(),
            FieldType::Uuid => "uuid::Uuid::from_u128(8)".to_owned(),
        };
        let (doc, schema_attr, serde_attr, rust, json, other, wrong) = match field.ty {
            FieldType::String => (
                "1 to 255 characters, one line, not blank.",
                format!(
                    "schema_with = crate::fields::{}short_string",
                    if optional { "optional_" } else { "required_" }
                ),
                "",
                format!("\"{name} ☕\".to_owned()"),
                format!("\"{name} ☕\""),
                format!("\"another {name}\""),
                "5",
            ),
            FieldType::Text => (
                "up to 10,000 characters.",
                format!("schema_with = crate::fields::{}text", if optional { "optional_" } else { "required_" }),
                "",
                format!("\"{name}\\non two lines\".to_owned()"),
                format!("\"{name}\\non two lines\""),
                format!("\"another {name}\""),
                "5",
            ),
            FieldType::Int => (
                "a whole number (64-bit).",
                String::new(),
                if optional {
                    "default, deserialize_with = \"crate::fields::optional_whole_number\""
                } else {
                    "deserialize_with = \"crate::schemas::whole_number\""
                },
                "42".to_owned(),
                "42".to_owned(),
                "-7".to_owned(),
                "\"x\"",
            ),
            FieldType::Bool => (
                "`true` or `false`.",
                String::new(),
                "",
                "true".to_owned(),
                "true".to_owned(),
                "false".to_owned(),
                "\"x\"",
            ),
            FieldType::Datetime => (
                "a point in time, RFC 3339 with a time zone; kept to the microsecond.",
                String::new(),
                if optional {
                    "default, deserialize_with = \"crate::fields::optional_rfc3339_time\""
                } else {
                    "deserialize_with = \"crate::fields::rfc3339_time\""
                },
                "\"2026-01-31T12:00:00.123456Z\".parse().unwrap()".to_owned(),
                "\"2026-01-31T12:00:00.123456Z\"".to_owned(),
                "\"2027-02-01T08:30:00Z\"".to_owned(),
                "\"2026-01-31\"",
            ),
            FieldType::Uuid => (
                "a UUID.",
                String::new(),
                if optional {
                    "default, deserialize_with = \"crate::fields::optional_hyphenated_uuid\""
                } else {
                    "deserialize_with = \"crate::fields::hyphenated_uuid\""
                },
                "uuid::Uuid::from_u128(7)".to_owned(),
                "\"3fa85f64-5717-4562-b3fc-2c963f66afa6\"".to_owned(),
                "\"00000000-0000-4000-8000-000000000001\"".to_owned(),
                "\"not a uuid\"",
            ),
        };
        Self {
            ty: field.ty.name(),
            doc: format!("`{name}`: {doc}{optional_doc}"),
            model: wrap(model),
            row: wrap(row),
            diesel: if optional { format!("Nullable<{diesel}>") } else { diesel.to_owned() },
            postgres: format!("{postgres}{null}"),
            sqlite: format!("{sqlite}{null}{sqlite_check}"),
            bind,
            value,
            from_row,
            schema_attr,
            serde_attr: serde_attr.to_owned(),
            rust_maybe: match (field.ty, optional) {
                (FieldType::Bool, false) => "full".to_owned(),
                (_, false) => format!("if full {{ {rust} }} else {{ {rust_other} }}"),
                (FieldType::Int | FieldType::Bool, true) => format!("full.then_some({rust})"),
                (_, true) => format!("full.then(|| {rust})"),
            },
            json_sample: json,
            json_other: other,
            json_wrong: wrong.to_owned(),
            name,
            optional,
        }
    }
}
