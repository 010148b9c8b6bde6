//! Redoc at `/redoc`, beside Swagger UI at `/docs` (as FastAPI serves both), from the
//! Redoc bundle vendored in `web/assets/redoc/` and compiled into the binary.
//!
//! The page makes no request to any other host. Redoc 2.x sends no telemetry and loads no
//! fonts, but its sidebar shows a logo from `cdn.redoc.ly` that no option turns off; the
//! page's Content-Security-Policy ([`CONTENT_SECURITY_POLICY`]) allows only this origin, so
//! the browser never asks for it (Redoc hides the image when it fails).
//!
//! [`page`] and [`initializer`] are shared with the static site ([`crate::site`]), which
//! passes the document itself instead of its URL.

use crate::docs::{Api, OPENAPI_PATH};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpResponse, guard, web};
use serde_json::{Value, json};

/// The vendored Redoc release.
pub const REDOC_VERSION: &str = "2.5.4";

/// `redoc.standalone.js`: a classic script that defines the global `Redoc`.
pub const REDOC_JS: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");

/// Redoc's licence (MIT).
pub const REDOC_LICENSE: &[u8] = include_bytes!("../assets/redoc/LICENSE");

/// The licences of the libraries bundled in the script, which its first line points to.
pub const REDOC_NOTICES: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js.LICENSE.txt");

/// Where the page is served.
pub const REDOC_PATH: &str = "/redoc";

/// Only this origin; inline styles (Redoc's styled-components write them), `data:` images
/// (its icons) and a `blob:` worker (its search index). No other host can be reached.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'";

/// The script's URL. The version is part of it, so a new release is a new URL and the
/// old one can be cached for a year.
const SCRIPT_PATH: &str = "/redoc/2.5.4/redoc.standalone.js";
/// The notices, beside the script, where its first line says they are.
const NOTICES_PATH: &str = "/redoc/2.5.4/redoc.standalone.js.LICENSE.txt";
/// Redoc's own licence, beside the script.
const LICENSE_PATH: &str = "/redoc/2.5.4/LICENSE";
/// What starts Redoc on the page. Not versioned: it changes with the service.
const INIT_PATH: &str = "/redoc/init.js";

/// Redoc's HTML page: the script at `script`, then the initializer at `init`. External
/// scripts only, so the policy needs no `'unsafe-inline'` for scripts. The policy is in
/// the page too, for static hosts that send no headers and for `file://`.
pub fn page(title: &str, script: &str, init: &str) -> String {
    let title = html_escape(title);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<title>{title} – Redoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="redoc"></div>
<script src="{script}"></script>
<script src="{init}"></script>
</body>
</html>
"#
    )
}

/// The script that starts Redoc on `spec`: the document's URL, or the document itself
/// (for `file://`, where browsers refuse to fetch a URL).
pub fn initializer(spec: &Value) -> String {
    let options = json!({
        // A spinner would only flash: the document is local.
        "hideLoading": true,
        // Fonts installed on the reader's machine; Redoc's defaults name web fonts this
        // page does not load.
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": { "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
                "code": { "fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" }
            }
        }
    });
    // JSON is valid JavaScript, so the values are written as JSON.
    format!("Redoc.init({spec}, {options}, document.getElementById(\"redoc\"));\n")
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Registers `/redoc` and its files. The page and initializer are built here, once per
/// worker, from `api`'s title.
pub fn routes(api: &Api) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let page = web::Bytes::from(page(&api.doc.info.title, SCRIPT_PATH, INIT_PATH));
    let init = web::Bytes::from(initializer(&json!(OPENAPI_PATH)));
    move |cfg| {
        cfg.route(REDOC_PATH, read().to(move || serve(page.clone(), "text/html; charset=utf-8", false)))
            .route(INIT_PATH, read().to(move || serve(init.clone(), "text/javascript; charset=utf-8", false)))
            .route(SCRIPT_PATH, read().to(|| serve(REDOC_JS.into(), "text/javascript; charset=utf-8", true)))
            .route(NOTICES_PATH, read().to(|| serve(REDOC_NOTICES.into(), "text/plain; charset=utf-8", true)))
            .route(LICENSE_PATH, read().to(|| serve(REDOC_LICENSE.into(), "text/plain; charset=utf-8", true)));
    }
}

/// GET, and HEAD for caches and link checkers (actix sends HEAD answers without the body).
fn read() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn serve(body: web::Bytes, content_type: &'static str, versioned: bool) -> HttpResponse {
    let cache = if versioned {
        vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(365 * 24 * 3600),
            CacheDirective::Extension("immutable".into(), None),
        ]
    } else {
        // Revalidated on every use: it describes the running service.
        vec![CacheDirective::NoCache]
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paths_name_the_vendored_version() {
        let notices = std::str::from_utf8(REDOC_NOTICES).unwrap_or_default();
        assert!(notices.contains(&format!("Version: \"{REDOC_VERSION}\"")), "the notices are of {REDOC_VERSION}");
        for path in [SCRIPT_PATH, NOTICES_PATH, LICENSE_PATH] {
            assert!(path.starts_with(&format!("{REDOC_PATH}/{REDOC_VERSION}/")), "{path}");
        }
    }

    #[test]
    fn the_page_loads_only_its_two_scripts() {
        let html = page("A <b> & \"c\"", "s.js", "i.js");
        assert!(html.contains("<title>A &lt;b&gt; &amp; &quot;c&quot; – Redoc</title>"), "{html}");
        assert_eq!(html.matches("<script").count(), 2);
        assert!(html.contains(r#"<script src="s.js"></script>"#) && html.contains(r#"<script src="i.js"></script>"#));
        assert!(!html.contains("http:") && !html.contains("https:"), "{html}");
    }

    #[test]
    fn the_initializer_passes_the_spec_as_given() {
        assert!(initializer(&json!("/openapi.json")).starts_with(r#"Redoc.init("/openapi.json", {"#));
        assert!(initializer(&json!({"openapi": "3.1.0"})).starts_with(r#"Redoc.init({"openapi":"3.1.0"}, {"#));
    }
}
