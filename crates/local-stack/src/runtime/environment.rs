//! One execution environment: a Runtime API listener and the function process polling it.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::api::{self, ApiState, PendingEvent, RuntimeOutcome};
use super::clock::{epoch_millis, log_stream_date};
use super::logs::{self, LogSink, LogStream};
use super::{FunctionSpec, InvokeError, StartError};

/// Lambda's `PATH` for OS-only runtimes.
const LAMBDA_PATH: &str = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";

/// A running function process with its own Runtime API.
///
/// Dropping it kills the process and stops the listener: each environment gets a fresh listener,
/// so a poll left over from a killed process can never take an event meant for its successor.
pub(crate) struct Environment {
    runtime_api: SocketAddr,
    events: mpsc::Sender<PendingEvent>,
    api: Arc<ApiState>,
    exit: watch::Receiver<Option<String>>,
    /// The function process, for reading its memory use.
    pid: Option<u32>,
    // Dropping the sender tells the monitor task to kill the process.
    _kill: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The inputs of one invocation.
pub(crate) struct Invocation {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
}

impl Environment {
    /// Binds a Runtime API on loopback and starts the function binary against it.
    pub(crate) async fn start(spec: &FunctionSpec) -> Result<Self, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(StartError::Bind)?;
        let runtime_api = listener.local_addr().map_err(StartError::Bind)?;
        let (events, events_rx) = mpsc::channel(1);
        let api = Arc::new(ApiState::new(spec.arn(), spec.timeout, events_rx));
        let router = api::router(Arc::clone(&api));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                warn!(%error, "runtime api listener stopped");
            }
        });

        let mut child = command(spec, runtime_api).spawn().map_err(|source| {
            server.abort();
            StartError::Spawn {
                binary: spec.binary.clone(),
                source,
            }
        })?;
        forward_output(&mut child, spec);
        let pid = child.id();
        let (kill, kill_rx) = oneshot::channel();
        let (exit_tx, exit) = watch::channel(None);
        tokio::spawn(monitor(
            child,
            kill_rx,
            exit_tx,
            Arc::clone(&spec.log_sink),
            spec.name.clone(),
        ));
        debug!(function = %spec.name, %runtime_api, "execution environment started");

        Ok(Self {
            runtime_api,
            events,
            api,
            exit,
            pid,
            _kill: kill,
            server,
        })
    }

    /// The process's peak resident memory so far, in KiB, as Lambda's `Max Memory Used`
    /// measures it; `None` once it has exited or where `/proc` does not tell (not Linux).
    pub(crate) fn max_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        peak_resident_kib(&status)
    }

    /// The `host:port` the function's `AWS_LAMBDA_RUNTIME_API` points at.
    pub(crate) fn runtime_api(&self) -> SocketAddr {
        self.runtime_api
    }

    /// Whether the function process has ended.
    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Runs one invocation to its end: delivered within the init limit, answered before the
    /// deadline, or lost to a crash.
    pub(crate) async fn run(
        &self,
        spec: &FunctionSpec,
        invocation: Invocation,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Bytes, InvokeError> {
        let (delivered_tx, delivered) = oneshot::channel();
        let (outcome_tx, outcome) = oneshot::channel();
        let event = PendingEvent {
            request_id: invocation.request_id.clone(),
            payload: invocation.payload,
            trace_id: trace_id(),
            delivered: delivered_tx,
            outcome: outcome_tx,
        };
        if self.events.send(event).await.is_err() {
            return Err(self.crashed().await);
        }

        let deadline = tokio::select! {
            biased;
            deadline = delivered => match deadline {
                Ok(deadline) => deadline,
                Err(_) => return Err(self.crashed().await),
            },
            () = wait_exit(self.exit.clone()) => return Err(self.crashed().await),
            () = tokio::time::sleep(spec.init_timeout) => {
                return Err(InvokeError::InitTimeout { timeout: spec.init_timeout });
            }
            () = wait_shutdown(shutdown) => return Err(InvokeError::Shutdown),
        };

        let remaining = deadline.saturating_sub(epoch_millis(SystemTime::now()));
        let timer = tokio::time::sleep(std::time::Duration::from_millis(remaining));
        tokio::select! {
            biased;
            outcome = outcome => match outcome {
                Ok(RuntimeOutcome::Response(body)) => Ok(body),
                Ok(RuntimeOutcome::Error(payload)) => Err(InvokeError::Function {
                    error_type: payload.error_type,
                    error_message: payload.error_message,
                }),
                Err(_) => Err(self.crashed().await),
            },
            () = wait_exit(self.exit.clone()) => Err(self.crashed().await),
            () = timer => Err(InvokeError::Timeout { timeout: spec.timeout }),
            () = wait_shutdown(shutdown) => Err(InvokeError::Shutdown),
        }
    }

    /// The crash outcome, once the process has really ended.
    async fn crashed(&self) -> InvokeError {
        wait_exit(self.exit.clone()).await;
        let exit = self
            .exit
            .borrow()
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        InvokeError::Crashed {
            exit,
            init_error: self.api.init_error(),
        }
    }
}

/// The command line and environment Lambda gives an OS-only runtime.
fn command(spec: &FunctionSpec, runtime_api: SocketAddr) -> Command {
    let task_root = spec
        .binary
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        );
    let log_stream = format!(
        "{}/[$LATEST]{}",
        log_stream_date(SystemTime::now()),
        uuid::Uuid::new_v4().simple()
    );

    let mut command = Command::new(&spec.binary);
    command
        .env_clear()
        .current_dir(&task_root)
        .env("PATH", LAMBDA_PATH)
        .env("LANG", "en_US.UTF-8")
        .env("TZ", ":UTC")
        .env("_HANDLER", &spec.handler)
        .env("LAMBDA_TASK_ROOT", &task_root)
        .env("LAMBDA_RUNTIME_DIR", &task_root)
        .env("AWS_REGION", &spec.region)
        .env("AWS_DEFAULT_REGION", &spec.region)
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
        .env("AWS_LAMBDA_LOG_FORMAT", spec.log_format.env_value());
    if let Some(level) = &spec.log_level {
        command.env("AWS_LAMBDA_LOG_LEVEL", level);
    }
    for name in &spec.inherit_env {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    // Set last: the function cannot work against any other endpoint.
    command.env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The `VmHWM` (peak resident set) of a `/proc/<pid>/status` text, in KiB.
fn peak_resident_kib(status: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

fn forward_output(child: &mut Child, spec: &FunctionSpec) {
    if let Some(stdout) = child.stdout.take() {
        let sink = Arc::clone(&spec.log_sink);
        tokio::spawn(logs::pump(
            stdout,
            sink,
            spec.name.clone(),
            LogStream::Stdout,
        ));
    }
    if let Some(stderr) = child.stderr.take() {
        let sink = Arc::clone(&spec.log_sink);
        tokio::spawn(logs::pump(
            stderr,
            sink,
            spec.name.clone(),
            LogStream::Stderr,
        ));
    }
}

/// Owns the process: publishes how it ended, or kills it when the environment is dropped.
async fn monitor(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    exit: watch::Sender<Option<String>>,
    sink: Arc<dyn LogSink>,
    function: String,
) {
    let started = Instant::now();
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            // start_kill fails only when the process is already gone; wait() reports either way.
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let description = match status {
        Ok(status) => status.to_string(),
        Err(error) => format!("unknown ({error})"),
    };
    debug!(%function, exit = %description, uptime_ms = started.elapsed().as_millis(), "process ended");
    logs::platform(
        sink.as_ref(),
        &function,
        format!("RUNTIME_EXIT {description}"),
    );
    exit.send_replace(Some(description));
}

async fn wait_exit(mut exit: watch::Receiver<Option<String>>) {
    // An Err means the monitor is gone, which happens only after it published the exit.
    let _ = exit.wait_for(Option::is_some).await;
}

async fn wait_shutdown(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|down| *down).await.is_err() {
        // The function handle is gone; nobody can ask for shutdown any more.
        std::future::pending::<()>().await;
    }
}

/// An X-Ray trace header in the format Lambda passes (`Root=1-<time>-<96 bits>;...`).
fn trace_id() -> String {
    let secs = epoch_millis(SystemTime::now()) / 1_000;
    let random = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &parent[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::peak_resident_kib;

    #[test]
    fn peak_resident_memory_is_read_from_proc_status() {
        let status =
            "Name:\tauthorizer\nVmPeak:\t  123456 kB\nVmHWM:\t    4321 kB\nVmRSS:\t    4000 kB\n";
        assert_eq!(peak_resident_kib(status), Some(4321));
        assert_eq!(peak_resident_kib("Name:\tx\n"), None);
        assert_eq!(peak_resident_kib("VmHWM:\t lots kB\n"), None);
    }
}
