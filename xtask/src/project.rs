//! The project being changed: what it compiles (its root `default` features), and a set
//! of changes to its files that are checked first and then made all together, or, if one
//! cannot be made, none.

use std::fs;
use std::path::{Path, PathBuf};

/// The project at `root` and what it compiles by default.
#[derive(Debug)]
pub struct Project {
    /// The workspace root.
    pub root: PathBuf,
    /// The backends and databases in the root package's `default` features.
    pub sqlx: bool,
    /// See [`Self::sqlx`].
    pub diesel: bool,
    /// See [`Self::sqlx`].
    pub sqlite: bool,
    /// See [`Self::sqlx`].
    pub postgres: bool,
}

impl Project {
    /// The project at `root`, from its `Cargo.toml`.
    pub fn open(root: &Path) -> Result<Self, String> {
        let manifest = read(&root.join("Cargo.toml"))?;
        let manifest: toml::Table = manifest.parse().map_err(|error| format!("Cargo.toml: {error}"))?;
        let default = manifest.get("features").and_then(|features| features.get("default")).and_then(|d| d.as_array());
        let Some(default) = default else { return Err("Cargo.toml has no [features] default list".into()) };
        let has = |feature: &str| default.iter().any(|value| value.as_str() == Some(feature));
        let project = Self {
            root: root.to_owned(),
            sqlx: has("sqlx"),
            diesel: has("diesel"),
            sqlite: has("sqlite"),
            postgres: has("postgres"),
        };
        if !(project.sqlx || project.diesel) || !(project.sqlite || project.postgres) {
            return Err(
                "Cargo.toml's default features name no backend (sqlx, diesel) or no database (sqlite, postgres)".into(),
            );
        }
        Ok(project)
    }

    /// The databases compiled in, by their `migrations/` folder names.
    pub fn databases(&self) -> Vec<&'static str> {
        [("postgres", self.postgres), ("sqlite", self.sqlite)]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(db, _)| db)
            .collect()
    }

    /// The number of the next migration: one more than the highest in `migrations/`.
    pub fn next_migration(&self) -> Result<u32, String> {
        let mut highest = 0;
        for database in self.databases() {
            let folder = self.root.join("migrations").join(database);
            let entries = fs::read_dir(&folder).map_err(|error| format!("{}: {error}", folder.display()))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(number) = name.split('_').next().and_then(|number| number.parse::<u32>().ok()) {
                    highest = highest.max(number);
                }
            }
        }
        Ok(highest + 1)
    }

    /// Whether any migration creates table `table`.
    pub fn has_table(&self, table: &str) -> bool {
        let create = format!("create table {table} ");
        self.databases().iter().any(|database| {
            let folder = self.root.join("migrations").join(database);
            fs::read_dir(folder)
                .into_iter()
                .flatten()
                .flatten()
                .any(|entry| fs::read_to_string(entry.path()).is_ok_and(|sql| sql.to_lowercase().contains(&create)))
        })
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
}

/// Files to create and files to change, made by [`Changes::apply`] all together.
#[derive(Debug, Default)]
pub struct Changes {
    root: PathBuf,
    created: Vec<(PathBuf, String)>,
    /// Each changed file: its contents before, and after.
    changed: Vec<(PathBuf, String, String)>,
}

/// What marks an insertion point: `// xtask scaffold: <slot>`.
pub const MARKER: &str = "// xtask scaffold: ";

impl Changes {
    /// Changes to the project at `root`.
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned(), ..Self::default() }
    }

    /// Creates `path` (relative to the root) with `contents`; it must not exist.
    pub fn create(&mut self, path: &str, contents: String) -> Result<(), String> {
        let full = self.root.join(path);
        if full.exists() {
            return Err(format!("{path} already exists"));
        }
        self.created.push((full, contents));
        Ok(())
    }

    /// Inserts `text` (lines) just above `path`'s `// xtask scaffold: <slot>` line, indented
    /// as it is; the marker must be there, once.
    pub fn insert(&mut self, path: &str, slot: &str, text: &str) -> Result<(), String> {
        let full = self.root.join(path);
        let index = match self.changed.iter().position(|(changed, _, _)| *changed == full) {
            Some(index) => index,
            None => {
                let contents = read(&full)?;
                self.changed.push((full, contents.clone(), contents));
                self.changed.len() - 1
            }
        };
        let after = &mut self.changed[index].2;
        let marker = format!("{MARKER}{slot}");
        let lines: Vec<&str> = after.lines().filter(|line| line.trim() == marker).collect();
        let [line] = lines[..] else {
            return Err(format!("{path} has no insertion point `{marker}` (or more than one): was it edited?"));
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        let block: String = text.lines().map(|text| format!("{indent}{text}\n")).collect();
        let at = after.find(line).unwrap_or_default();
        *after = format!("{}{block}{}", &after[..at], &after[at..]);
        Ok(())
    }

    /// Makes every change; if one fails, undoes those made and reports it. The paths
    /// made, then those changed, relative to the root.
    pub fn apply(self) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
        let mut done: Vec<(&Path, Option<&str>)> = Vec::new();
        let mut result = Ok(());
        for (path, contents) in &self.created {
            result = fs::create_dir_all(path.parent().unwrap_or(&self.root)).and_then(|()| fs::write(path, contents));
            if result.is_err() {
                break;
            }
            done.push((path, None));
        }
        if result.is_ok() {
            for (path, before, after) in &self.changed {
                result = fs::write(path, after);
                if result.is_err() {
                    break;
                }
                done.push((path, Some(before)));
            }
        }
        if let Err(error) = result {
            for (path, before) in done {
                let _ = match before {
                    None => fs::remove_file(path),
                    Some(before) => fs::write(path, before),
                };
            }
            return Err(format!("nothing was changed: {error}"));
        }
        let relative = |path: &PathBuf| path.strip_prefix(&self.root).unwrap_or(path).to_owned();
        Ok((
            self.created.iter().map(|(p, _)| relative(p)).collect(),
            self.changed.iter().map(|(p, _, _)| relative(p)).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_go_above_their_marker_indented_and_a_missing_marker_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.rs"), "fn f() {\n    one();\n    // xtask scaffold: calls\n}\n").unwrap();
        let mut changes = Changes::new(dir.path());
        changes.insert("a.rs", "calls", "two();\nthree();").unwrap();
        changes.create("b.rs", "// new\n".into()).unwrap();
        assert!(changes.insert("a.rs", "routes", "x").unwrap_err().contains("no insertion point"));
        assert!(changes.create("a.rs", String::new()).unwrap_err().contains("already exists"));
        changes.apply().unwrap();
        let a = fs::read_to_string(dir.path().join("a.rs")).unwrap();
        assert_eq!(a, "fn f() {\n    one();\n    two();\n    three();\n    // xtask scaffold: calls\n}\n");
        assert!(dir.path().join("b.rs").exists());
    }
}
