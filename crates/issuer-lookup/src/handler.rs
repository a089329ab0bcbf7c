//! The custom resource handler: read the request, look up the issuer, answer CloudFormation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::federation::lookup_issuer;
use crate::request::{ReplyTo, RequestError, RequestKind};
use crate::response::{self, CustomResourceResponse, RESPONSE_TIMEOUT, ResponseError, Status};

/// Time kept back from the function's deadline for the response PUT and the runtime's own work.
const RESPONSE_RESERVE: Duration = RESPONSE_TIMEOUT.saturating_add(Duration::from_secs(2));

/// Shortest time given to the IAM calls, even when the deadline is closer.
const MIN_LOOKUP_BUDGET: Duration = Duration::from_secs(1);

/// Clients the handler uses, built once per cold start.
#[derive(Debug, Clone)]
pub struct Dependencies {
    /// IAM client; its endpoint follows `AWS_ENDPOINT_URL_IAM` when set.
    pub iam: aws_sdk_iam::Client,
    /// HTTP client for the response PUT, see [`response::response_client`].
    pub http: reqwest::Client,
}

/// Why an invocation ended without CloudFormation receiving an answer.
///
/// Returning it makes the invocation fail, so Lambda's retries of asynchronous invocations
/// (CloudFormation invokes custom resources asynchronously) get another chance to answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// The event has no usable response URL or identifiers, so there is nobody to answer.
    #[error("event cannot be answered")]
    Unanswerable(#[source] RequestError),
    /// The answer was built but could not be delivered.
    #[error("delivering the response to cloudformation failed")]
    Delivery(#[source] ResponseError),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = match error {
            HandlerError::Unanswerable(_) => "UnanswerableEvent",
            HandlerError::Delivery(_) => "ResponseNotDelivered",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: with_causes(&error),
        }
    }
}

/// `error` and its sources, joined by ": ", for a log line or the invocation's error message.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Lambda entry point: answers one custom resource request within the invocation's deadline.
///
/// # Errors
///
/// See [`respond`].
pub async fn handle(
    event: LambdaEvent<Value>,
    deps: &Dependencies,
) -> Result<Status, HandlerError> {
    let budget = lookup_budget(event.context.deadline, SystemTime::now());
    respond(&event.payload, deps, budget).await
}

/// Answers one custom resource request, giving the IAM calls at most `budget`.
///
/// `Create` and `Update` answer `SUCCESS` with `Data.IssuerIdentifier`, or `FAILED` with a reason
/// the operator can act on. `Delete` always answers `SUCCESS` and makes no IAM call: turning
/// federation off would break every other workload in the account that mints tokens. A request
/// that cannot be read but can be answered gets `FAILED`.
///
/// # Errors
///
/// [`HandlerError::Unanswerable`] when the event has no usable reply address and
/// [`HandlerError::Delivery`] when the PUT fails; in both cases CloudFormation has no answer.
pub async fn respond(
    event: &Value,
    deps: &Dependencies,
    budget: Duration,
) -> Result<Status, HandlerError> {
    let reply = ReplyTo::from_event(event).map_err(|error| {
        warn!(error = %with_causes(&error), "rejected event that carries no usable reply address");
        HandlerError::Unanswerable(error)
    })?;

    let answer = decide(event, &reply, &deps.iam, budget).await;

    deliver(&deps.http, &reply, &answer).await?;
    Ok(answer.status)
}

async fn decide(
    event: &Value,
    reply: &ReplyTo,
    iam: &aws_sdk_iam::Client,
    budget: Duration,
) -> CustomResourceResponse {
    let kind = match RequestKind::from_event(event) {
        Ok(kind) => kind,
        Err(error) => {
            warn!(error = %error, request_id = %reply.request_id, "rejected request");
            return CustomResourceResponse::failure(reply, error.to_string());
        }
    };

    let properties = match kind {
        RequestKind::Create(properties) | RequestKind::Update(properties) => properties,
        RequestKind::Delete => {
            info!(request_id = %reply.request_id, "delete leaves federation as it is");
            return CustomResourceResponse::success(reply, None);
        }
    };

    match lookup_issuer(iam, properties.enable_federation, budget).await {
        Ok(issuer) => {
            info!(issuer = %issuer, request_id = %reply.request_id, "issuer found");
            CustomResourceResponse::success(reply, Some(&issuer))
        }
        Err(failure) => {
            error!(error = %failure, request_id = %reply.request_id, "issuer lookup failed");
            CustomResourceResponse::failure(reply, failure.to_string())
        }
    }
}

async fn deliver(
    http: &reqwest::Client,
    reply: &ReplyTo,
    answer: &CustomResourceResponse,
) -> Result<(), HandlerError> {
    match response::send(http, reply, answer).await {
        Ok(()) => {
            info!(status = ?answer.status, host = %reply.response_host(), "response delivered");
            Ok(())
        }
        Err(failure) => {
            error!(
                error = %with_causes(&failure),
                host = %reply.response_host(),
                request_id = %reply.request_id,
                "cloudformation did not receive the response"
            );
            Err(HandlerError::Delivery(failure))
        }
    }
}

/// Time the IAM calls may take: what is left before `deadline_ms` (milliseconds since the Unix
/// epoch, as the Lambda context gives it) minus the reserve for answering, and at least
/// [`MIN_LOOKUP_BUDGET`].
pub fn lookup_budget(deadline_ms: u64, now: SystemTime) -> Duration {
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    });
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    remaining
        .saturating_sub(RESPONSE_RESERVE)
        .max(MIN_LOOKUP_BUDGET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_error_message_names_every_cause() {
        let error = HandlerError::Delivery(ResponseError::Rejected { status: 403 });

        let diagnostic = lambda_runtime::Diagnostic::from(error);

        assert_eq!(diagnostic.error_type, "ResponseNotDelivered");
        assert_eq!(
            diagnostic.error_message,
            "delivering the response to cloudformation failed: \
             cloudformation response url answered with status 403"
        );
    }

    #[test]
    fn budget_keeps_time_for_the_response() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let deadline_ms = 1_700_000_000_000 + 60_000;

        assert_eq!(lookup_budget(deadline_ms, now), Duration::from_secs(48));
    }

    #[test]
    fn budget_never_drops_below_the_minimum() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);

        assert_eq!(lookup_budget(1_700_000_005_000, now), MIN_LOOKUP_BUDGET);
        assert_eq!(lookup_budget(0, now), MIN_LOOKUP_BUDGET);
    }
}
