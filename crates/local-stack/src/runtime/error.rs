//! Why starting or invoking a function failed.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The error document a runtime posts to the Runtime API and the Invoke API returns.
///
/// Field names follow Lambda's wire format (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorPayload {
    /// The error type, e.g. `Runtime.InitError` or the handler's error type name.
    #[serde(default)]
    pub error_type: String,
    /// The error message.
    #[serde(default)]
    pub error_message: String,
}

/// Why a [`LambdaFunction`](super::LambdaFunction) could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The function specification is not one Lambda would accept.
    #[error("invalid function spec for {function}: {reason}")]
    InvalidSpec {
        /// The function name as given.
        function: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The Runtime API listener could not be bound on loopback.
    #[error("cannot bind the runtime api listener")]
    Bind(#[source] std::io::Error),
    /// The function binary could not be started.
    #[error("cannot start function binary {binary}")]
    Spawn {
        /// The binary that failed to start.
        binary: PathBuf,
        /// Why the operating system refused.
        #[source]
        source: std::io::Error,
    },
}

/// Why an invocation produced no response.
///
/// Each variant is one of the outcomes Lambda itself distinguishes; the Invoke API maps them to
/// the `errorType` values Lambda reports (`Sandbox.Timedout`, `Runtime.ExitError`, ...).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The handler returned an error (posted to `/invocation/{id}/error`); a panic inside a
    /// `lambda_runtime` handler arrives here too, since the runtime turns panics into errors.
    #[error("function error {error_type}: {error_message}")]
    Function {
        /// The `errorType` the runtime reported.
        error_type: String,
        /// The `errorMessage` the runtime reported.
        error_message: String,
    },
    /// The invocation ran past the function timeout; the execution environment was discarded.
    #[error("function timed out after {timeout:?}")]
    Timeout {
        /// The configured function timeout.
        timeout: Duration,
    },
    /// The runtime did not ask for its first event within the init phase limit.
    #[error("function init did not finish within {timeout:?}")]
    InitTimeout {
        /// The init phase limit.
        timeout: Duration,
    },
    /// The function process exited before answering; the next invocation starts a new one.
    #[error("function process exited: {exit}")]
    Crashed {
        /// How the process ended, e.g. `exit status: 101` or `signal: 9 (SIGKILL)`.
        exit: String,
        /// The error the runtime posted to `/runtime/init/error` before exiting, if any.
        init_error: Option<ErrorPayload>,
    },
    /// A new execution environment could not be started.
    #[error("cannot start a new execution environment")]
    Start(#[source] StartError),
    /// The payload exceeds the synchronous invocation limit of 6 MB.
    #[error("payload of {size} bytes exceeds the {limit} byte limit")]
    PayloadTooLarge {
        /// The payload size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The function answered, but not with JSON where JSON was needed.
    #[error("function response is not json")]
    InvalidResponse(#[source] serde_json::Error),
    /// The function was shut down before or during the invocation.
    #[error("function has been shut down")]
    Shutdown,
}

impl InvokeError {
    /// The error document Lambda's Invoke API returns for this outcome (with
    /// `X-Amz-Function-Error: Unhandled`), worded as Lambda words it.
    pub fn to_payload(&self, request_id: &str) -> ErrorPayload {
        let (error_type, error_message) = match self {
            Self::Function {
                error_type,
                error_message,
            } => (error_type.clone(), error_message.clone()),
            Self::Timeout { timeout } | Self::InitTimeout { timeout } => (
                "Sandbox.Timedout".to_owned(),
                format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    timeout.as_secs_f64()
                ),
            ),
            Self::Crashed {
                init_error: Some(init),
                ..
            } => (init.error_type.clone(), init.error_message.clone()),
            Self::Crashed {
                exit,
                init_error: None,
            } => (
                "Runtime.ExitError".to_owned(),
                format!("RequestId: {request_id} Error: Runtime exited with error: {exit}"),
            ),
            Self::InvalidResponse(_) => (
                "Runtime.InvalidResponse".to_owned(),
                format!("RequestId: {request_id} Error: response is not valid json"),
            ),
            other => ("Runtime.Unknown".to_owned(), other.to_string()),
        };
        ErrorPayload {
            error_type,
            error_message,
        }
    }
}
