//! Shared builders for the gateway tests: fake functions, policies, a served gateway and a
//! small HTTP client wrapper.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on broken fixtures"
)]
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::{Arc, Mutex};

use local_stack::gateway::Gateway;
use local_stack::runtime::{FnInvoke, InvokeError};
use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Every event a fake function received, in order.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Value>>>);

impl Recorder {
    pub fn push(&self, event: &Value) {
        self.0.lock().unwrap().push(event.clone());
    }

    pub fn events(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    pub fn last(&self) -> Value {
        self.events().last().cloned().unwrap()
    }
}

/// A fake function answering `answer(event)` and recording each event.
pub fn fake<F>(name: &str, recorder: &Recorder, answer: F) -> FnInvoke
where
    F: Fn(&Value) -> Result<Value, InvokeError> + Send + Sync + 'static,
{
    let recorder = recorder.clone();
    let answer = Arc::new(answer);
    FnInvoke::new(name, move |event| {
        recorder.push(&event);
        let answer = Arc::clone(&answer);
        async move { answer(&event) }
    })
}

/// A function error as a `lambda_runtime` handler reports it.
pub fn function_error(message: &str) -> InvokeError {
    InvokeError::Function {
        error_type: "Error".to_owned(),
        error_message: message.to_owned(),
    }
}

/// An integration answering 200 with the event it received as JSON body.
pub fn echo_integration(recorder: &Recorder) -> FnInvoke {
    fake("echo-integration", recorder, |event| {
        Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": event.to_string(),
        }))
    })
}

/// An authorizer answer with one statement.
pub fn policy_answer(principal: &str, effect: &str, resource: &str, context: Value) -> Value {
    json!({
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    })
}

/// The ARN a policy names for `api_id`, stage, method and path.
pub fn arn(api_id: &str, stage: &str, rest: &str) -> String {
    format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}/{rest}")
}

/// A gateway served on a loopback port.
pub struct Served {
    pub gateway: Gateway,
    pub base: String,
    client: reqwest::Client,
}

/// What came back: status, headers and body (JSON when it parses, else a JSON string).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn serve(gateway: Gateway) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        gateway.base_path()
    );
    tokio::spawn(gateway.clone().serve(listener));
    Served {
        gateway,
        base,
        client: reqwest::Client::new(),
    }
}

impl Served {
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(reqwest::Method::GET, path, headers, Vec::new())
            .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            headers,
            body,
            bytes,
        }
    }
}
