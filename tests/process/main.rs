//! The real binary, as an operator runs it: start-up errors, graceful shutdown under
//! load, JSON logs, waiting for a late database; its traces (`otel.rs`).

// Each test crate uses part of the shared proxy.
#[cfg(feature = "postgres")]
#[allow(dead_code)]
#[path = "../shared/proxy.rs"]
mod proxy;

mod otel;
#[path = "../shared/otlp.rs"]
mod otlp;
#[allow(dead_code)]
#[path = "../shared/provider.rs"]
mod provider;

use app_data::DatabaseKind;
use app_data::testing::TestDatabase;
#[cfg(feature = "postgres")]
use proxy::Proxy;
use rstest::rstest;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// SQLite where it is compiled in (no server needed), else Postgres.
fn local_kind() -> DatabaseKind {
    if cfg!(feature = "sqlite") { DatabaseKind::Sqlite } else { DatabaseKind::Postgres }
}

/// How long a test waits for anything the service should do promptly.
const PATIENCE: Duration = Duration::from_secs(30);

/// The service running as a child process, its output collected line by line.
struct Service {
    child: Child,
    port: u16,
    stdout: Output,
    stderr: Output,
}

/// Lines a child writes, collected by a task that ends when the child closes the pipe.
/// `count` changes with every line, so a test can wait for a line instead of polling.
struct Output {
    lines: Arc<Mutex<Vec<String>>>,
    count: watch::Receiver<usize>,
    reader: Option<JoinHandle<()>>,
}

impl Service {
    /// Starts the binary with `env` on a port of the system's choosing, in a directory of
    /// its own (so no developer's `.env` applies).
    fn start(env: &[(&str, &str)]) -> Self {
        Self::start_in(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")), env)
    }

    /// [`Service::start`] in the working directory `dir`.
    fn start_in(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))));
        command
            .env_clear()
            .current_dir(dir)
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("HI_DELAY_MS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the binary");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Self { child, port: 0, stdout, stderr }
    }

    /// The first stdout line containing `text`, waited for as lines arrive.
    async fn line_containing(&self, text: &str) -> String {
        let mut count = self.stdout.count.clone();
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(line) = self.stdout().into_iter().find(|line| line.contains(text)) {
                    return Some(line);
                }
                // An error means the pipe closed: the process exited.
                count.changed().await.ok()?;
            }
        });
        match found.await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("exited without logging {text:?}: {:?}", self.stderr()),
            Err(_) => panic!("no {text:?} logged in {PATIENCE:?}: {:?}", self.stdout()),
        }
    }

    /// Waits for the port the service logs once it listens; then `/health` must answer.
    async fn wait_until_healthy(&mut self) {
        let line = self.line_containing("listening on http://").await;
        let rest = line.split_once("listening on http://").map_or("", |(_, rest)| rest);
        let address: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
        let digits = address.rsplit_once(':').map_or("", |(_, port)| port);
        self.port = digits.parse().unwrap_or_else(|_| panic!("a port in {line:?}"));
        assert_eq!(request(self.port, "GET /health", &[], "").await.unwrap().0, 200);
    }

    fn terminate(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id().expect("running")).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }

    /// The exit status, waited for with a bound; all output has been collected then.
    async fn exit_status(&mut self) -> ExitStatus {
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("exited in time").unwrap();
        for output in [&mut self.stdout, &mut self.stderr] {
            if let Some(reader) = output.reader.take() {
                reader.await.unwrap();
            }
        }
        status
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lines.lock().unwrap().clone()
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lines.lock().unwrap().clone()
    }
}

fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Output {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (counter, count) = watch::channel(0);
    let sink = Arc::clone(&lines);
    let reader = tokio::spawn(async move {
        let mut input = BufReader::new(stream).lines();
        while let Ok(Some(line)) = input.next_line().await {
            let total = {
                let mut lines = sink.lock().unwrap();
                lines.push(line);
                lines.len()
            };
            counter.send_replace(total);
        }
    });
    Output { lines, count, reader: Some(reader) }
}

/// One HTTP/1.1 request on a new connection; the status and body of the reply. Gives up
/// after 30 s, so a hung service fails the test instead of stalling it.
async fn request(port: u16, line: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<(u16, String)> {
    tokio::time::timeout(Duration::from_secs(30), exchange(port, line, headers, body))
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

async fn exchange(port: u16, line: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head =
        format!("{line} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    let status = reply.get(9..12).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

#[tokio::test]
async fn a_malformed_variable_stops_start_up_with_one_line_naming_it() {
    let mut service = Service::start(&[("PORT", "eighty")]);
    assert!(!service.exit_status().await.success());
    assert_eq!(service.stderr(), vec![r#"error: invalid PORT="eighty": invalid digit found in string"#]);
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn an_unreachable_database_is_retried_then_named_with_its_password_masked() {
    let url = "postgres://app:hunter2@127.0.0.1:9/orders";
    let mut service = Service::start(&[("DATABASE_URL", url), ("DB_STARTUP_TIMEOUT_S", "1")]);
    assert!(!service.exit_status().await.success());
    let stderr = service.stderr();
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].starts_with("error: database postgres://app:***@127.0.0.1:9/orders: "), "{stderr:?}");
    let everything = [service.stdout(), stderr].concat().join("\n");
    assert!(!everything.contains("hunter2"), "{everything}");
    assert!(everything.contains("database not ready"), "it retried: {everything}");
}

/// A build without Postgres says so, and which feature to turn on, instead of failing
/// to parse the URL or to connect.
#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn a_database_left_out_of_the_build_is_named_with_its_feature() {
    let mut service = Service::start(&[("DATABASE_URL", "postgres://app@127.0.0.1:9/orders")]);
    assert!(!service.exit_status().await.success());
    let stderr = service.stderr().join("\n");
    assert!(
        stderr.contains("postgres is not compiled into this build: enable the Cargo feature `postgres`"),
        "{stderr}"
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_database_is_waited_for() {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let proxy = Proxy::stopped(db.server_address()).await;
    let url = db.url_through(proxy.address);
    let mut service = Service::start(&[("DATABASE_URL", &url), ("DB_STARTUP_TIMEOUT_S", "60")]);
    service.line_containing("database not ready").await;
    proxy.restore().await;
    service.wait_until_healthy().await;
    assert_eq!(request(service.port, "GET /ready", &[], "").await.unwrap().0, 200);
    service.terminate();
    assert!(service.exit_status().await.success());
}

#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx("sqlx"))]
#[cfg_attr(feature = "diesel", case::diesel("diesel"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly(#[case] backend: &str) {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("DATA_BACKEND", backend),
        ("HI_DELAY_MS", "4000"),
        ("SHUTDOWN_TIMEOUT_S", "20"),
    ];
    let mut service = Service::start(&env);
    service.wait_until_healthy().await;
    let port = service.port;

    // 20 slow requests, all inside the service (the scrape itself is the 21st) before
    // anything else starts, so none of them can be waiting in the kernel's queue.
    let slow: Vec<_> = (0..20).map(|_| tokio::spawn(request(port, "GET /hi", &[], ""))).collect();
    // Each scrape is a round trip, which paces the polling; the count bounds it.
    let mut inside = false;
    for _ in 0..2000 {
        let (_, metrics) = request(port, "GET /metrics", &[], "").await.unwrap();
        let count = metrics.lines().find_map(|l| l.strip_prefix("http_requests_in_flight ")).map(str::trim);
        if count.and_then(|c| c.parse::<u32>().ok()).is_some_and(|c| c >= 21) {
            inside = true;
            break;
        }
    }
    assert!(inside, "the slow requests reached the service");

    // Orders keep coming while the service stops. Once SIGTERM is sent, a new connection
    // may be refused (or dropped from the kernel's queue): that request was never accepted.
    let terminated = Arc::new(AtomicBool::new(false));
    let (placed_tx, mut placed) = watch::channel(0usize);
    let placed_tx = Arc::new(placed_tx);
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (terminated, placed) = (Arc::clone(&terminated), Arc::clone(&placed_tx));
            tokio::spawn(async move {
                let body = r#"{"order": [{"product": "latte", "size": "small"}]}"#;
                let mut failures = Vec::new();
                for _ in 0..5000 {
                    match request(port, "POST /orders", &[], body).await {
                        Ok((201, _)) => placed.send_modify(|n| *n += 1),
                        Ok((status, body)) => failures.push(format!("{status}: {body}")),
                        Err(_) if terminated.load(Ordering::SeqCst) => break,
                        Err(error) => failures.push(format!("before SIGTERM: {error}")),
                    }
                }
                failures
            })
        })
        .collect();
    let warmed_up = tokio::time::timeout(PATIENCE, placed.wait_for(|n| *n >= 20)).await;
    assert!(warmed_up.is_ok_and(|r| r.is_ok()), "orders were placed before SIGTERM");

    terminated.store(true, Ordering::SeqCst);
    service.terminate();
    for reply in slow {
        let (status, body) = reply.await.unwrap().expect("an in-flight request is answered, not reset");
        assert_eq!((status, body.as_str()), (200, "\"Hello? World?\""));
    }
    for failures in load {
        let failures = failures.await.unwrap();
        assert!(failures.is_empty(), "every accepted order answered 201: {failures:?}");
    }
    assert!(service.exit_status().await.success(), "exit code 0");
    assert!(request(port, "GET /health", &[], "").await.is_err(), "no longer listening");
}

#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx("sqlx"))]
#[cfg_attr(feature = "diesel", case::diesel("diesel"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_never_the_body(#[case] backend: &str) {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let env = [("DATABASE_URL", db.url.as_str()), ("DATA_BACKEND", backend), ("LOG_FORMAT", "json")];
    let mut service = Service::start(&env);
    service.wait_until_healthy().await;
    let body = r#"{"order": [{"product": "do-not-log-me", "size": "small"}]}"#;
    let (status, _) = request(service.port, "POST /orders", &[("X-Request-Id", "log-test-42")], body).await.unwrap();
    assert_eq!(status, 201);
    service.terminate();
    assert!(service.exit_status().await.success());

    let lines = service.stdout();
    assert!(!lines.is_empty());
    for line in &lines {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(parsed["timestamp"].is_string() && parsed["level"].is_string(), "{line}");
    }
    let request_line = lines.iter().find(|l| l.contains("log-test-42")).expect("a line with the request id");
    assert!(request_line.contains("/orders") && request_line.contains("201"), "{request_line}");
    assert!(!lines.iter().any(|l| l.contains("do-not-log-me")), "bodies are never logged");
}

/// The two commands of local development with tokens: `dev-token` prints the settings and
/// a token; the service started with those settings accepts the token and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_token_works_against_a_service_started_with_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))))
        .args(["dev-token", "--sub", "alice"])
        .current_dir(dir.path())
        .env_clear()
        .output();
    let output = tokio::time::timeout(PATIENCE, output).await.expect("in time").expect("dev-token runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let exported: Vec<(String, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .flat_map(|line| line.split("' ").map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|pair| pair.split_once("='").map(|(k, v)| (k.to_owned(), v.trim_end_matches('\'').to_owned())))
        .collect();
    let value = |name: &str| exported.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect(name);
    let token = value("TOKEN");
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let url = db.url.clone();
    let (jwks, issuer, audience) = (value("AUTH_JWKS_URL"), value("AUTH_ISSUER"), value("AUTH_AUDIENCE"));
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("AUTH_JWKS_URL", jwks.as_str()),
        ("AUTH_ISSUER", issuer.as_str()),
        ("AUTH_AUDIENCE", audience.as_str()),
    ];
    let mut service = Service::start_in(dir.path(), &env);
    service.wait_until_healthy().await;
    service.line_containing("accepting development tokens").await;
    let body = r#"{"order": [{"product": "latte", "size": "small"}]}"#;
    let authorization = format!("Bearer {token}");
    let placed = request(service.port, "POST /orders", &[("Authorization", &authorization)], body).await.unwrap();
    assert_eq!(placed.0, 201, "{}", placed.1);
    assert_eq!(request(service.port, "POST /orders", &[], body).await.unwrap().0, 401);
    service.terminate();
    assert!(service.exit_status().await.success());
}

/// `openapi` prints the document of the service the environment configures: a bearer
/// token on the orders operations only with an identity provider (`AUTH_*`), none in open
/// mode. (`docs --out` writes the same document; see tests/browser.)
#[tokio::test]
async fn the_openapi_command_asks_for_a_token_only_with_a_provider() {
    let provider = [
        ("AUTH_JWKS_URL", "https://id.example/.well-known/jwks.json"),
        ("AUTH_ISSUER", "https://id.example/"),
        ("AUTH_AUDIENCE", "orders"),
    ];
    for (env, expected) in
        [(&[][..], serde_json::Value::Null), (&provider[..], serde_json::json!([{"bearerAuth": []}]))]
    {
        let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))));
        command.arg("openapi").env_clear().current_dir(env!("CARGO_TARGET_TMPDIR")).envs(env.iter().copied());
        let output = tokio::time::timeout(PATIENCE, command.output()).await.expect("in time").expect("openapi runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON document");
        assert_eq!(doc["paths"]["/orders"]["post"]["security"], expected, "with {env:?}");
        assert_eq!(doc["paths"]["/health"]["get"]["security"], serde_json::Value::Null);
    }
}
