//! The limit the service's SQLite scenarios are measured against (`bench/run.sh`): the
//! SQLite library itself running the service's own statements in a loop — the same SQL,
//! pragmas and busy timeout, statements prepared once per connection, every row read —
//! with nothing around it: no HTTP, no JSON, no async runtime, no pool. What the service
//! reaches of this is what its layers leave of SQLite's speed, as pgbench is for Postgres.
//!
//! ```text
//! bench-sqlite <database-file> <scenario> <seconds> <threads>
//! ```
//!
//! The file must hold the service's schema and at least one order (bench/run.sh places
//! them through the service). Scenarios: `get_order`, `list_orders`, `place_order`
//! (`scenarios.rs`). Reads run on `threads` connections, one per thread, each looping for
//! the whole time. Writes run on one connection: SQLite lets one writer in at a time, and
//! the service queues its writers in-process (`WriteGate`) rather than let them wait on
//! the lock, so more writer threads would only measure the busy handler.
//!
//! Prints one line, `<ops_per_second> <p50_ms> <p99_ms>`, over all operations of all
//! threads.

mod scenarios;

use rusqlite::{Connection, OpenFlags};
use scenarios::Scenario;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: bench-sqlite <database-file> <get_order|list_orders|place_order> <seconds> <threads>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, scenario, seconds, threads] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(Path::new(file), scenario, seconds, threads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-sqlite: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `scenario` on `file` for `seconds` on `threads` connections (one for writes) and
/// prints the result line.
fn run(file: &Path, scenario: &str, seconds: &str, threads: &str) -> Result<(), Error> {
    let scenario = Scenario::from_name(scenario).ok_or_else(|| format!("unknown scenario {scenario:?}\n{USAGE}"))?;
    let duration = seconds
        .parse()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("seconds: expected a positive number, got {seconds:?}"))?;
    let threads: usize = threads
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("threads: expected a positive whole number, got {threads:?}"))?;
    if !file.is_file() {
        return Err(format!(
            "{}: no such database file (migrate and seed it through the service first)",
            file.display()
        )
        .into());
    }

    let connections = if scenario.writes() { 1 } else { threads };
    let connections = (0..connections).map(|_| open(file, scenario)).collect::<Result<Vec<_>, _>>()?;
    // Reads need orders to read; a write needs none.
    let order_id = if scenario.writes() {
        String::new()
    } else {
        scenarios::some_order_id(&connections[0])?
            .ok_or_else(|| format!("{}: no order to read (place some through the service first)", file.display()))?
    };

    let deadline = Instant::now() + duration;
    let results: Vec<Result<Run, Error>> = std::thread::scope(|scope| {
        let order_id = order_id.as_str();
        let handles: Vec<_> = connections
            .into_iter()
            .map(|conn| scope.spawn(move || Run::measure(deadline, || scenario.run_once(&conn, order_id))))
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_else(|_| Err("a thread panicked".into()))).collect()
    });
    let runs = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let elapsed = runs.iter().map(|run| run.elapsed).max().unwrap_or(duration);
    let mut latencies: Vec<u64> = runs.into_iter().flat_map(|run| run.latencies).collect();
    if latencies.is_empty() {
        return Err("no operation finished in time".into());
    }
    latencies.sort_unstable();
    let ops_per_second = latencies.len() as f64 / elapsed.as_secs_f64();
    println!("{ops_per_second:.0} {:.3} {:.3}", percentile_ms(&latencies, 50), percentile_ms(&latencies, 99));
    Ok(())
}

/// A connection to `file` set up as the service sets up its own (`SQLITE_PRAGMAS`, the
/// default busy timeout), with `scenario`'s statements prepared. The file must exist.
fn open(file: &Path, scenario: Scenario) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags).map_err(|e| format!("{}: {e}", file.display()))?;
    for (name, value) in app_data::SQLITE_PRAGMAS {
        conn.pragma_update(None, name, value)?;
    }
    conn.busy_timeout(app_data::PoolSettings::default().acquire_timeout)?;
    for sql in scenario.statements() {
        conn.prepare_cached(sql).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(conn)
}

/// What one connection did: each operation's latency (in nanoseconds) and how long it ran.
struct Run {
    latencies: Vec<u64>,
    elapsed: Duration,
}

impl Run {
    /// Runs `operation` back to back until `deadline`, timing each run (one clock read
    /// per operation: one's end is the next one's start).
    fn measure(deadline: Instant, mut operation: impl FnMut() -> rusqlite::Result<()>) -> Result<Self, Error> {
        let begin = Instant::now();
        let mut latencies = Vec::with_capacity(1 << 16);
        let mut start = begin;
        while start < deadline {
            operation()?;
            let end = Instant::now();
            latencies.push(u64::try_from((end - start).as_nanos()).unwrap_or(u64::MAX));
            start = end;
        }
        Ok(Self { latencies, elapsed: start - begin })
    }
}

/// The `p`th percentile (nearest rank) of sorted, non-empty `latencies`, in milliseconds.
fn percentile_ms(latencies: &[u64], p: usize) -> f64 {
    let rank = (latencies.len() * p).div_ceil(100).max(1);
    latencies[rank - 1] as f64 / 1e6
}
