//! A Lambda function backed by a real binary, invoked one event at a time.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{Mutex, watch};
use tracing::{Instrument, debug, debug_span, warn};

use super::api::MAX_RESPONSE_BYTES;
use super::environment::{Environment, Invocation};
use super::invoke::{BoxFuture, Invoke};
use super::logs::platform;
use super::{FunctionSpec, InvokeError, StartError};

/// Lambda's synchronous invocation payload limit (the same 6 MB as responses).
pub(crate) const MAX_PAYLOAD_BYTES: usize = MAX_RESPONSE_BYTES;

/// A function binary run the way Lambda runs it, behind a local Runtime API.
///
/// Like one Lambda execution environment it handles one invocation at a time; concurrent
/// [`invoke`](Self::invoke) calls queue in arrival order. After a timeout or a crash the process
/// is discarded and the next invocation starts a fresh one (a cold start). Cloning gives another
/// handle to the same function; the process is killed when the last handle and every running
/// invocation are gone, or at [`shutdown`](Self::shutdown).
#[derive(Clone)]
pub struct LambdaFunction {
    inner: Arc<Inner>,
}

struct Inner {
    spec: FunctionSpec,
    environment: Mutex<Option<Environment>>,
    invocations: AtomicU64,
    environments_started: AtomicU64,
    /// The highest `Max Memory Used` reported, in KiB; 0 until one is known.
    max_memory_kib: AtomicU64,
    shutdown: watch::Sender<bool>,
}

impl LambdaFunction {
    /// Starts the function's first execution environment (its init phase runs right away).
    ///
    /// # Errors
    ///
    /// [`StartError::InvalidSpec`] for values Lambda would refuse, [`StartError::Bind`] or
    /// [`StartError::Spawn`] when the listener or the process cannot be started.
    pub async fn start(spec: FunctionSpec) -> Result<Self, StartError> {
        spec.validate()?;
        let environment = Environment::start(&spec).await?;
        let (shutdown, _) = watch::channel(false);
        let inner = Inner {
            spec,
            environment: Mutex::new(Some(environment)),
            invocations: AtomicU64::new(0),
            environments_started: AtomicU64::new(1),
            max_memory_kib: AtomicU64::new(0),
            shutdown,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Invokes the function with a JSON event and parses its JSON answer.
    ///
    /// # Errors
    ///
    /// See [`InvokeError`]; [`InvokeError::InvalidResponse`] when the answer is not JSON.
    pub async fn invoke(&self, payload: Value) -> Result<Value, InvokeError> {
        let bytes = serde_json::to_vec(&payload).map_err(InvokeError::InvalidResponse)?;
        let answer = self.invoke_raw(Bytes::from(bytes)).await?;
        serde_json::from_slice(&answer).map_err(InvokeError::InvalidResponse)
    }

    /// Invokes the function with raw event bytes and returns the raw answer, as the Invoke API
    /// does.
    ///
    /// The invocation runs on its own task: a caller that stops waiting does not cut it short,
    /// just as a client hanging up does not stop a Lambda invocation.
    ///
    /// # Errors
    ///
    /// See [`InvokeError`].
    pub async fn invoke_raw(&self, payload: Bytes) -> Result<Bytes, InvokeError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge {
                size: payload.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        let inner = Arc::clone(&self.inner);
        let request_id = uuid::Uuid::new_v4().to_string();
        let span = debug_span!("invoke", function = %inner.spec.name, %request_id);
        let task =
            tokio::spawn(async move { inner.invoke(request_id, payload).await }.instrument(span));
        task.await.unwrap_or(Err(InvokeError::Shutdown))
    }

    /// The function name.
    pub fn name(&self) -> &str {
        &self.inner.spec.name
    }

    /// The unqualified function ARN.
    pub fn arn(&self) -> String {
        self.inner.spec.arn()
    }

    /// How many invocations have reached the function (queued ones count once they run).
    pub fn invocation_count(&self) -> u64 {
        self.inner.invocations.load(Ordering::SeqCst)
    }

    /// How many execution environments (processes) have been started, the first included.
    pub fn environments_started(&self) -> u64 {
        self.inner.environments_started.load(Ordering::SeqCst)
    }

    /// The highest peak resident memory any of its processes reached by the end of an
    /// invocation, in KiB (Lambda's `Max Memory Used`); `None` where it cannot be read.
    pub fn max_memory_used_kib(&self) -> Option<u64> {
        let kib = self.inner.max_memory_kib.load(Ordering::SeqCst);
        (kib > 0).then_some(kib)
    }

    /// The Runtime API address of the current environment, if one is alive and idle.
    pub fn runtime_api(&self) -> Option<SocketAddr> {
        let slot = self.inner.environment.try_lock().ok()?;
        slot.as_ref().map(Environment::runtime_api)
    }

    /// Stops the function: fails a running invocation with [`InvokeError::Shutdown`], kills the
    /// process and refuses later invocations.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let environment = self.inner.environment.lock().await.take();
        drop(environment);
    }
}

impl Inner {
    async fn invoke(&self, request_id: String, payload: Bytes) -> Result<Bytes, InvokeError> {
        let mut slot = self.environment.lock().await;
        let mut shutdown = self.shutdown.subscribe();
        if *shutdown.borrow() {
            return Err(InvokeError::Shutdown);
        }
        self.invocations.fetch_add(1, Ordering::SeqCst);

        let environment = match slot.take() {
            Some(environment) if !environment.has_exited() => environment,
            _ => {
                debug!("starting a new execution environment");
                self.environments_started.fetch_add(1, Ordering::SeqCst);
                Environment::start(&self.spec)
                    .await
                    .map_err(InvokeError::Start)?
            }
        };

        let sink = self.spec.log_sink.as_ref();
        let name = &self.spec.name;
        platform(
            sink,
            name,
            format!("START RequestId: {request_id} Version: $LATEST"),
        );
        let started = Instant::now();
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload,
        };
        let result = environment.run(&self.spec, invocation, &mut shutdown).await;
        let elapsed = started.elapsed();

        if let Err(InvokeError::Timeout { timeout }) = &result {
            let seconds = timeout.as_secs_f64();
            platform(
                sink,
                name,
                format!("{request_id} Task timed out after {seconds:.2} seconds"),
            );
        }
        platform(sink, name, format!("END RequestId: {request_id}"));
        let millis = elapsed.as_secs_f64() * 1_000.0;
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\tMemory Size: {} MB",
            self.spec.memory_mb
        );
        if let Some(kib) = environment.max_memory_kib() {
            self.max_memory_kib.fetch_max(kib, Ordering::SeqCst);
            report.push_str(&format!("\tMax Memory Used: {} MB", kib.div_ceil(1024)));
        }
        platform(sink, name, report);

        match &result {
            // Lambda keeps an environment after a handled outcome and discards it otherwise.
            Ok(_) | Err(InvokeError::Function { .. }) if !environment.has_exited() => {
                *slot = Some(environment);
            }
            Ok(_) | Err(InvokeError::Function { .. }) => {}
            Err(error) => warn!(%error, "execution environment discarded"),
        }
        result
    }
}

impl fmt::Debug for LambdaFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaFunction")
            .field("spec", &self.inner.spec)
            .field("invocations", &self.invocation_count())
            .field("environments_started", &self.environments_started())
            .finish_non_exhaustive()
    }
}

impl Invoke for LambdaFunction {
    fn name(&self) -> &str {
        LambdaFunction::name(self)
    }

    fn invoke(&self, payload: Value) -> BoxFuture<'_, Result<Value, InvokeError>> {
        Box::pin(LambdaFunction::invoke(self, payload))
    }
}
