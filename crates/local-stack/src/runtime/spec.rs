//! What to run and how Lambda would configure it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::StartError;
use super::logs::{LogSink, StderrSink};

/// Lambda's default function timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Lambda's maximum function timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(900);
/// Lambda's init phase limit for on-demand functions.
const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The log format Lambda's advanced logging controls select (`AWS_LAMBDA_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// Plain text, Lambda's default.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub(crate) fn env_value(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Json => "JSON",
        }
    }
}

/// How to run one function: its binary and the configuration Lambda would give it.
///
/// Defaults follow Lambda: timeout 3 s, memory 128 MB, init limit 10 s, region `us-east-1`,
/// handler `bootstrap`, text logs, version `$LATEST`. The child gets a clean environment (only
/// Lambda's variables, [`inherit_env`](Self::inherit_env) names and [`env`](Self::env) pairs), so
/// nothing from the host, credentials included, leaks into a function by accident.
#[derive(Clone)]
pub struct FunctionSpec {
    pub(crate) name: String,
    pub(crate) binary: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) inherit_env: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) init_timeout: Duration,
    pub(crate) memory_mb: u32,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) handler: String,
    pub(crate) log_format: LogFormat,
    pub(crate) log_level: Option<String>,
    pub(crate) log_sink: Arc<dyn LogSink>,
}

impl FunctionSpec {
    /// A function called `name` running `binary`, with Lambda's defaults.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            binary: binary.into(),
            env: Vec::new(),
            inherit_env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            init_timeout: DEFAULT_INIT_TIMEOUT,
            memory_mb: 128,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            handler: "bootstrap".to_owned(),
            log_format: LogFormat::Text,
            log_level: None,
            log_sink: Arc::new(StderrSink),
        }
    }

    /// Adds one environment variable of the function configuration (applied after Lambda's own,
    /// so it may override them, except `AWS_LAMBDA_RUNTIME_API`).
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds several environment variables, as [`env`](Self::env).
    #[must_use]
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Passes the host's value of `name`, when set, to the function (e.g. `RUST_BACKTRACE`).
    #[must_use]
    pub fn inherit_env(mut self, name: impl Into<String>) -> Self {
        self.inherit_env.push(name.into());
        self
    }

    /// Sets the function timeout (Lambda allows 1 s to 900 s; shorter values are accepted here
    /// so tests can run fast).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long the runtime may take to ask for its first event.
    #[must_use]
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// Sets the memory size in MB (only reported to the function; not enforced).
    #[must_use]
    pub fn memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = memory_mb;
        self
    }

    /// Sets the region (`AWS_REGION`, `AWS_DEFAULT_REGION` and the function ARN).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Sets the account id used in the function ARN.
    #[must_use]
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// Sets the handler string (`_HANDLER`).
    #[must_use]
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.handler = handler.into();
        self
    }

    /// Sets the log format (`AWS_LAMBDA_LOG_FORMAT`).
    #[must_use]
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Sets the application log level (`AWS_LAMBDA_LOG_LEVEL`, e.g. `DEBUG`); unset by default,
    /// as Lambda leaves it unset unless advanced logging controls choose one.
    #[must_use]
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = Some(level.into());
        self
    }

    /// Sends the function's log lines to `sink` instead of the emulator's stderr.
    #[must_use]
    pub fn log_sink(mut self, sink: impl LogSink) -> Self {
        self.log_sink = Arc::new(sink);
        self
    }

    /// The function name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The binary path.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The function ARN Lambda would give it (unqualified).
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }

    /// Checks the values Lambda itself would refuse.
    pub(crate) fn validate(&self) -> Result<(), StartError> {
        let invalid = |reason: &str| {
            Err(StartError::InvalidSpec {
                function: self.name.clone(),
                reason: reason.to_owned(),
            })
        };
        let name_ok = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return invalid("name must be 1 to 64 of [A-Za-z0-9_-]");
        }
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            return invalid("timeout must be above zero and at most 900 s");
        }
        if self.init_timeout.is_zero() {
            return invalid("init timeout must be above zero");
        }
        if !(128..=10_240).contains(&self.memory_mb) {
            return invalid("memory must be 128 to 10240 MB");
        }
        let plain =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !plain(&self.region) || !plain(&self.account_id) {
            return invalid("region and account id must be non-empty [A-Za-z0-9-]");
        }
        Ok(())
    }
}

impl fmt::Debug for FunctionSpec {
    // Environment values may hold credentials, so only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("FunctionSpec")
            .field("name", &self.name)
            .field("binary", &self.binary)
            .field("env", &env_names)
            .field("inherit_env", &self.inherit_env)
            .field("timeout", &self.timeout)
            .field("init_timeout", &self.init_timeout)
            .field("memory_mb", &self.memory_mb)
            .field("region", &self.region)
            .field("account_id", &self.account_id)
            .field("handler", &self.handler)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .finish_non_exhaustive()
    }
}
