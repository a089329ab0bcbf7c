//! The one capability the gateway and the Invoke API need from a function: invoke it with JSON.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::InvokeError;

/// A boxed, sendable future, as trait objects need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can be invoked like a Lambda function: JSON in, JSON or an [`InvokeError`] out.
///
/// [`LambdaFunction`](super::LambdaFunction) implements it by running a real binary; tests of
/// the gateway implement it with [`FnInvoke`] so that authorizer and integration behaviour is
/// written in Rust next to the assertions.
pub trait Invoke: Send + Sync + 'static {
    /// The function name, as in its ARN.
    fn name(&self) -> &str;

    /// Invokes the function once with `payload` and waits for its answer.
    ///
    /// # Errors
    ///
    /// An [`InvokeError`] for a function error, timeout, crash or unusable answer.
    fn invoke(&self, payload: Value) -> BoxFuture<'_, Result<Value, InvokeError>>;
}

type Handler = dyn Fn(Value) -> BoxFuture<'static, Result<Value, InvokeError>> + Send + Sync;

/// An [`Invoke`] backed by an async closure, for tests that need a fake function.
///
/// It counts its invocations so a test can tell a cached authorizer decision from a fresh one.
#[derive(Clone)]
pub struct FnInvoke {
    name: Arc<str>,
    handler: Arc<Handler>,
    invocations: Arc<AtomicU64>,
}

impl FnInvoke {
    /// Wraps `handler` as a function called `name`.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, InvokeError>> + Send + 'static,
    {
        let handler: Arc<Handler> = Arc::new(move |payload| Box::pin(handler(payload)));
        Self {
            name: Arc::from(name.into()),
            handler,
            invocations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many times the function has been invoked.
    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::SeqCst)
    }

    /// Boxes the function as the trait object the gateway takes.
    pub fn into_arc(self) -> Arc<dyn Invoke> {
        Arc::new(self)
    }
}

impl fmt::Debug for FnInvoke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnInvoke")
            .field("name", &self.name)
            .field("invocations", &self.invocations())
            .finish_non_exhaustive()
    }
}

impl Invoke for FnInvoke {
    fn name(&self) -> &str {
        &self.name
    }

    fn invoke(&self, payload: Value) -> BoxFuture<'_, Result<Value, InvokeError>> {
        self.invocations.fetch_add(1, Ordering::SeqCst);
        (self.handler)(payload)
    }
}
