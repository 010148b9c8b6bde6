//! The API docs as a reader's browser sees them: headless Chromium renders `/redoc`,
//! `/docs/` and the static site of `docs --out` while it can reach 127.0.0.1 and nothing
//! else, and its network log shows that the pages asked for nothing from another host.
//!
//! Chromium is found as `$CHROMIUM`, else `chromium`, `chromium-browser` or
//! `google-chrome` on `PATH` (Debian: `apt-get install chromium`). Where there is none,
//! the rendering tests skip with a loud message, unless `CI` is set: there they fail.

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use app_data::DatabaseKind;
use app_data::testing::TestDatabase;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tokio::process::Command;

/// The binary, whatever the package is called.
const BINARY: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));
/// Longest a page may take to load and render, end to end.
const PATIENCE: Duration = Duration::from_secs(120);

/// The app on a real listener at 127.0.0.1, on a port of the system's choosing.
struct Server {
    port: u16,
    handle: ServerHandle,
    _db: TestDatabase,
}

impl Server {
    async fn start() -> Option<Self> {
        let kind = if cfg!(feature = "sqlite") { DatabaseKind::Sqlite } else { DatabaseKind::Postgres };
        let db = TestDatabase::create(kind).await?;
        let config = app::config::Config { database_url: db.url.clone(), ..Default::default() };
        let database = app::connect(&config).await.expect("connect to the test database");
        let state = app::app_state(&database, &config).expect("build the app state");
        let server = HttpServer::new(move || app_web::app(state.clone()))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Some(Self { port, handle, _db: db })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// The Chromium to test with; `None` (after saying so loudly) where there is none.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file());
    match found {
        Some(found) => Some(found),
        None if std::env::var_os("CI").is_some() => panic!("CI is set but no chromium is installed"),
        None => {
            eprintln!("\n*** SKIPPED: no chromium on PATH (apt-get install chromium, or set CHROMIUM). ***\n");
            None
        }
    }
}

/// What a page shows once rendered, and every URL it asked the network for.
struct Rendered {
    dom: String,
    requests: Vec<String>,
}

/// Renders `url` in headless Chromium that can resolve 127.0.0.1 and no other host.
async fn render(url: &str) -> Option<Rendered> {
    let chromium = chromium()?;
    let profile = tempfile::tempdir().expect("a profile directory");
    let net_log = profile.path().join("net-log.json");
    let mut command = Command::new(chromium);
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
        .arg(format!("--log-net-log={}", net_log.display()))
        // Virtual time: the page gets 10 s of timers, however fast the machine runs them.
        .args(["--virtual-time-budget=10000", "--dump-dom", url])
        .kill_on_drop(true);
    let output = tokio::time::timeout(PATIENCE, command.output()).await;
    let output: Output =
        output.unwrap_or_else(|_| panic!("chromium rendered {url} within {PATIENCE:?}")).expect("run chromium");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium failed on {url}: {stderr}");
    let requests = page_requests(&net_log);
    Some(Rendered { dom: String::from_utf8_lossy(&output.stdout).into_owned(), requests })
}

/// The URLs of the requests pages made, from Chromium's network log. The browser's own
/// requests (updates, accounts; they fail, as every host but 127.0.0.1 is unresolvable)
/// have no origin as initiator and are left out.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("chromium wrote its network log");
    let log: Value = serde_json::from_str(&text).expect("a complete network log");
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    assert!(start_job.is_u64(), "the network log names its event types");
    let events = log["events"].as_array().expect("events");
    events
        .iter()
        .filter(|event| &event["type"] == start_job)
        .filter(|event| event["params"]["initiator"] != "not an origin")
        .filter_map(|event| event["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts every request went to 127.0.0.1 (or stayed in the browser: `data:`, `blob:`).
fn assert_only_local(page: &Rendered, url: &str) {
    let outside: Vec<&String> = page
        .requests
        .iter()
        .filter(|request| {
            !(request.starts_with("http://127.0.0.1:") || request.starts_with("data:") || request.starts_with("blob:"))
        })
        .collect();
    assert!(outside.is_empty(), "{url} asked other hosts for {outside:?}");
}

/// What Redoc renders for this API: an operation's summary, and a schema by name.
fn assert_redoc_rendered(dom: &str, url: &str) {
    assert!(dom.contains("Places an order"), "{url} rendered no operation: {dom:.2000}");
    assert!(dom.contains("(OrderItemSchema)"), "{url} rendered no schema: {dom:.2000}");
}

/// What Swagger UI renders for this API: operation blocks with summaries and paths.
fn assert_swagger_rendered(dom: &str, url: &str) {
    assert!(dom.contains(r#"opblock-summary-description">Places an order."#), "{url}: {dom:.2000}");
    assert!(dom.contains(r#"data-path="/orders/{order_id}/pay""#), "{url}: {dom:.2000}");
}

#[actix_web::test]
async fn redoc_renders_from_the_service_alone() {
    let Some(server) = Server::start().await else { return };
    let url = server.url("/redoc");
    let Some(page) = render(&url).await else { return };
    assert_redoc_rendered(&page.dom, &url);
    assert_only_local(&page, &url);
    assert!(page.requests.contains(&server.url("/openapi.json")), "the log shows the page's requests");
    server.stop().await;
}

#[actix_web::test]
async fn swagger_ui_renders_from_the_service_alone() {
    let Some(server) = Server::start().await else { return };
    let url = server.url("/docs/");
    let Some(page) = render(&url).await else { return };
    assert_swagger_rendered(&page.dom, &url);
    assert_only_local(&page, &url);
    assert!(page.requests.contains(&server.url("/openapi.json")), "the log shows the page's requests");
    server.stop().await;
}

/// `docs --out DIR`, run as a user runs it (no `AUTH_*`: the open-mode document); the
/// directory and the files it printed.
async fn write_site() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("site");
    let mut command = Command::new(BINARY);
    command.arg("docs").arg("--out").arg(&out).env_clear().current_dir(dir.path()).kill_on_drop(true);
    let run = command.output();
    let output = tokio::time::timeout(PATIENCE, run).await.expect("docs --out finished").expect("run the binary");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let names =
        printed.lines().map(|line| line.strip_prefix(&format!("{}/", out.display())).unwrap_or(line).to_owned());
    (dir, names.collect())
}

#[actix_web::test]
async fn the_static_site_has_every_file_its_pages_load() {
    let (dir, names) = write_site().await;
    let site = dir.path().join("site");
    for expected in ["index.html", "redoc.html", "openapi.json", "swagger-ui-bundle.js", "redoc.standalone.js"] {
        assert!(names.iter().any(|name| name == expected), "{expected} in {names:?}");
    }
    for name in &names {
        assert!(site.join(name).is_file(), "{name} was written");
    }
    for page in ["index.html", "redoc.html"] {
        let html = std::fs::read_to_string(site.join(page)).expect("the page");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "{page} loads from elsewhere");
        assert!(!html.contains("src=\"//") && !html.contains("href=\"//"), "{page} loads from elsewhere");
        for file in app_web::site::local_refs(&html) {
            assert!(site.join(&file).is_file(), "{page} loads {file}, which is missing");
        }
    }
    let written: Value =
        serde_json::from_slice(&std::fs::read(site.join("openapi.json")).expect("openapi.json")).expect("JSON");
    assert_eq!(
        written,
        serde_json::to_value(app_web::docs::Api::new(&app_web::auth::AuthSettings::Open).doc).expect("the document")
    );
}

#[actix_web::test]
async fn the_static_site_renders_from_files() {
    let (dir, _) = write_site().await;
    let site = dir.path().join("site");
    let redoc = format!("file://{}", site.join("redoc.html").display());
    let Some(page) = render(&redoc).await else { return };
    assert_redoc_rendered(&page.dom, &redoc);
    assert_only_local(&page, &redoc);
    let swagger = format!("file://{}", site.join("index.html").display());
    let Some(page) = render(&swagger).await else { return };
    assert_swagger_rendered(&page.dom, &swagger);
    assert_only_local(&page, &swagger);
}
