//! A faithful Lambda Runtime API emulator, so real function binaries run locally as on Lambda.
//!
//! [`LambdaFunction::start`] binds a Runtime API on `127.0.0.1:<port>` and spawns the binary with
//! the environment Lambda sets (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, `_VERSION`,
//! `_MEMORY_SIZE`, log group and stream, region, `_HANDLER`, `LAMBDA_TASK_ROOT`, ...).
//! `lambda_runtime` 1.5 panics at start-up without `AWS_LAMBDA_FUNCTION_NAME`,
//! `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (an integer), `AWS_LAMBDA_FUNCTION_VERSION` and
//! `AWS_LAMBDA_RUNTIME_API`, and reads `AWS_LAMBDA_LOG_FORMAT` / `AWS_LAMBDA_LOG_LEVEL` for its
//! tracing subscriber. [`LambdaService`] serves the Invoke API for a set of functions, and
//! [`Invoke`] is the small trait the gateway depends on.

pub(crate) mod clock;

mod api;
mod environment;
mod error;
mod function;
mod invoke;
mod logs;
mod service;
mod spec;

pub use error::{ErrorPayload, InvokeError, StartError};
pub use function::LambdaFunction;
pub use invoke::{BoxFuture, FnInvoke, Invoke};
pub use logs::{LogCapture, LogLine, LogSink, LogStream, StderrSink};
pub use service::LambdaService;
pub use spec::{FunctionSpec, LogFormat};
