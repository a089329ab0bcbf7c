//! Proxy events built from the `sam local generate-event` fixtures, and a way to run them
//! through the handler as lambda_http would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test support: a failure here is a broken test setup, and not every test uses every helper"
)]

use lambda_http::{Body, Response};
use serde_json::{Value, json};

/// A fixture from `tests/fixtures`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The authorizer context the tests' caller carries.
pub fn caller_context() -> Value {
    fixture("caller-context.json")
}

/// A REST API proxy event (payload 1.0, stage `prod`) for `method path`, with the authorizer
/// context API Gateway would attach (`principalId` and `integrationLatency` beside the
/// authorizer's own keys), or none.
pub fn rest_event(method: &str, path: &str, context: Option<Value>, body: Option<&str>) -> Value {
    let mut event = fixture("rest-proxy.json");
    event["httpMethod"] = json!(method);
    event["resource"] = json!(path);
    event["path"] = json!(path);
    event["pathParameters"] = Value::Null;
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["resourcePath"] = json!(path);
    event["requestContext"]["path"] = json!(format!("/prod{path}"));
    if let Some(mut context) = context {
        context["principalId"] = context["roleArn"].clone();
        context["integrationLatency"] = json!(31);
        event["requestContext"]["authorizer"] = context;
    }
    set_body(&mut event, body);
    event
}

/// An HTTP API proxy event in payload format 1.0 (stage `$default`): REST-shaped, with the
/// authorizer context nested under `authorizer.lambda` as HTTP APIs write it.
pub fn http_v1_event(method: &str, path: &str, context: Value) -> Value {
    let mut event = rest_event(method, path, None, None);
    event["version"] = json!("1.0");
    event["requestContext"]["stage"] = json!("$default");
    event["requestContext"]["path"] = json!(path);
    event["requestContext"]["authorizer"] = json!({"lambda": context, "integrationLatency": 0});
    event
}

/// An HTTP API proxy event (payload 2.0, stage `$default`) for `method path`, with the
/// authorizer context under `authorizer.lambda`, or none.
pub fn http_event(method: &str, path: &str, context: Option<Value>, body: Option<&str>) -> Value {
    let mut event = fixture("http-proxy.json");
    event["routeKey"] = json!(format!("{method} {path}"));
    event["rawPath"] = json!(path);
    event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    match context {
        Some(context) => event["requestContext"]["authorizer"] = json!({"lambda": context}),
        None => drop(
            event["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer"),
        ),
    }
    set_body(&mut event, body);
    event
}

fn set_body(event: &mut Value, body: Option<&str>) {
    event["isBase64Encoded"] = json!(false);
    match body {
        Some(text) => event["body"] = json!(text),
        None => event["body"] = Value::Null,
    }
}

/// The handler's answer to an event, as status, headers of interest and JSON body.
pub async fn call(event: &Value) -> (u16, Value, Response<Body>) {
    let request =
        lambda_http::request::from_str(&event.to_string()).expect("event is a proxy event");
    let response = protected_fn::handle(request).await.unwrap();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("body is json"),
        other => panic!("expected a text body, got {other:?}"),
    };
    (response.status().as_u16(), body, response)
}

/// The header's value as text.
pub fn header<'r>(response: &'r Response<Body>, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}
