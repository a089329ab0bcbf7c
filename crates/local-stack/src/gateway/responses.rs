//! The fixed answers API Gateway gives when it, not the integration, decides (default gateway
//! responses): status, JSON body and, for REST APIs, the `x-amzn-ErrorType` header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn gateway_response(status: StatusCode, body: Value, error_type: Option<&'static str>) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(error_type) = error_type {
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
    }
    response
}

/// REST: identity source missing, token failing validation, or authorizer error `Unauthorized`.
pub(crate) fn rest_unauthorized() -> Response {
    gateway_response(
        StatusCode::UNAUTHORIZED,
        json!({"message": "Unauthorized"}),
        Some("UnauthorizedException"),
    )
}

/// REST: the policy denies the method, explicitly or for want of a matching `Allow`.
pub(crate) fn rest_access_denied(explicit: bool) -> Response {
    let message = if explicit {
        "User is not authorized to access this resource with an explicit deny"
    } else {
        "User is not authorized to access this resource"
    };
    gateway_response(
        StatusCode::FORBIDDEN,
        json!({"Message": message}),
        Some("AccessDeniedException"),
    )
}

/// REST: authorizer error, timeout or malformed answer (`AuthorizerConfigurationException`).
pub(crate) fn rest_authorizer_failure() -> Response {
    gateway_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"message": null}),
        Some("AuthorizerConfigurationException"),
    )
}

/// REST: integration error or malformed proxy response.
pub(crate) fn rest_integration_failure() -> Response {
    gateway_response(
        StatusCode::BAD_GATEWAY,
        json!({"message": "Internal server error"}),
        Some("InternalServerErrorException"),
    )
}

/// REST: the integration did not answer within the integration timeout.
pub(crate) fn rest_integration_timeout() -> Response {
    gateway_response(
        StatusCode::GATEWAY_TIMEOUT,
        json!({"message": "Endpoint request timed out"}),
        None,
    )
}

/// REST: no resource and method match the request.
pub(crate) fn rest_missing_token() -> Response {
    gateway_response(
        StatusCode::FORBIDDEN,
        json!({"message": "Missing Authentication Token"}),
        Some("MissingAuthenticationTokenException"),
    )
}

/// REST: the path does not start with a deployed stage.
pub(crate) fn rest_forbidden() -> Response {
    gateway_response(
        StatusCode::FORBIDDEN,
        json!({"message": "Forbidden"}),
        Some("ForbiddenException"),
    )
}

/// REST: the method ARN is over 1600 bytes.
pub(crate) fn rest_uri_too_long() -> Response {
    gateway_response(
        StatusCode::URI_TOO_LONG,
        json!({"message": "Request-URI Too Long"}),
        None,
    )
}

/// The request body is over API Gateway's 10 MB payload limit.
pub(crate) fn payload_too_large() -> Response {
    gateway_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"message": "Request Too Long"}),
        None,
    )
}

/// HTTP API: identity source missing.
pub(crate) fn http_unauthorized() -> Response {
    gateway_response(
        StatusCode::UNAUTHORIZED,
        json!({"message": "Unauthorized"}),
        None,
    )
}

/// HTTP API: the authorizer said no (simple `false`, or a policy without matching `Allow`).
pub(crate) fn http_forbidden() -> Response {
    gateway_response(StatusCode::FORBIDDEN, json!({"message": "Forbidden"}), None)
}

/// HTTP API: authorizer or integration failure.
pub(crate) fn http_internal_error() -> Response {
    gateway_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"message": "Internal Server Error"}),
        None,
    )
}

/// HTTP API: no route matches.
pub(crate) fn http_not_found() -> Response {
    gateway_response(StatusCode::NOT_FOUND, json!({"message": "Not Found"}), None)
}

/// HTTP API: the integration did not answer within the integration timeout.
pub(crate) fn http_unavailable() -> Response {
    gateway_response(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"message": "Service Unavailable"}),
        None,
    )
}
