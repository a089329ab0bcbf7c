//! The Runtime API emulator driving the real `echo-fn` binary (built with `lambda_runtime` 1.5).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use local_stack::runtime::{
    ErrorPayload, FunctionSpec, InvokeError, LambdaFunction, LambdaService, LogCapture, LogStream,
    StartError,
};
use serde_json::{Value, json};

const ECHO_FN: &str = env!("CARGO_BIN_EXE_echo-fn");

fn echo_spec(logs: &LogCapture) -> FunctionSpec {
    FunctionSpec::new("echo", ECHO_FN)
        .timeout(Duration::from_secs(2))
        .memory_mb(256)
        .region("eu-west-1")
        .account_id("111122223333")
        .env("ECHO_FN_GREETING", "hello")
        .log_sink(logs.clone())
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since_epoch.as_millis()).expect("milliseconds fit u64")
}

fn process_alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_until_gone(pid: u64) -> bool {
    for _ in 0..50 {
        if !process_alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn echo_round_trip_carries_event_context_and_lambda_environment() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    let before = now_ms();

    let answer = function
        .invoke(json!({"action": "echo", "n": 1, "text": "héllo"}))
        .await
        .unwrap();

    assert_eq!(
        answer["event"],
        json!({"action": "echo", "n": 1, "text": "héllo"})
    );
    assert_eq!(
        answer["functionArn"],
        "arn:aws:lambda:eu-west-1:111122223333:function:echo"
    );
    let request_id = answer["requestId"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(request_id).unwrap().get_version_num(),
        4
    );
    let deadline = answer["deadlineMs"].as_u64().unwrap();
    assert!(
        deadline >= before + 1_900 && deadline <= now_ms() + 2_000,
        "deadline {deadline}"
    );
    assert!(answer["traceId"].as_str().unwrap().starts_with("Root=1-"));

    let env = &answer["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/echo");
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("/[$LATEST]")
    );
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "Text");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["ECHO_FN_GREETING"], "hello");
    let runtime_api = env["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap();
    assert!(runtime_api.starts_with("127.0.0.1:"), "{runtime_api}");
    assert_eq!(
        env.get("HOME"),
        None,
        "the host environment must not leak into the function"
    );

    // The request id the runtime read from Lambda-Runtime-Aws-Request-Id is the platform's.
    assert!(logs.contains(&format!("START RequestId: {request_id} Version: $LATEST")));
    assert!(logs.contains(&format!("END RequestId: {request_id}")));
    let stdout = logs
        .lines()
        .into_iter()
        .find(|l| l.text == "echo-fn handling echo")
        .unwrap();
    assert_eq!(
        (stdout.function.as_str(), stdout.stream),
        ("echo", LogStream::Stdout)
    );
    assert_eq!(function.invocation_count(), 1);

    // Lambda's REPORT line, with the process's peak resident memory read from /proc.
    let report = logs
        .lines()
        .into_iter()
        .find(|l| {
            l.text
                .starts_with(&format!("REPORT RequestId: {request_id}"))
        })
        .unwrap();
    let peak_kib = function.max_memory_used_kib().unwrap();
    assert!((100..256 * 1024).contains(&peak_kib), "{peak_kib} KiB");
    let reported_mb = report
        .text
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" MB"))
        .and_then(|mb| mb.parse::<u64>().ok());
    assert_eq!(
        reported_mb,
        Some(peak_kib.div_ceil(1024)),
        "{}",
        report.text
    );
}

#[tokio::test]
async fn function_error_is_mapped_and_environment_kept() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();

    let error = function
        .invoke(json!({"action": "error", "errorType": "Boom", "message": "bad input"}))
        .await
        .unwrap_err();

    match error {
        InvokeError::Function {
            error_type,
            error_message,
        } => {
            assert_eq!(
                (error_type.as_str(), error_message.as_str()),
                ("Boom", "bad input")
            );
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    function.invoke(json!({})).await.unwrap();
    assert_eq!(function.environments_started(), 1);
    assert_eq!(function.invocation_count(), 2);
}

#[tokio::test]
async fn timeout_discards_the_environment_and_next_invoke_cold_starts() {
    let logs = LogCapture::new();
    let spec = echo_spec(&logs).timeout(Duration::from_secs(1));
    let function = LambdaFunction::start(spec).await.unwrap();
    let pid = function.invoke(json!({})).await.unwrap()["pid"]
        .as_u64()
        .unwrap();

    let started = Instant::now();
    let error = function
        .invoke(json!({"action": "sleep", "ms": 10_000}))
        .await
        .unwrap_err();

    assert!(matches!(error, InvokeError::Timeout { timeout } if timeout == Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        wait_until_gone(pid).await,
        "timed-out process {pid} still runs"
    );
    assert!(logs.contains("Task timed out after 1.00 seconds"));
    let answer = function.invoke(json!({"action": "echo"})).await.unwrap();
    assert_ne!(answer["pid"].as_u64().unwrap(), pid);
    assert_eq!(function.environments_started(), 2);
}

#[tokio::test]
async fn panic_becomes_a_function_error_and_the_function_keeps_serving() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();

    let error = function
        .invoke(json!({"action": "panic"}))
        .await
        .unwrap_err();

    match error {
        InvokeError::Function { error_message, .. } => {
            assert_eq!(error_message, "Lambda panicked: echo-fn was asked to panic");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    assert_eq!(
        function.invoke(json!({"n": 2})).await.unwrap()["event"],
        json!({"n": 2})
    );
    assert_eq!(function.environments_started(), 1);
}

#[tokio::test]
async fn process_exit_is_a_crash_and_next_invoke_restarts() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();

    let error = function
        .invoke(json!({"action": "exit", "code": 9}))
        .await
        .unwrap_err();

    match error {
        InvokeError::Crashed { exit, init_error } => {
            assert_eq!(exit, "exit status: 9");
            assert_eq!(init_error, None);
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert_eq!(
        function.invoke(json!({"n": 3})).await.unwrap()["event"],
        json!({"n": 3})
    );
    assert_eq!(function.environments_started(), 2);
}

#[tokio::test]
async fn init_error_posted_by_the_runtime_is_reported_with_the_crash() {
    let logs = LogCapture::new();
    let spec = echo_spec(&logs).env("ECHO_FN_INIT", "init-error");
    let function = LambdaFunction::start(spec).await.unwrap();

    let error = function.invoke(json!({})).await.unwrap_err();

    let expected = ErrorPayload {
        error_type: "Runtime.InitError".to_owned(),
        error_message: "echo-fn refused to start".to_owned(),
    };
    match error {
        InvokeError::Crashed { exit, init_error } => {
            assert_eq!(exit, "exit status: 1");
            assert_eq!(init_error, Some(expected));
        }
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[tokio::test]
async fn init_exit_without_report_is_a_crash() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs).env("ECHO_FN_INIT", "exit"))
        .await
        .unwrap();

    let error = function.invoke(json!({})).await.unwrap_err();

    assert!(
        matches!(&error, InvokeError::Crashed { exit, init_error: None } if exit == "exit status: 3"),
        "{error:?}"
    );
    assert!(logs.contains("RUNTIME_EXIT exit status: 3"));
}

#[tokio::test]
async fn runtime_that_never_polls_hits_the_init_limit() {
    let logs = LogCapture::new();
    let spec = echo_spec(&logs)
        .env("ECHO_FN_INIT", "hang")
        .init_timeout(Duration::from_millis(300));
    let function = LambdaFunction::start(spec).await.unwrap();

    let error = function.invoke(json!({})).await.unwrap_err();

    assert!(
        matches!(error, InvokeError::InitTimeout { timeout } if timeout == Duration::from_millis(300))
    );
}

#[tokio::test]
async fn concurrent_invocations_queue_one_at_a_time() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    function.invoke(json!({})).await.unwrap();

    let started = Instant::now();
    let calls = (0..3).map(|_| {
        let function = function.clone();
        async move { function.invoke(json!({"action": "sleep", "ms": 300})).await }
    });
    let answers = futures_join_all(calls).await;

    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "ran in {:?}",
        started.elapsed()
    );
    assert_eq!(function.invocation_count(), 4);
    assert_eq!(function.environments_started(), 1);
}

#[tokio::test]
async fn oversized_response_fails_with_lambda_error_type() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();

    let error = function
        .invoke(json!({"action": "big", "bytes": 7_000_000}))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, InvokeError::Function { error_type, .. } if error_type == "Function.ResponseSizeTooLarge"),
        "{error:?}"
    );
    assert_eq!(
        function.invoke(json!({"n": 4})).await.unwrap()["event"],
        json!({"n": 4})
    );
}

#[tokio::test]
async fn unknown_request_id_is_rejected_by_the_runtime_api() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    function.invoke(json!({})).await.unwrap();
    let api = function.runtime_api().unwrap();

    let response = reqwest::Client::new()
        .post(format!(
            "http://{api}/2018-06-01/runtime/invocation/not-a-request/response"
        ))
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
    );
}

#[tokio::test]
async fn shutdown_and_drop_kill_the_process() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    let pid = function.invoke(json!({})).await.unwrap()["pid"]
        .as_u64()
        .unwrap();
    function.shutdown().await;
    assert!(
        wait_until_gone(pid).await,
        "process {pid} survived shutdown"
    );
    assert!(matches!(
        function.invoke(json!({})).await,
        Err(InvokeError::Shutdown)
    ));

    let dropped = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    let pid = dropped.invoke(json!({})).await.unwrap()["pid"]
        .as_u64()
        .unwrap();
    drop(dropped);
    assert!(
        wait_until_gone(pid).await,
        "process {pid} survived the last handle"
    );
}

#[tokio::test]
async fn missing_binary_and_bad_spec_fail_to_start() {
    let missing = LambdaFunction::start(FunctionSpec::new("ghost", "/nonexistent/bootstrap")).await;
    assert!(
        matches!(missing, Err(StartError::Spawn { .. })),
        "{missing:?}"
    );

    let bad_name = LambdaFunction::start(FunctionSpec::new("no spaces allowed", ECHO_FN)).await;
    assert!(
        matches!(bad_name, Err(StartError::InvalidSpec { .. })),
        "{bad_name:?}"
    );

    let bad_timeout = FunctionSpec::new("echo", ECHO_FN).timeout(Duration::from_secs(901));
    let bad_timeout = LambdaFunction::start(bad_timeout).await;
    assert!(
        matches!(bad_timeout, Err(StartError::InvalidSpec { .. })),
        "{bad_timeout:?}"
    );
}

#[tokio::test]
async fn invoke_api_serves_registered_functions_like_lambda() {
    let logs = LogCapture::new();
    let function = LambdaFunction::start(echo_spec(&logs)).await.unwrap();
    let service = LambdaService::new();
    service.register(std::sync::Arc::new(function.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}/2015-03-31/functions",
        listener.local_addr().unwrap()
    );
    tokio::spawn(service.serve(listener));
    let client = reqwest::Client::new();

    let ok = client
        .post(format!("{base}/echo/invocations"))
        .body(r#"{"n":5}"#)
        .send()
        .await;
    let ok = ok.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers().get("x-amz-function-error"), None);
    assert_eq!(ok.json::<Value>().await.unwrap()["event"], json!({"n": 5}));

    let arn = "arn:aws:lambda:eu-west-1:111122223333:function:echo";
    let failed = client
        .post(format!("{base}/{arn}/invocations"))
        .body(r#"{"action":"error","errorType":"Boom","message":"no"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 200);
    assert_eq!(failed.headers()["x-amz-function-error"], "Unhandled");
    assert_eq!(
        failed.json::<Value>().await.unwrap(),
        json!({"errorType": "Boom", "errorMessage": "no"})
    );

    let missing = client
        .post(format!("{base}/nope/invocations"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );

    let not_json = client
        .post(format!("{base}/echo/invocations"))
        .body("{oops")
        .send()
        .await;
    let not_json = not_json.unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(
        not_json.headers()["x-amzn-errortype"],
        "InvalidRequestContentException"
    );

    let dry_run = client
        .post(format!("{base}/echo/invocations"))
        .header("X-Amz-Invocation-Type", "DryRun")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(dry_run.status(), 204);
    assert_eq!(function.invocation_count(), 2);
}

/// Polls futures concurrently without pulling in the `futures` crate.
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("invocation task panicked"));
    }
    results
}
