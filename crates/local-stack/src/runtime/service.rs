//! The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) over a registry of
//! functions, as `aws lambda invoke --endpoint-url` and `cargo lambda invoke` call it.
//!
//! Lambda's documented behaviour kept here: a function error is still HTTP 200, with the error
//! document as body and `X-Amz-Function-Error: Unhandled`; `X-Amz-Invocation-Type: Event` answers
//! 202 at once and `DryRun` 204 without running; an unknown function is 404
//! `ResourceNotFoundException`; a payload that is not JSON is 400 `InvalidRequestContentException`;
//! over 6 MB is 413 `RequestTooLargeException`. Requests are not SigV4-checked.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::InvokeError;
use super::function::MAX_PAYLOAD_BYTES;
use super::invoke::Invoke;

/// A registry of functions by name, served through the Lambda Invoke API.
#[derive(Clone, Default)]
pub struct LambdaService {
    functions: Arc<RwLock<BTreeMap<String, Arc<dyn Invoke>>>>,
}

impl LambdaService {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `function` under its own name, replacing any function of that name.
    pub fn register(&self, function: Arc<dyn Invoke>) {
        let name = function.name().to_owned();
        self.register_as(name, function);
    }

    /// Registers `function` under `name`.
    pub fn register_as(&self, name: impl Into<String>, function: Arc<dyn Invoke>) {
        self.functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.into(), function);
    }

    /// The function registered under `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Invoke>> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// The Invoke API routes, for mounting into a larger router.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/2015-03-31/functions/{function}/invocations",
                post(invoke_function),
            )
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES * 2))
            .with_state(self.clone())
    }

    /// Serves the Invoke API on `listener` until the task is dropped.
    ///
    /// # Errors
    ///
    /// The I/O error that stopped the server.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

impl fmt::Debug for LambdaService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaService")
            .field("functions", &self.names())
            .finish()
    }
}

async fn invoke_function(
    State(service): State<LambdaService>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = function_name(&function);
    let Some(target) = service.get(name) else {
        warn!(function = %name, "invoke for an unknown function");
        let message = format!("Function not found: {function}");
        return service_error(StatusCode::NOT_FOUND, "ResourceNotFoundException", &message);
    };
    if body.len() > MAX_PAYLOAD_BYTES {
        let message = format!(
            "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
        );
        return service_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &message,
        );
    }
    // An empty body is what the CLI sends without --payload; Lambda hands the function `{}`.
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else {
        serde_json::from_slice::<Value>(&body)
    };
    let payload = match payload {
        Ok(payload) => payload,
        Err(error) => {
            let message = format!("Could not parse request body into json: {error}");
            return service_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &message,
            );
        }
    };

    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    debug!(function = %name, invocation_type, "invoke api call");
    match invocation_type {
        "RequestResponse" => request_response(target.as_ref(), payload).await,
        "Event" => {
            tokio::spawn(async move {
                if let Err(error) = target.invoke(payload).await {
                    warn!(function = %target.name(), %error, "asynchronous invocation failed");
                }
            });
            StatusCode::ACCEPTED.into_response()
        }
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        other => {
            let message = format!("Unsupported invocation type {other}");
            service_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &message,
            )
        }
    }
}

async fn request_response(target: &dyn Invoke, payload: Value) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (function_error, body) = match target.invoke(payload).await {
        Ok(answer) => (false, answer),
        Err(InvokeError::Start(error)) => {
            let message = format!("cannot start the function: {error}");
            return service_error(StatusCode::BAD_GATEWAY, "ServiceException", &message);
        }
        Err(InvokeError::Shutdown) => {
            return service_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                "the function has been shut down",
            );
        }
        Err(error) => (true, json!(error.to_payload(&request_id))),
    };

    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-amzn-RequestId", &request_id)
        .header("X-Amz-Executed-Version", "$LATEST");
    if function_error {
        response = response.header("X-Amz-Function-Error", "Unhandled");
    }
    response
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| {
            service_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "bad response",
            )
        })
}

/// The function name from a name, a partial ARN (`123456789012:function:name`) or a full ARN,
/// without a version or alias qualifier.
fn function_name(identifier: &str) -> &str {
    let unqualified = match identifier.split_once(":function:") {
        Some((_, rest)) => rest,
        None => identifier,
    };
    unqualified.split(':').next().unwrap_or(unqualified)
}

fn service_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"Type": "User", "message": message})),
    )
        .into_response();
    if let Ok(value) = error_type.parse() {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn function_name_accepts_names_and_arns() {
        assert_eq!(function_name("echo"), "echo");
        assert_eq!(function_name("echo:$LATEST"), "echo");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:echo"),
            "echo"
        );
        assert_eq!(function_name("123456789012:function:echo:prod"), "echo");
    }
}
