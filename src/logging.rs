//! Where the log lines go: stdout, through a queue that a thread of its own empties; and,
//! when traces are exported ([`crate::otel`]), where the spans go too.
//!
//! Writing to stdout can block (a full pipe, a slow collector), and an async worker must
//! not block, so the workers only format a line and queue it; the writer thread does the
//! writing. Two choices differ from tracing-appender's defaults:
//! - **No line is dropped.** When the queue is full the workers wait for room, so a reader
//!   slower than the service slows the service instead of losing lines (the default queue
//!   drops them and counts them).
//! - **The queue is small, and the writer batches.** [`QUEUE_LINES`] lines at most; the
//!   default's 128,000 slots are allocated up front, a sizeable share of the service's
//!   memory (bench/README.md), and under load the lines waiting in them take more. The
//!   writer thread buffers what it takes and writes it in one call once the queue is
//!   empty, instead of one call per line, so it keeps up.

use crate::config::LogFormat;
use crate::otel::Export;
use std::io::{BufWriter, Write};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, registry};

/// Most lines queued for the writer thread at once.
pub const QUEUE_LINES: usize = 4096;

/// Logs to stdout, one line per event and one per finished request (with its id, route,
/// status and time). `RUST_LOG` filters; `LOG_FORMAT=json` writes JSON lines. Lines still
/// queued are written when the returned guard drops, at exit.
///
/// With `traces`, spans also go to the trace exporter, and the lines written inside a
/// request carry its `trace_id` and `span_id` (fields of the request's span, in both
/// formats). Only then: without an exporter there is no trace to look the ids up in, and
/// the log line stays as short as it was.
pub fn init(format: LogFormat, traces: Option<&Export>) -> WorkerGuard {
    let (writer, guard) = queued(std::io::stdout());
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Spans made for traces alone (statements, connection waits) never reach the log.
    if let Ok(directive) = format!("{}=off", app_data::trace::TARGET).parse() {
        filter = filter.add_directive(directive);
    }
    let Some(traces) = traces else {
        // No exporter: one filter for the one layer, as cheap as logging gets.
        let builder =
            tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).with_writer(writer);
        match format {
            LogFormat::Text => builder.init(),
            LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
        }
        return guard;
    };
    // Two layers that want different spans: each filters for itself.
    let lines = tracing_subscriber::fmt::layer().with_span_events(FmtSpan::CLOSE).with_writer(writer);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().with_current_span(true).with_span_list(false).boxed(),
    };
    registry().with(lines.with_filter(filter)).with(traces.layer()).init();
    guard
}

/// A writer that queues each line for a thread writing them to `sink` (see the module's
/// header); the thread stops, and writes what is left, when the guard drops.
pub fn queued<W: Write + Send + 'static>(sink: W) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default().buffered_lines_limit(QUEUE_LINES).lossy(false).finish(BufWriter::new(sink))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    /// A reader of the log that takes nothing until it is opened, then keeps everything.
    #[derive(Clone, Default)]
    struct StalledReader {
        open: Arc<(Mutex<bool>, Condvar)>,
        received: Arc<Mutex<Vec<u8>>>,
    }

    impl StalledReader {
        fn open(&self) {
            *self.open.0.lock().unwrap() = true;
            self.open.1.notify_all();
        }

        fn lines(&self) -> usize {
            self.received.lock().unwrap().iter().filter(|&&byte| byte == b'\n').count()
        }
    }

    impl Write for StalledReader {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, opened) = &*self.open;
            drop(opened.wait_while(open.lock().unwrap(), |open| !*open).unwrap());
            self.received.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_reader_slower_than_the_service_slows_it_and_loses_no_line() {
        let reader = StalledReader::default();
        let (mut writer, guard) = queued(reader.clone());
        // Twice what the queue holds (and far more than the writer thread's buffer).
        let total = 2 * QUEUE_LINES;
        let written = Arc::new(AtomicUsize::new(0));
        let producer = std::thread::spawn({
            let written = Arc::clone(&written);
            move || {
                for n in 0..total {
                    writer.write_all(format!("line {n}\n").as_bytes()).unwrap();
                    written.store(n + 1, Ordering::SeqCst);
                }
            }
        });
        // The producer fills the queue, then waits for room: its count stops moving short
        // of the total. (A queue that dropped lines would let it finish.)
        let mut seen = usize::MAX;
        poll(|| {
            let now = written.load(Ordering::SeqCst);
            std::mem::replace(&mut seen, now) == now
        });
        assert!(seen < total, "all {total} lines were taken while nothing was read: lines were dropped");

        reader.open();
        producer.join().unwrap();
        drop(guard); // the writer thread writes what is left, then stops
        poll(|| reader.lines() == total);
        assert_eq!(reader.lines(), total);
    }

    /// Checks `done` every 20 ms until it holds, for at most 10 s. (For the stall above,
    /// stopping early only makes the test less strict, never wrong.)
    fn poll(mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
