//! What the command line asks for: the resource's names and its fields, checked before
//! anything is written. Each problem is one line for the user.

use heck::{ToTitleCase, ToUpperCamelCase};

/// The types a field may have, by the names the command takes.
pub const TYPES: &str = "string, text, int, bool, datetime or uuid";

/// A field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// 1 to 255 characters, one line, not blank.
    String,
    /// Up to 10,000 characters.
    Text,
    /// A 64-bit signed integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// RFC 3339 with a time zone.
    Datetime,
    /// A UUID.
    Uuid,
}

impl FieldType {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "text" => Self::Text,
            "int" => Self::Int,
            "bool" => Self::Bool,
            "datetime" => Self::Datetime,
            "uuid" => Self::Uuid,
            _ => return None,
        })
    }

    /// The name the command takes, which the templates test.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Text => "text",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Datetime => "datetime",
            Self::Uuid => "uuid",
        }
    }
}

/// One field: `name:type`, or `name:type?` when it may be absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its snake_case name: the Rust field, the column and the JSON key.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether it may be absent (`null`).
    pub optional: bool,
}

/// The resource's names in each form the code uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(non_snake_case, reason = "the templates name each case by how it looks")]
pub struct Names {
    /// `order_note`: the model's module-level names, the path parameter.
    pub singular: String,
    /// `order_notes`: the path, the table, the JSON list key, the modules.
    pub plural: String,
    /// `OrderNote`: the model.
    pub Singular: String,
    /// `OrderNotes`: the repository and the service.
    pub Plural: String,
    /// `Order note`: what errors call it.
    pub Title: String,
    /// `order note`, in prose.
    pub words: String,
    /// `order notes`, in prose.
    pub words_plural: String,
}

impl Names {
    /// The names of resource `singular`, its plural `plural` or the inflection crate's.
    pub fn new(singular: &str, plural: Option<&str>) -> Result<Self, String> {
        check_name("resource", singular)?;
        if is_listed(RESERVED_RESOURCES, singular) {
            return Err(format!(
                "resource name {singular:?} is taken by the code it would be written into; choose another"
            ));
        }
        let plural = match plural {
            Some(plural) => plural.to_owned(),
            None => pluralize(singular),
        };
        check_name("plural", &plural)?;
        if is_listed(RESERVED_RESOURCES, &plural) {
            return Err(format!(
                "plural {plural:?} is taken by the code it would be written into; give another with --plural"
            ));
        }
        if plural == singular {
            return Err(format!("the plural of {singular:?} is the same word: give another with --plural"));
        }
        let title = singular.to_title_case();
        let (first, rest) = title.split_at(1);
        Ok(Self {
            Singular: singular.to_upper_camel_case(),
            Plural: plural.to_upper_camel_case(),
            Title: format!("{first}{}", rest.to_lowercase()),
            words: singular.replace('_', " "),
            words_plural: plural.replace('_', " "),
            singular: singular.to_owned(),
            plural,
        })
    }
}

/// `order_note` → `order_notes`: the last word made plural.
fn pluralize(singular: &str) -> String {
    let (head, last) = singular.rsplit_once('_').map_or(("", singular), |(head, last)| (head, last));
    let plural = pluralizer::pluralize(last, 2, false);
    if head.is_empty() { plural } else { format!("{head}_{plural}") }
}

/// Parses the fields; at least one, no two of one name.
pub fn fields(args: &[String]) -> Result<Vec<Field>, String> {
    if args.is_empty() {
        return Err(format!("no fields: give at least one, as name:type ({TYPES}), e.g. `name:string`"));
    }
    let mut fields: Vec<Field> = Vec::new();
    for arg in args {
        let field = field(arg)?;
        if fields.iter().any(|seen| seen.name == field.name) {
            return Err(format!("field {:?} is given twice", field.name));
        }
        fields.push(field);
    }
    Ok(fields)
}

fn field(arg: &str) -> Result<Field, String> {
    let Some((name, ty)) = arg.split_once(':') else {
        return Err(format!("{arg:?} is not name:type (types: {TYPES}; a trailing `?` makes it optional)"));
    };
    check_name("field", name)?;
    if is_listed(RESERVED_FIELDS, name) {
        return Err(format!("field {name:?} is reserved: every resource has id, created, updated, version and owner"));
    }
    if is_listed(DIESEL_TABLE_ITEMS, name) {
        return Err(format!("field {name:?} would clash with a name diesel's table! defines; choose another"));
    }
    let (ty, optional) = ty.strip_suffix('?').map_or((ty, false), |ty| (ty, true));
    let Some(ty) = FieldType::parse(ty) else {
        return Err(format!("field {name:?} has unknown type {ty:?}: use {TYPES}"));
    };
    Ok(Field { name: name.to_owned(), ty, optional })
}

/// snake_case ASCII, starting with a letter, and no keyword of Rust or SQL.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    let snake = name
        .split('_')
        .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !snake || !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.len() > 50 {
        return Err(format!(
            "{what} name {name:?} is not snake_case (a-z, 0-9 and single underscores, starting with a letter, at most 50)"
        ));
    }
    if is_listed(RUST_KEYWORDS, name) {
        return Err(format!("{what} name {name:?} is a Rust keyword"));
    }
    if is_listed(SQL_KEYWORDS, name) {
        return Err(format!("{what} name {name:?} is an SQL keyword"));
    }
    Ok(())
}

const RESERVED_FIELDS: &str = "\
    id created updated version owner";

/// Names of the service's own routes and modules, and of the variables the scaffolded
/// code uses beside the resource's (`owner`, `key`, `keys`…).
const RESERVED_RESOURCES: &str = "\
    body caller conn current data db docs error fields hi health id idempotency key keys metrics model \
    openapi owner owners page pages precondition query ready redoc replace request resource resources \
    row rows rules service services state stored web";

const DIESEL_TABLE_ITEMS: &str = "\
    table star all_columns columns dsl";

const RUST_KEYWORDS: &str = "\
    abstract as async await become box break const continue crate do dyn else enum extern false final fn \
    for gen if impl in let loop macro match mod move mut override priv pub ref return self static struct \
    super trait true try type typeof union unsafe unsized use virtual where while yield";

/// Reserved words of SQL (the standard's, Postgres' and SQLite's) that a table or column
/// may not be named without quoting.
const SQL_KEYWORDS: &str = "\
    abort all alter analyse analyze and any array as asc asymmetric authorization begin between binary \
    both by case cast check collate collation column commit concurrently constraint create cross \
    current_catalog current_date current_role current_schema current_time current_timestamp current_user \
    default deferrable delete desc distinct do drop else end escape except exists false fetch for \
    foreign freeze from full glob grant group having ilike in index initially inner insert intersect \
    into is isnull join key lateral leading left like limit localtime localtimestamp match natural not \
    notnull null offset on only or order outer overlaps placing pragma primary references regexp \
    returning right rollback select session_user set similar some symmetric system_user table \
    tablesample then to trailing transaction trigger true union unique update user using vacuum values \
    variadic verbose view when where window with";

/// Whether `name` is one of `list`'s words.
fn is_listed(list: &str, name: &str) -> bool {
    list.split_whitespace().any(|word| word == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn names_come_in_every_case_and_plurals_from_the_inflection_crate() {
        let names = Names::new("order_note", None).unwrap();
        assert_eq!((names.plural.as_str(), names.Singular.as_str()), ("order_notes", "OrderNote"));
        assert_eq!((names.Plural.as_str(), names.Title.as_str()), ("OrderNotes", "Order note"));
        assert_eq!(Names::new("category", None).unwrap().plural, "categories");
        assert_eq!(Names::new("person", Some("persons")).unwrap().plural, "persons");
        assert!(Names::new("sheep", None).is_err(), "same plural");
    }

    #[test]
    fn fields_parse_with_their_types_and_optionality() {
        let parsed = fields(&args(&["name:string", "age:int?", "at:datetime"])).unwrap();
        assert_eq!(parsed[1], Field { name: "age".into(), ty: FieldType::Int, optional: true });
        assert_eq!(parsed[2].ty, FieldType::Datetime);
    }

    #[test]
    fn every_bad_input_is_one_clear_line() {
        for bad in [
            &[][..],
            &["name"],
            &["name:float"],
            &["id:uuid"],
            &["Name:string"],
            &["type:string"],
            &["select:int"],
            &["a:int", "a:bool"],
            &["table:text"],
            &["x__y:int"],
        ] {
            let error = fields(&args(bad)).unwrap_err();
            assert!(!error.contains('\n'), "{error}");
        }
        for bad in ["Customer", "order", "2fa", "fn", "user", "a-b", "key", "page"] {
            assert!(Names::new(bad, None).is_err(), "{bad}");
        }
    }
}
