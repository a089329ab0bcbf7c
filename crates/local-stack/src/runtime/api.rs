//! The Lambda Runtime API (`/2018-06-01/runtime/...`) one execution environment polls.
//!
//! Paths, headers and status codes follow the Runtime API reference: `GET invocation/next`
//! long-polls and answers 200 with the event and the `Lambda-Runtime-*` headers; `POST
//! invocation/{id}/response|error` and `POST init/error` answer 202; an unknown request id is 400
//! `InvalidRequestID`; a response over 6 MB is 413 and fails the invocation with
//! `Function.ResponseSizeTooLarge`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::ErrorPayload;
use super::clock::epoch_millis;

/// Lambda's synchronous response payload limit.
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Bodies above this are refused by the HTTP layer before any handler sees them.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// An event waiting for the runtime's next poll.
pub(crate) struct PendingEvent {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) trace_id: String,
    /// Receives the deadline (ms since epoch) once the runtime has taken the event.
    pub(crate) delivered: oneshot::Sender<u64>,
    pub(crate) outcome: oneshot::Sender<RuntimeOutcome>,
}

/// What the runtime answered for one invocation.
#[derive(Debug)]
pub(crate) enum RuntimeOutcome {
    Response(Bytes),
    Error(ErrorPayload),
}

/// The invocation the runtime is working on.
struct Inflight {
    request_id: String,
    outcome: oneshot::Sender<RuntimeOutcome>,
}

/// State of one execution environment's Runtime API.
pub(crate) struct ApiState {
    function_arn: String,
    timeout: Duration,
    events: tokio::sync::Mutex<mpsc::Receiver<PendingEvent>>,
    inflight: Mutex<Option<Inflight>>,
    init_error: Mutex<Option<ErrorPayload>>,
}

impl ApiState {
    pub(crate) fn new(
        function_arn: String,
        timeout: Duration,
        events: mpsc::Receiver<PendingEvent>,
    ) -> Self {
        Self {
            function_arn,
            timeout,
            events: tokio::sync::Mutex::new(events),
            inflight: Mutex::new(None),
            init_error: Mutex::new(None),
        }
    }

    /// The error the runtime posted to `/runtime/init/error`, if any.
    pub(crate) fn init_error(&self) -> Option<ErrorPayload> {
        self.init_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn take_inflight(&self, request_id: &str) -> Option<Inflight> {
        let mut slot = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some(inflight) if inflight.request_id == request_id => slot.take(),
            _ => None,
        }
    }
}

/// The Runtime API routes for one execution environment.
pub(crate) fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn next_invocation(State(api): State<Arc<ApiState>>) -> Response {
    let event = api.events.lock().await.recv().await;
    let Some(event) = event else {
        // The environment was discarded while this poll waited; its process is being killed.
        return runtime_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "shut down",
        );
    };

    let deadline = epoch_millis(SystemTime::now() + api.timeout);
    *api.inflight.lock().unwrap_or_else(PoisonError::into_inner) = Some(Inflight {
        request_id: event.request_id.clone(),
        outcome: event.outcome,
    });
    // The invoker may have given up already; the runtime still gets its event, as on Lambda.
    let _ = event.delivered.send(deadline);
    debug!(request_id = %event.request_id, deadline, "event handed to runtime");

    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &event.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &api.function_arn)
        .header("Lambda-Runtime-Trace-Id", &event.trace_id)
        .body(Body::from(event.payload))
        .unwrap_or_else(|_| {
            runtime_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "bad header",
            )
        })
}

async fn invocation_response(
    State(api): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(inflight) = api.take_inflight(&request_id) else {
        warn!(%request_id, "runtime answered an unknown request id");
        return runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        );
    };

    if body.len() > MAX_RESPONSE_BYTES {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size ({} bytes).",
            body.len(),
            MAX_RESPONSE_BYTES
        );
        let _ = inflight.outcome.send(RuntimeOutcome::Error(ErrorPayload {
            error_type: "Function.ResponseSizeTooLarge".to_owned(),
            error_message: message.clone(),
        }));
        return runtime_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }

    let _ = inflight.outcome.send(RuntimeOutcome::Response(body));
    accepted()
}

async fn invocation_error(
    State(api): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(inflight) = api.take_inflight(&request_id) else {
        warn!(%request_id, "runtime reported an error for an unknown request id");
        return runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        );
    };
    let _ = inflight
        .outcome
        .send(RuntimeOutcome::Error(error_payload(&headers, &body)));
    accepted()
}

async fn init_error(State(api): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    let payload = error_payload(&headers, &body);
    warn!(error_type = %payload.error_type, "runtime reported an init error");
    *api.init_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(payload);
    accepted()
}

/// Reads the posted error document, falling back to the `Lambda-Runtime-Function-Error-Type`
/// header and the raw body when the runtime sent something else than the documented JSON.
fn error_payload(headers: &HeaderMap, body: &[u8]) -> ErrorPayload {
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled");
    match serde_json::from_slice::<ErrorPayload>(body) {
        Ok(mut payload) => {
            if payload.error_type.is_empty() {
                header_type.clone_into(&mut payload.error_type);
            }
            payload
        }
        Err(_) => ErrorPayload {
            error_type: header_type.to_owned(),
            error_message: String::from_utf8_lossy(body).chars().take(4096).collect(),
        },
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorMessage": message, "errorType": error_type})),
    )
        .into_response()
}
