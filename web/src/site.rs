//! The API docs as a static site (the binary's `docs --out DIR`), to publish with a release on
//! any static file host (GitHub Pages, an S3 bucket) or to open from disk:
//!
//! - `index.html` and its files: Swagger UI, from the files compiled into utoipa-swagger-ui;
//! - `redoc.html`, `redoc.standalone.js` and its licences: Redoc, from [`crate::redoc`];
//! - `openapi.json`: the document.
//!
//! Every page loads only files beside it, by relative URL, and no page fetches the
//! document: browsers refuse `fetch()` on `file://` pages, so each initializer carries the
//! document inline. `openapi.json` is there for tools and readers.

use crate::docs::Api;
use crate::redoc;
use serde_json::{Value, json};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Swagger UI's page; every file it refers to is written beside it.
const SWAGGER_INDEX: &str = "index.html";
/// Swagger UI's initializer, which this module writes instead of the packaged one.
const SWAGGER_INITIALIZER: &str = "swagger-initializer.js";

/// Writes the site into `dir` (created if missing; files of the same names are replaced)
/// and returns the names of the files written, in order.
///
/// This is blocking file I/O. It runs in the command-line path, before and instead of the
/// server, never on an async worker serving requests.
pub fn write(api: &Api, dir: &Path) -> io::Result<Vec<String>> {
    fs::create_dir_all(dir)?;
    let doc = serde_json::to_value(&api.doc).map_err(io::Error::other)?;
    let title = api.doc.info.title.as_str();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    let pretty = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    files.push(("openapi.json".into(), format!("{pretty}\n").into_bytes()));

    let index = swagger_file(SWAGGER_INDEX)?;
    let html = String::from_utf8(index.clone()).map_err(io::Error::other)?;
    files.push((SWAGGER_INDEX.into(), index));
    for name in local_refs(&html) {
        if name != SWAGGER_INITIALIZER {
            let bytes = swagger_file(&name)?;
            files.push((name, bytes));
        }
    }
    files.push((SWAGGER_INITIALIZER.into(), swagger_initializer(&doc).into_bytes()));

    files.push(("redoc.html".into(), redoc::page(title, "redoc.standalone.js", "redoc-init.js").into_bytes()));
    files.push(("redoc-init.js".into(), redoc::initializer(&doc).into_bytes()));
    files.push(("redoc.standalone.js".into(), redoc::REDOC_JS.to_vec()));
    files.push(("redoc.standalone.js.LICENSE.txt".into(), redoc::REDOC_NOTICES.to_vec()));
    files.push(("redoc.LICENSE".into(), redoc::REDOC_LICENSE.to_vec()));

    for (name, bytes) in &files {
        fs::write(dir.join(name), bytes)?;
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// The files an HTML page loads or links to by relative URL (`src="…"`, `href="…"`),
/// without a leading `./`. Absolute URLs (`https://…`, `//…`, `/…`) are left out: a
/// static site must not need them, and the tests check there are none.
pub fn local_refs(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            let value = rest.split('"').next().unwrap_or_default();
            let is_absolute = value.contains("://") || value.starts_with('/') || value.starts_with('#');
            if !value.is_empty() && !is_absolute {
                refs.push(value.trim_start_matches("./").to_owned());
            }
        }
    }
    refs
}

/// A file of the Swagger UI distribution compiled into utoipa-swagger-ui.
fn swagger_file(name: &str) -> io::Result<Vec<u8>> {
    // The configuration only matters for the initializer, which is not taken from here.
    let config = Arc::new(utoipa_swagger_ui::Config::default());
    let file = utoipa_swagger_ui::serve(name, config)
        .map_err(|e| io::Error::other(e.to_string()))?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("Swagger UI has no file {name}")))?;
    if file.gzpipped {
        // Only with utoipa-swagger-ui's `gzip` feature, which this crate leaves off.
        return Err(io::Error::other(format!("Swagger UI's {name} is gzipped")));
    }
    Ok(file.bytes.into_owned())
}

/// Swagger UI on `doc`, inline, with the online validator off (it would send the
/// document to swagger.io) and without the top bar, whose URL box would fetch.
fn swagger_initializer(doc: &Value) -> String {
    let config = json!({
        "spec": doc,
        "dom_id": "#swagger-ui",
        "deepLinking": true,
        "validatorUrl": "none",
        "layout": "BaseLayout",
    });
    format!(
        "window.onload = function () {{\n  window.ui = SwaggerUIBundle(Object.assign({config}, {{\n    \
         presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],\n    \
         plugins: [SwaggerUIBundle.plugins.DownloadUrl],\n  }}));\n}};\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_refs_are_the_relative_ones() {
        let html = r##"<link href="./a.css"><script src="b.js"></script><a href="#x"></a>
            <img src="https://cdn.example/logo.svg"><script src="//cdn.example/c.js"></script><a href="/d">"##;
        assert_eq!(local_refs(html), ["b.js", "a.css"]);
    }

    #[test]
    fn the_swagger_initializer_carries_the_document() {
        let script = swagger_initializer(&json!({"openapi": "3.1.0"}));
        assert!(script.contains(r#""spec":{"openapi":"3.1.0"}"#), "{script}");
        assert!(script.contains(r#""validatorUrl":"none""#), "{script}");
        assert!(!script.contains("\"url\""), "{script}");
    }
}
