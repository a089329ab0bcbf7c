//! Test fixture: a `lambda_runtime` function whose behaviour the event chooses, used by the
//! runtime emulator's tests to exercise every outcome with a real binary.
//!
//! Event `{"action": ...}`: `echo` (default) returns the event, the invocation context and the
//! process environment; `error` fails with `errorType`/`message`; `sleep` waits `ms` then echoes;
//! `panic` panics inside the handler; `exit` ends the process with `code`; `big` answers a string
//! of `bytes` bytes. `ECHO_FN_INIT` set to `exit`, `init-error` or `hang` fails the init phase.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    match std::env::var("ECHO_FN_INIT").as_deref() {
        Ok("exit") => std::process::exit(3),
        Ok("init-error") => {
            report_init_error();
            std::process::exit(1);
        }
        Ok("hang") => tokio::time::sleep(Duration::from_secs(3_600)).await,
        _ => {}
    }
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("echo")
        .to_owned();
    println!("echo-fn handling {action}");

    match action.as_str() {
        "error" => Err(Diagnostic {
            error_type: text(&payload, "errorType", "EchoError"),
            error_message: text(&payload, "message", "asked to fail"),
        }),
        "sleep" => {
            let ms = payload.get("ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({"slept_ms": ms, "requestId": context.request_id}))
        }
        "panic" => panic!("echo-fn was asked to panic"),
        "exit" => {
            let code = payload.get("code").and_then(Value::as_i64).unwrap_or(7);
            std::process::exit(i32::try_from(code).unwrap_or(7))
        }
        "big" => {
            let bytes = payload.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            Ok(Value::String(
                "x".repeat(usize::try_from(bytes).unwrap_or(0)),
            ))
        }
        _ => {
            let env: BTreeMap<String, String> = std::env::vars().collect();
            Ok(json!({
                "event": payload,
                "requestId": context.request_id,
                "functionArn": context.invoked_function_arn,
                "deadlineMs": context.deadline,
                "traceId": context.xray_trace_id,
                "pid": std::process::id(),
                "env": env,
            }))
        }
    }
}

fn text(payload: &Value, key: &str, default: &str) -> String {
    payload
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_owned()
}

/// Posts to `/runtime/init/error` the way runtimes without SnapStart support in
/// `lambda_runtime` do it by hand: one plain HTTP/1.1 request.
fn report_init_error() {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = r#"{"errorType":"Runtime.InitError","errorMessage":"echo-fn refused to start"}"#;
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Ok(mut stream) = std::net::TcpStream::connect(&api) {
        let _ = stream.write_all(request.as_bytes());
        let mut answer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
    }
}
