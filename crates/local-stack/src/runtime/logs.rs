//! Where a function's stdout, stderr and platform lines go.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

/// Longest line forwarded in one piece; longer output is split so a runaway child cannot make
/// the emulator buffer without bound.
const MAX_LINE: u64 = 64 * 1024;

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogStream {
    /// The function's standard output.
    Stdout,
    /// The function's standard error.
    Stderr,
    /// A line the emulator writes on Lambda's behalf (`START`, `END`, `REPORT`, timeouts, exits).
    Platform,
}

/// One line of function output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The function that wrote it.
    pub function: String,
    /// The stream it came from.
    pub stream: LogStream,
    /// The text, without its line ending.
    pub text: String,
}

/// A destination for function log lines.
///
/// Closures `Fn(&LogLine)` are sinks too.
pub trait LogSink: Send + Sync + 'static {
    /// Receives one line; must not block for long (it runs on the runtime's reader task).
    fn line(&self, line: &LogLine);
}

impl<F> LogSink for F
where
    F: Fn(&LogLine) + Send + Sync + 'static,
{
    fn line(&self, line: &LogLine) {
        self(line);
    }
}

/// The default sink: writes `[function] text` to the emulator's standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrSink;

impl LogSink for StderrSink {
    fn line(&self, line: &LogLine) {
        // A closed stderr must not take the emulator down; the line is simply lost.
        let _ = writeln!(
            std::io::stderr().lock(),
            "[{}] {}",
            line.function,
            line.text
        );
    }
}

/// A sink that keeps every line in memory, for tests that inspect function logs.
#[derive(Clone, Default)]
pub struct LogCapture {
    lines: Arc<Mutex<Vec<LogLine>>>,
}

impl LogCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every line captured so far, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether any captured line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|line| line.text.contains(needle))
    }
}

impl fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("LogCapture").field("lines", &count).finish()
    }
}

impl LogSink for LogCapture {
    fn line(&self, line: &LogLine) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.clone());
    }
}

/// Sends a platform line for `function` to `sink`.
pub(crate) fn platform(sink: &dyn LogSink, function: &str, text: String) {
    sink.line(&LogLine {
        function: function.to_owned(),
        stream: LogStream::Platform,
        text,
    });
}

/// Forwards `reader` line by line to `sink` until end of file.
pub(crate) async fn pump<R>(reader: R, sink: Arc<dyn LogSink>, function: String, stream: LogStream)
where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                let text = text.trim_end_matches(['\n', '\r']).to_owned();
                sink.line(&LogLine {
                    function: function.clone(),
                    stream,
                    text,
                });
            }
        }
    }
}
