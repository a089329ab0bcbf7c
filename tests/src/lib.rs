//! Shared builders for the end-to-end tests: a running local stack, tokens minted through the real
//! STS SDK client, and plain HTTP calls to the local APIs.

use std::time::Duration;

use local_stack::runtime::LogCapture;
use local_stack::stack::{Ports, Stack, StackOptions};
use local_stack::world::{self, Persona};
use serde_json::{Value, json};

/// A stack on free ports with its function logs captured.
#[derive(Debug)]
pub struct TestStack {
    /// The running stack.
    pub stack: Stack,
    /// Every function log line.
    pub logs: LogCapture,
}

/// Starts a stack on free ports; `tune` adjusts the options first.
///
/// # Panics
///
/// When the stack cannot start: every test needs it.
pub async fn start_stack(tune: impl FnOnce(&mut StackOptions)) -> TestStack {
    let logs = LogCapture::new();
    let mut options = StackOptions::new(Ports::EPHEMERAL, logs.clone());
    tune(&mut options);
    let stack = Stack::start(options).await.expect("the local stack starts");
    TestStack { stack, logs }
}

/// What a caller function answered: the API's status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerAnswer {
    /// The protected API's HTTP status.
    pub status: u16,
    /// The protected API's body.
    pub body: Value,
    /// The identity the caller says it called as.
    pub called_as: Value,
}

/// Invokes `persona`'s caller function for `method path` on the `api` ("rest" or "http").
///
/// # Panics
///
/// When the function fails or answers without a status.
pub async fn call(
    stack: &Stack,
    persona: &str,
    api: &str,
    method: &str,
    path: &str,
) -> CallerAnswer {
    let mut event = json!({"api": api, "method": method, "path": path});
    if method == "POST" {
        event["body"] = json!({"item": "tea", "quantity": 2});
    }
    let answer = stack
        .caller(persona)
        .invoke(event)
        .await
        .expect("the caller function answers");
    CallerAnswer {
        status: answer["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .expect("a status"),
        body: answer["body"].clone(),
        called_as: answer["calledAs"].clone(),
    }
}

/// Mints a token for `persona` through the unmodified AWS SDK, pointed at the stack's STS.
///
/// # Panics
///
/// When STS refuses.
pub async fn mint(stack: &Stack, persona: &Persona) -> String {
    let config = stack
        .account(persona.realm)
        .sts
        .sdk_config_loader(
            world::REGION,
            persona.access_key_id,
            persona.secret_access_key,
        )
        .load()
        .await;
    let output = aws_sdk_sts::Client::new(&config)
        .get_web_identity_token()
        .audience(world::AUDIENCE)
        .signing_algorithm(persona.algorithm.as_str())
        .duration_seconds(300)
        .send()
        .await
        .expect("the local STS mints a token");
    output.web_identity_token().expect("a token").to_owned()
}

/// Sends `method url` with an optional bearer token; returns the status and the JSON body.
///
/// # Panics
///
/// When the API cannot be reached.
pub async fn http(method: &str, url: &str, token: Option<&str>) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an http client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = client.request(method.clone(), url);
    if method == reqwest::Method::POST {
        request = request.json(&json!({"item": "tea", "quantity": 2}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the api answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
