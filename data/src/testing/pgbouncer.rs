//! A real PgBouncer for tests: started on a free port in transaction mode, configured as
//! users commonly run it, and stopped when dropped.

use super::skip;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long PgBouncer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A PgBouncer process in front of one Postgres server.
pub struct PgBouncer {
    /// Where it listens.
    pub address: SocketAddr,
    _process: Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    /// A PgBouncer in front of `server` (`host:port`), or `None` (a loud skip outside CI)
    /// where it cannot be started.
    pub async fn start(server: &str) -> Option<Self> {
        let Some(binary) = binary() else {
            return skip(format_args!("no pgbouncer binary (Debian: apt-get install pgbouncer)"));
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let address = free_address();
        let config = write_config(dir.path(), server, address);
        let mut command = Command::new(&binary);
        // PgBouncer refuses to run as root; as root, it drops to the `postgres` user.
        if is_root() {
            let owned = std::process::Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status();
            if !owned.is_ok_and(|status| status.success()) {
                return skip(format_args!("cannot hand {} to the postgres user for pgbouncer", dir.path().display()));
            }
            command.args(["-u", "postgres"]);
        }
        let mut process = match command.arg(&config).stderr(Stdio::piped()).kill_on_drop(true).spawn() {
            Ok(process) => process,
            Err(error) => return skip(format_args!("cannot start {}: {error}", binary.display())),
        };
        let stderr = process.stderr.take().expect("piped stderr");
        let listening = format!("listening on {address}");
        // Started once it says it listens; its log is the event, no polling needed.
        let started = tokio::time::timeout(START_TIMEOUT, async {
            let mut lines = BufReader::new(stderr).lines();
            let mut seen = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains(&listening) {
                    return Ok(());
                }
                seen.push(line);
            }
            Err(seen.join("\n"))
        });
        match started.await {
            Ok(Ok(())) => Some(Self { address, _process: process, _dir: dir }),
            Ok(Err(log)) => skip(format_args!("pgbouncer exited at start:\n{log}")),
            Err(_) => skip(format_args!("pgbouncer did not listen on {address} within {START_TIMEOUT:?}")),
        }
    }
}

fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("pgbouncer")).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([PathBuf::from("/usr/sbin/pgbouncer")]).find(|candidate| candidate.is_file())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
}

/// A port nobody listens on now (the system's choice).
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// The configuration users commonly run: transaction pooling, trust authentication, and
/// `extra_float_digits` (which drivers send) ignored; nothing more.
fn write_config(dir: &Path, server: &str, address: SocketAddr) -> PathBuf {
    let (host, port) = server.rsplit_once(':').unwrap_or((server, "5432"));
    let users = dir.join("userlist.txt");
    std::fs::write(&users, "\"postgres\" \"\"\n").expect("write the user list");
    let config = dir.join("pgbouncer.ini");
    let ini = format!(
        "[databases]\n\
         * = host={host} port={port}\n\
         [pgbouncer]\n\
         listen_addr = {ip}\n\
         listen_port = {listen}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {users}\n\
         pool_mode = transaction\n\
         ignore_startup_parameters = extra_float_digits\n\
         max_client_conn = 500\n\
         default_pool_size = 20\n",
        ip = address.ip(),
        listen = address.port(),
        users = users.display(),
    );
    std::fs::write(&config, ini).expect("write the configuration");
    config
}
