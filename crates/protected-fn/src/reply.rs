//! JSON responses.

use lambda_http::http::header::{ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

const JSON: &str = "application/json";

/// A JSON response with `status`.
pub(crate) fn json(status: u16, body: &impl Serialize) -> Response<Body> {
    // Serializing values built from strings and numbers cannot fail; an empty object keeps the
    // answer well-formed if it ever did.
    let text = serde_json::to_string(body).unwrap_or_else(|_| String::from("{}"));
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(status)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static(JSON),
    );
    response
}

/// A JSON error: `{"error": code, "message": text}`.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    json(status, &json!({"error": code, "message": message}))
}

/// `401`, for requests that reached the function without an authorizer context.
pub(crate) fn unauthorized() -> Response<Body> {
    let mut response = error(401, "unauthorized", "no verified caller");
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        lambda_http::http::HeaderValue::from_static("Bearer"),
    );
    response
}

/// `405` with the `Allow` header RFC 9110 §15.5.6 requires.
pub(crate) fn method_not_allowed(allowed: &'static str) -> Response<Body> {
    let mut response = error(
        405,
        "method_not_allowed",
        "method not allowed on this route",
    );
    response
        .headers_mut()
        .insert(ALLOW, lambda_http::http::HeaderValue::from_static(allowed));
    response
}
