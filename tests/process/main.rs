//! The real binary, as an operator runs it: start-up errors, graceful shutdown under
//! load, JSON logs, waiting for a late database.

// Each test crate uses part of the shared proxy.
#[allow(dead_code)]
#[path = "../shared/proxy.rs"]
mod proxy;

use data::DatabaseKind;
use data::testing::TestDatabase;
use proxy::Proxy;
use rstest::rstest;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The service running as a child process, its output collected line by line.
struct Service {
    child: Child,
    port: u16,
    stdout: Output,
    stderr: Output,
}

/// Lines a child writes, collected by a thread that ends when the child closes the pipe.
struct Output {
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Service {
    /// Starts the binary with `env` on a port of the system's choosing, in a directory of
    /// its own (so no developer's `.env` applies).
    fn start(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orders-api"));
        command
            .env_clear()
            .current_dir(env!("CARGO_TARGET_TMPDIR"))
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("HI_DELAY_MS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the binary");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Self { child, port: 0, stdout, stderr }
    }

    /// Waits (bounded) for the port the service logs, then for `/health` to answer.
    async fn wait_until_healthy(&mut self) {
        for _ in 0..200 {
            let logged = self.stdout().iter().find_map(|line| {
                let (_, rest) = line.split_once("listening on http://")?;
                let digits: String = rest.split_once(':')?.1.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            });
            if let Some(port) = logged {
                self.port = port;
                break;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "exited early: {:?}", self.stderr());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_ne!(self.port, 0, "no port logged: {:?}", self.stdout());
        for _ in 0..200 {
            if let Ok((200, _)) = request(self.port, "GET /health", &[], "").await {
                return;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "exited early: {:?}", self.stderr());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("not healthy in time: {:?}", self.stdout());
    }

    fn terminate(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }

    /// The exit status, waited for with a bound; all output has been collected then.
    async fn exit_status(&mut self) -> ExitStatus {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                for output in [&mut self.stdout, &mut self.stderr] {
                    if let Some(reader) = output.reader.take() {
                        reader.join().unwrap();
                    }
                }
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("did not exit in time");
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lines.lock().unwrap().clone()
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lines.lock().unwrap().clone()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Output {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Output { lines, reader: Some(reader) }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_database_is_waited_for() {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let proxy = Proxy::stopped(db.server_address()).await;
    let url = db.url_through(proxy.address);
    let mut service = Service::start(&[("DATABASE_URL", &url), ("DB_STARTUP_TIMEOUT_S", "60")]);
    for _ in 0..200 {
        if service.stdout().iter().any(|line| line.contains("database not ready")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(service.stdout().iter().any(|line| line.contains("database not ready")));
    proxy.restore().await;
    service.wait_until_healthy().await;
    assert_eq!(request(service.port, "GET /ready", &[], "").await.unwrap().0, 200);
    service.terminate();
    assert!(service.exit_status().await.success());
}

#[rstest]
#[case::sqlx("sqlx")]
#[case::diesel("diesel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly(#[case] backend: &str) {
    let db = TestDatabase::create(DatabaseKind::Sqlite).await.unwrap();
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
    let mut inside = false;
    for _ in 0..200 {
        let (_, metrics) = request(port, "GET /metrics", &[], "").await.unwrap();
        let count = metrics.lines().find_map(|l| l.strip_prefix("orders_http_requests_in_flight ")).map(str::trim);
        if count.and_then(|c| c.parse::<u32>().ok()).is_some_and(|c| c >= 21) {
            inside = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(inside, "the slow requests reached the service");

    // Orders keep coming while the service stops. Once SIGTERM is sent, a new connection
    // may be refused (or dropped from the kernel's queue): that request was never accepted.
    let terminated = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let placed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (terminated, placed) = (Arc::clone(&terminated), Arc::clone(&placed));
            tokio::spawn(async move {
                let body = r#"{"order": [{"product": "latte", "size": "small"}]}"#;
                let mut failures = Vec::new();
                for _ in 0..5000 {
                    match request(port, "POST /orders", &[], body).await {
                        Ok((201, _)) => _ = placed.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
                        Ok((status, body)) => failures.push(format!("{status}: {body}")),
                        Err(_) if terminated.load(std::sync::atomic::Ordering::SeqCst) => break,
                        Err(error) => failures.push(format!("before SIGTERM: {error}")),
                    }
                }
                failures
            })
        })
        .collect();
    for _ in 0..200 {
        if placed.load(std::sync::atomic::Ordering::SeqCst) >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    terminated.store(true, std::sync::atomic::Ordering::SeqCst);
    service.terminate();
    for reply in slow {
        let (status, body) = reply.await.unwrap().expect("an in-flight request is answered, not reset");
        assert_eq!((status, body.as_str()), (200, "\"Hello? World?\""));
    }
    for failures in load {
        let failures = failures.await.unwrap();
        assert!(failures.is_empty(), "every accepted order answered 201: {failures:?}");
    }
    assert!(placed.load(std::sync::atomic::Ordering::SeqCst) >= 20, "orders were placed during the test");
    assert!(service.exit_status().await.success(), "exit code 0");
    assert!(request(port, "GET /health", &[], "").await.is_err(), "no longer listening");
}

#[rstest]
#[case::sqlx("sqlx")]
#[case::diesel("diesel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_never_the_body(#[case] backend: &str) {
    let db = TestDatabase::create(DatabaseKind::Sqlite).await.unwrap();
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
