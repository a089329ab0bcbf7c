//! Turning a Lambda proxy integration's answer into the HTTP response.
//!
//! Format 1.0: an object with `statusCode`, `headers`, `multiValueHeaders` (which win for a
//! name present in both), `body` and `isBase64Encoded`; anything else is a malformed answer.
//! Format 2.0 adds `cookies` (one `set-cookie` each) and infers a response when `statusCode` is
//! absent: status 200, `content-type: application/json`, the answer itself as body.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

/// Why a proxy answer cannot become a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ProxyError {
    #[error("answer is not an object")]
    NotAnObject,
    #[error("statusCode is missing or not an integer in 100..=599")]
    BadStatus,
    #[error("{0} has the wrong shape")]
    BadField(&'static str),
    #[error("header {0:?} is not a valid header")]
    BadHeader(String),
    #[error("body is not valid base64")]
    BadBase64,
}

/// Maps a format 1.0 answer.
pub(crate) fn v1_response(answer: &Value) -> Result<Response, ProxyError> {
    let fields = answer.as_object().ok_or(ProxyError::NotAnObject)?;
    if !fields.contains_key("statusCode") {
        return Err(ProxyError::BadStatus);
    }
    build(fields, false)
}

/// Maps a format 2.0 answer, inferring the response when `statusCode` is absent.
pub(crate) fn v2_response(answer: &Value) -> Result<Response, ProxyError> {
    match answer.as_object() {
        Some(fields) if fields.contains_key("statusCode") => build(fields, true),
        _ => {
            let body = match answer {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .map_err(|_| ProxyError::BadField("body"))
        }
    }
}

fn build(fields: &Map<String, Value>, cookies_allowed: bool) -> Result<Response, ProxyError> {
    let status = fields
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (100..=599).contains(code))
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(ProxyError::BadStatus)?;
    let headers = headers(fields, cookies_allowed)?;
    let body = body(fields)?;

    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, values) in headers {
        let bad = || ProxyError::BadHeader(name.clone());
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        for value in values {
            let value = HeaderValue::from_str(&value).map_err(|_| bad())?;
            response.headers_mut().append(header_name.clone(), value);
        }
    }
    Ok(response)
}

/// `headers`, then `multiValueHeaders` replacing names they share, then `cookies` (2.0).
fn headers(
    fields: &Map<String, Value>,
    cookies_allowed: bool,
) -> Result<Vec<(String, Vec<String>)>, ProxyError> {
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(single) = optional_object(fields, "headers")? {
        for (name, value) in single {
            let value = scalar_text(value).ok_or(ProxyError::BadField("headers"))?;
            headers.push((name.clone(), vec![value]));
        }
    }
    if let Some(multi) = optional_object(fields, "multiValueHeaders")? {
        for (name, values) in multi {
            let values = text_list(values, "multiValueHeaders", scalar_text)?;
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), values));
        }
    }
    if cookies_allowed && let Some(cookies) = fields.get("cookies").filter(|v| !v.is_null()) {
        let cookies = text_list(cookies, "cookies", |c| c.as_str().map(str::to_owned))?;
        headers.push(("set-cookie".to_owned(), cookies));
    }
    Ok(headers)
}

fn body(fields: &Map<String, Value>) -> Result<Vec<u8>, ProxyError> {
    let base64 = match fields.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(ProxyError::BadField("isBase64Encoded")),
    };
    match fields.get("body") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if base64 => {
            STANDARD.decode(text).map_err(|_| ProxyError::BadBase64)
        }
        Some(Value::String(text)) => Ok(text.clone().into_bytes()),
        Some(_) => Err(ProxyError::BadField("body")),
    }
}

fn text_list(
    value: &Value,
    field: &'static str,
    item: impl Fn(&Value) -> Option<String>,
) -> Result<Vec<String>, ProxyError> {
    let items = value.as_array().ok_or(ProxyError::BadField(field))?;
    items
        .iter()
        .map(|v| item(v).ok_or(ProxyError::BadField(field)))
        .collect()
}

fn optional_object<'a>(
    fields: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a Map<String, Value>>, ProxyError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ProxyError::BadField(name)),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}
