//! The events API Gateway sends to Lambda authorizers and proxy integrations, in the shapes the
//! API Gateway developer guide documents ("Input to an API Gateway Lambda authorizer", "HTTP API
//! Lambda authorizer payload format", "Lambda proxy integration input format", "HTTP API payload
//! format versions 1.0 and 2.0").

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::exchange::Exchange;

/// A `TOKEN` authorizer event: only the token and the method ARN.
pub(crate) fn token_authorizer(token: &str, method_arn: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn})
}

/// A REST `REQUEST` authorizer event.
pub(crate) fn request_authorizer(ex: &Exchange<'_>) -> Value {
    let r = ex.request;
    json!({
        "type": "REQUEST",
        "methodArn": ex.arn,
        "resource": ex.matched.route.resource_path,
        "path": r.path,
        "httpMethod": r.method,
        "headers": last_headers(ex),
        "multiValueHeaders": multi_headers(ex),
        "queryStringParameters": query_last(ex),
        "multiValueQueryStringParameters": query_multi(ex),
        "pathParameters": string_map(ex.matched.path_parameters.iter()),
        "stageVariables": string_map(ex.api.stage_variables.iter()),
        "requestContext": v1_request_context(ex, None),
    })
}

/// An HTTP API authorizer event, payload format 1.0 (identity values comma-joined).
pub(crate) fn http_v1_authorizer(ex: &Exchange<'_>, identity: &[String]) -> Value {
    let r = ex.request;
    let joined = identity.join(",");
    json!({
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": ex.arn,
        "identitySource": joined,
        "authorizationToken": joined,
        "resource": ex.matched.route.resource_path,
        "path": r.path,
        "httpMethod": r.method,
        "headers": last_headers(ex),
        "multiValueHeaders": multi_headers(ex),
        "queryStringParameters": query_last(ex),
        "multiValueQueryStringParameters": query_multi(ex),
        "pathParameters": string_map(ex.matched.path_parameters.iter()),
        "stageVariables": string_map(ex.api.stage_variables.iter()),
        "requestContext": v1_request_context(ex, None),
    })
}

/// An HTTP API authorizer event, payload format 2.0.
pub(crate) fn http_v2_authorizer(ex: &Exchange<'_>, identity: &[String]) -> Value {
    let r = ex.request;
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ex.arn,
        "identitySource": identity,
        "routeKey": ex.matched.route.key,
        "rawPath": r.path,
        "rawQueryString": r.raw_query,
        "cookies": r.cookies(),
        "headers": joined_headers(ex),
        "queryStringParameters": query_joined(ex),
        "requestContext": v2_request_context(ex, None),
        "pathParameters": string_map(ex.matched.path_parameters.iter()),
        "stageVariables": string_map(ex.api.stage_variables.iter()),
    })
}

/// A proxy integration event, payload format 1.0 (REST APIs, and HTTP APIs set to 1.0).
pub(crate) fn v1_proxy(ex: &Exchange<'_>, authorizer: Option<Value>) -> Value {
    let r = ex.request;
    let (body, is_base64) = body(ex);
    let mut event = json!({
        "resource": ex.matched.route.resource_path,
        "path": r.path,
        "httpMethod": r.method,
        "headers": last_headers(ex),
        "multiValueHeaders": multi_headers(ex),
        "queryStringParameters": query_last(ex),
        "multiValueQueryStringParameters": query_multi(ex),
        "pathParameters": null_if_empty(string_map(ex.matched.path_parameters.iter())),
        "stageVariables": null_if_empty(string_map(ex.api.stage_variables.iter())),
        "requestContext": v1_request_context(ex, authorizer),
        "body": body,
        "isBase64Encoded": is_base64,
    });
    if matches!(ex.api.flavor, super::exchange::Flavor::Http { .. }) {
        event["version"] = json!("1.0");
    }
    event
}

/// A proxy integration event, payload format 2.0 (HTTP APIs).
pub(crate) fn v2_proxy(ex: &Exchange<'_>, authorizer: Option<Value>) -> Value {
    let r = ex.request;
    let (body, is_base64) = body(ex);
    let mut event = json!({
        "version": "2.0",
        "routeKey": ex.matched.route.key,
        "rawPath": r.path,
        "rawQueryString": r.raw_query,
        "headers": joined_headers(ex),
        "requestContext": v2_request_context(ex, authorizer),
        "isBase64Encoded": is_base64,
    });
    let cookies = r.cookies();
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Value::Object(query) = query_joined(ex) {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !ex.matched.path_parameters.is_empty() {
        event["pathParameters"] = string_map(ex.matched.path_parameters.iter());
    }
    if !ex.api.stage_variables.is_empty() {
        event["stageVariables"] = string_map(ex.api.stage_variables.iter());
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

fn v1_request_context(ex: &Exchange<'_>, authorizer: Option<Value>) -> Value {
    let (api, r, route) = (ex.api, ex.request, ex.matched.route);
    let mut context = json!({
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": api.domain_name(),
        "domainPrefix": api.api_id,
        "extendedRequestId": r.request_id,
        "httpMethod": r.method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": r.source_ip,
            "user": null,
            "userAgent": r.user_agent(),
            "userArn": null,
        },
        "path": r.full_path,
        "protocol": r.protocol,
        "requestId": r.request_id,
        "requestTime": r.request_time(),
        "requestTimeEpoch": r.epoch_millis(),
        "resourceId": route.resource_id,
        "resourcePath": route.resource_path,
        "stage": api.stage,
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    context
}

fn v2_request_context(ex: &Exchange<'_>, authorizer: Option<Value>) -> Value {
    let (api, r) = (ex.api, ex.request);
    let mut context = json!({
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": api.domain_name(),
        "domainPrefix": api.api_id,
        "http": {
            "method": r.method,
            "path": r.path,
            "protocol": r.protocol,
            "sourceIp": r.source_ip,
            "userAgent": r.user_agent(),
        },
        "requestId": r.request_id,
        "routeKey": ex.matched.route.key,
        "stage": api.stage,
        "time": r.request_time(),
        "timeEpoch": r.epoch_millis(),
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    context
}

fn last_headers(ex: &Exchange<'_>) -> Value {
    let mut map = Map::new();
    for (name, value) in &ex.request.headers {
        map.insert(name.clone(), json!(value));
    }
    Value::Object(map)
}

fn multi_headers(ex: &Exchange<'_>) -> Value {
    let mut map = Map::new();
    for (name, value) in &ex.request.headers {
        push(&mut map, name, value);
    }
    Value::Object(map)
}

/// Payload 2.0 headers: duplicates comma-joined, cookies moved to their own field.
fn joined_headers(ex: &Exchange<'_>) -> Value {
    let mut map = Map::new();
    for (name, value) in ex.request.headers.iter().filter(|(n, _)| n != "cookie") {
        let joined = match map.get(name).and_then(Value::as_str) {
            Some(previous) => format!("{previous},{value}"),
            None => value.clone(),
        };
        map.insert(name.clone(), Value::String(joined));
    }
    Value::Object(map)
}

fn query_last(ex: &Exchange<'_>) -> Value {
    let pairs = ex.request.query_pairs();
    if pairs.is_empty() {
        return Value::Null;
    }
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

fn query_multi(ex: &Exchange<'_>) -> Value {
    let pairs = ex.request.query_pairs();
    if pairs.is_empty() {
        return Value::Null;
    }
    let mut map = Map::new();
    for (name, value) in &pairs {
        push(&mut map, name, value);
    }
    Value::Object(map)
}

fn query_joined(ex: &Exchange<'_>) -> Value {
    let pairs = ex.request.query_pairs();
    if pairs.is_empty() {
        return Value::Null;
    }
    let mut map = Map::new();
    for (name, value) in pairs {
        let joined = match map.get(&name).and_then(Value::as_str) {
            Some(previous) => format!("{previous},{value}"),
            None => value,
        };
        map.insert(name, Value::String(joined));
    }
    Value::Object(map)
}

fn push(map: &mut Map<String, Value>, name: &str, value: &str) {
    match map.get_mut(name) {
        Some(Value::Array(values)) => values.push(json!(value)),
        _ => {
            map.insert(name.to_owned(), json!([value]));
        }
    }
}

fn string_map<'a>(entries: impl Iterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        entries
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn null_if_empty(value: Value) -> Value {
    match &value {
        Value::Object(map) if map.is_empty() => Value::Null,
        _ => value,
    }
}

/// The body as text when it is UTF-8, otherwise base64 with `isBase64Encoded` set.
fn body(ex: &Exchange<'_>) -> (Value, bool) {
    let body = &ex.request.body;
    if body.is_empty() {
        return (Value::Null, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(body)), true),
    }
}
