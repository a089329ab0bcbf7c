//! Log setup shared by the Lambda functions of this workspace.
//!
//! It follows Lambda's advanced logging controls as `lambda_runtime`'s default subscriber does:
//! the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`; JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`; further `RUST_LOG` directives honoured. One thing differs:
//! at `TRACE` the runtime writes every raw event it receives, and those events carry bearer
//! tokens (authorizer and proxy events) or presigned URLs (CloudFormation custom resources). The
//! runtime's event-reading module is therefore capped at `DEBUG`, whatever the environment asks.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::fmt::MakeWriter;

/// The module of `lambda_runtime` that traces raw events.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// Installs the global subscriber, writing to standard output.
///
/// # Panics
///
/// When a global subscriber is already installed: call it once, first thing in `main`.
pub fn init() {
    let settings = Settings::from_env();
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(settings.filter());
    if settings.json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
}

/// What the environment asks of the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`'s text, when set.
    pub level: Option<String>,
    /// `RUST_LOG`, for per-target directives.
    pub directives: Option<String>,
    /// Whether `AWS_LAMBDA_LOG_FORMAT` is `JSON` (any case).
    pub json: bool,
}

impl Settings {
    /// Reads `AWS_LAMBDA_LOG_LEVEL`, `RUST_LOG` and `AWS_LAMBDA_LOG_FORMAT`.
    pub fn from_env() -> Self {
        let rust_log = std::env::var("RUST_LOG").ok();
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .or_else(|| rust_log.clone());
        let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
            .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
        Self {
            level,
            directives: rust_log,
            json,
        }
    }

    /// The filter these settings give, with raw events kept out.
    ///
    /// A level that does not parse (Lambda's names are upper-case words such as `WARN`) falls
    /// back to `INFO`; so does a `RUST_LOG` directive list used as the level. Directives that do
    /// not parse are skipped.
    pub fn filter(&self) -> EnvFilter {
        let level = self
            .level
            .as_deref()
            .and_then(|text| text.parse::<LevelFilter>().ok())
            .unwrap_or(LevelFilter::INFO);
        let filter = EnvFilter::builder()
            .with_default_directive(level.into())
            .parse_lossy(self.directives.as_deref().unwrap_or_default());
        filter.add_directive(raw_event_cap())
    }
}

fn raw_event_cap() -> Directive {
    format!("{RAW_EVENT_TARGET}=debug")
        .parse()
        .expect("a target and a level form a valid directive")
}

/// A log destination that keeps what is written in memory, for tests that read the log lines.
///
/// Clones share one buffer: hand a clone to the subscriber and read the original.
#[derive(Debug, Clone, Default)]
pub struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

impl MemoryWriter {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for MemoryWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use tracing::{debug, trace};

    use super::*;

    /// Everything written while `emit` runs under the filter of `settings`.
    fn logged(settings: &Settings, emit: impl FnOnce()) -> String {
        let captured = MemoryWriter::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(settings.filter())
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        captured.text()
    }

    fn at(level: &str, directives: Option<&str>) -> Settings {
        Settings {
            level: Some(level.to_owned()),
            directives: directives.map(str::to_owned),
            json: false,
        }
    }

    fn raw_event() {
        trace!(target: "lambda_runtime::layers::api_response", body = "Bearer secret", "raw event");
    }

    #[test]
    fn raw_events_stay_out_even_at_trace() {
        let settings = at("TRACE", None);
        let text = logged(&settings, || {
            raw_event();
            trace!(target: "authorizer::handler", "own trace line");
        });
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("own trace line"), "{text}");
    }

    #[test]
    fn an_explicit_directive_cannot_turn_raw_events_back_on() {
        let settings = at(
            "TRACE",
            Some("trace,lambda_runtime::layers::api_response=trace"),
        );
        let text = logged(&settings, raw_event);
        assert_eq!(text, "");
    }

    #[test]
    fn the_runtime_keeps_its_debug_lines() {
        let settings = at("DEBUG", None);
        let text = logged(&settings, || {
            debug!(target: "lambda_runtime::layers::api_response", "runtime debug line");
        });
        assert!(text.contains("runtime debug line"), "{text}");
    }

    #[test]
    fn lambda_level_names_are_honoured_and_unknown_ones_mean_info() {
        let text = logged(&at("WARN", None), || tracing::info!("info line"));
        assert_eq!(text, "");
        let text = logged(&at("loud", None), || {
            tracing::debug!("debug line");
            tracing::info!("info line");
        });
        assert!(
            !text.contains("debug line") && text.contains("info line"),
            "{text}"
        );
    }
}
