//! The handler end to end: a token from the local STS (through the unmodified SDK) sent to a small
//! protected API on loopback that records what it receives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caller_fn::{CallOutcome, CallerError, Config, Deps, EventError, http_client};
use lambda_runtime::Diagnostic;
use local_stack::issuer::{Identity, LocalIssuer};
use local_stack::sts::{LocalSts, Principal, StsConfig};
use serde_json::{Value, json};
use token_source::TokenSource;

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/caller";
const ACCOUNT: &str = "111122223333";
const AUDIENCE: &str = "https://orders.example.com";
/// Test-only key pair in the shape of real ones; it has never existed in AWS.
const ACCESS_KEY_ID: &str = "AKIALOCALCALLERFN001";
const SECRET_ACCESS_KEY: &str = "local/CallerFnTestOnlySecret+00000000000";

/// One request as the protected API saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: Method,
    path: String,
    authorization: Option<String>,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().expect("no handler panicked").clone()
    }
}

/// Answers like a protected API behind API Gateway, and records every request.
async fn protected_api(State(recorder): State<Recorder>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("<not ascii>").to_owned());
    let path = parts.uri.path().to_owned();
    recorder.0.lock().expect("no handler panicked").push(Seen {
        method: parts.method.clone(),
        path: path.clone(),
        authorization,
        body,
    });
    let json = |status, value: Value| (status, axum::Json(value)).into_response();
    match (parts.method, path.as_str()) {
        (Method::GET, "/prod/hello" | "/hello") => {
            json(StatusCode::OK, json!({"message": "hello"}))
        }
        (Method::POST, "/prod/orders") => {
            json(StatusCode::FORBIDDEN, json!({"message": "Forbidden"}))
        }
        (Method::GET, "/prod/redirect") => {
            // Same origin, so a client that followed it would also resend the token here.
            (StatusCode::FOUND, [(header::LOCATION, "/prod/hello")]).into_response()
        }
        (Method::GET, "/prod/slow") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(StatusCode::OK, json!({}))
        }
        (Method::GET, "/prod/huge") => (StatusCode::OK, "x".repeat(2 << 20)).into_response(),
        (Method::GET, "/prod/empty") => StatusCode::NO_CONTENT.into_response(),
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

struct Fixture {
    sts: LocalSts,
    api_url: String,
    recorder: Recorder,
    deps: Deps,
}

async fn fixture_with(timeout_ms: &str) -> Fixture {
    let issuer = LocalIssuer::start()
        .await
        .expect("the local issuer binds a loopback port");
    let identity = Identity {
        role_arn: ROLE_ARN.into(),
        account: ACCOUNT.into(),
        ..Identity::default()
    };
    let principal = Principal::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, identity);
    let sts = LocalSts::start(issuer, StsConfig::new(vec![principal]))
        .await
        .expect("the local sts binds a loopback port");

    let recorder = Recorder::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback binds");
    let api_url = format!("http://{}", listener.local_addr().expect("bound address"));
    let app = Router::new()
        .fallback(protected_api)
        .with_state(recorder.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sdk_config = sts
        .sdk_config_loader("eu-west-1", ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        .load()
        .await;
    let tokens = TokenSource::builder(&sdk_config)
        .audience(AUDIENCE)
        .build()
        .expect("the token settings are valid");
    let config = config(&format!("{api_url}/prod/"), Some(&api_url), timeout_ms);
    let http = http_client(&config).expect("the http client builds");
    Fixture {
        sts,
        api_url,
        recorder,
        deps: Deps {
            tokens,
            http,
            config,
        },
    }
}

fn config(rest: &str, http: Option<&str>, timeout_ms: &str) -> Config {
    let vars = [
        ("PROTECTED_API_URL", Some(rest.to_owned())),
        ("PROTECTED_HTTP_API_URL", http.map(str::to_owned)),
        ("HTTP_TIMEOUT_MS", Some(timeout_ms.to_owned())),
    ];
    Config::from_vars(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.clone())
            .map(Ok)
    })
    .expect("the api settings are valid")
}

async fn fixture() -> Fixture {
    fixture_with("2000").await
}

impl Fixture {
    async fn invoke(&self, event: Value) -> Result<CallOutcome, CallerError> {
        caller_fn::handle(event, &self.deps).await
    }

    async fn bearer(&self) -> String {
        let token = self
            .deps
            .tokens
            .token()
            .await
            .expect("the cached token is still there");
        format!("Bearer {}", token.secret())
    }
}

#[tokio::test]
async fn rest_call_carries_exactly_the_minted_token_and_returns_the_json_answer() {
    let fixture = fixture().await;

    let outcome = fixture.invoke(json!({})).await.unwrap();

    let seen = fixture.recorder.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].path, "/prod/hello");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(fixture.bearer().await.as_str())
    );
    assert_eq!(fixture.sts.counters().tokens_issued, 1);

    let called_as = outcome.called_as.clone().unwrap();
    assert_eq!(called_as.role_arn.as_deref(), Some(ROLE_ARN));
    assert_eq!(called_as.account.as_deref(), Some(ACCOUNT));
    assert_eq!(called_as.audience, Some(json!(AUDIENCE)));
    assert!(called_as.key_id.unwrap().starts_with("RSA_"));
    assert_eq!(
        serde_json::to_value(&outcome).unwrap(),
        json!({
            "status": 200,
            "body": {"message": "hello"},
            "api": "rest",
            "method": "GET",
            "url": format!("{}/prod/hello", fixture.api_url),
            "calledAs": serde_json::to_value(&outcome.called_as).unwrap(),
        })
    );
}

#[tokio::test]
async fn http_api_is_called_under_its_own_base_url() {
    let fixture = fixture().await;

    let outcome = fixture
        .invoke(json!({"api": "http", "path": "/hello"}))
        .await
        .unwrap();

    assert_eq!((outcome.status, outcome.api), (200, "http"));
    assert_eq!(outcome.url, format!("{}/hello", fixture.api_url));
    assert_eq!(fixture.recorder.seen()[0].path, "/hello");
}

#[tokio::test]
async fn repeated_invocations_reuse_one_token() {
    let fixture = fixture().await;

    for _ in 0..3 {
        assert_eq!(fixture.invoke(json!({})).await.unwrap().status, 200);
    }

    assert_eq!(fixture.sts.counters().requests, 1);
    let bearer = fixture.bearer().await;
    assert!(
        fixture
            .recorder
            .seen()
            .iter()
            .all(|seen| seen.authorization.as_ref() == Some(&bearer))
    );
}

#[tokio::test]
async fn non_2xx_answers_are_data() {
    let fixture = fixture().await;

    let forbidden = fixture
        .invoke(json!({"method": "POST", "path": "/orders", "body": {"item": "book"}}))
        .await
        .unwrap();
    let missing = fixture.invoke(json!({"path": "/nowhere"})).await.unwrap();
    let empty = fixture.invoke(json!({"path": "/empty"})).await.unwrap();

    assert_eq!(
        (forbidden.status, forbidden.body),
        (403, json!({"message": "Forbidden"}))
    );
    assert_eq!((missing.status, missing.body), (404, json!("Not Found")));
    assert_eq!((empty.status, empty.body), (204, Value::Null));
    let seen = fixture.recorder.seen();
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[0].body).unwrap(),
        json!({"item": "book"})
    );
}

#[tokio::test]
async fn hostile_events_are_refused_before_a_token_is_minted() {
    let fixture = fixture().await;
    let events = [
        json!({"path": "https://evil.example.com/steal"}),
        json!({"path": "//evil.example.com/steal"}),
        json!({"path": "@evil.example.com/steal"}),
        json!({"path": "/../../admin"}),
        json!({"path": "/hello/%2e%2e/%2e%2e/admin"}),
        json!({"path": "/hello?redirect=https://evil.example.com"}),
        json!({"path": "/hello\r\nX-Injected: 1"}),
        json!({"path": format!("/{}", "a".repeat(5000))}),
        json!({"path": ["/hello"]}),
        json!({"method": "TRACE"}),
        json!({"api": "ftp"}),
        json!({"url": "https://evil.example.com"}),
        json!({"body": {"a": 1}}),
        json!("GET /hello"),
    ];

    for event in events {
        let err = fixture.invoke(event.clone()).await.unwrap_err();
        assert!(
            matches!(err, CallerError::InvalidEvent(_)),
            "{event}: {err:?}"
        );
        assert_eq!(Diagnostic::from(err).error_type, "InvalidEvent");
    }

    assert_eq!(fixture.sts.counters().requests, 0);
    assert!(fixture.recorder.seen().is_empty());
}

#[tokio::test]
async fn http_api_without_configuration_is_not_configured() {
    let mut fixture = fixture().await;
    fixture.deps.config.http_api = None;

    let err = fixture.invoke(json!({"api": "http"})).await.unwrap_err();

    assert!(matches!(err, CallerError::HttpApiNotConfigured));
    assert_eq!(
        Diagnostic::from(err),
        Diagnostic {
            error_type: "NotConfigured".into(),
            error_message: "the http api was requested but PROTECTED_HTTP_API_URL is not set"
                .into(),
        }
    );
}

#[tokio::test]
async fn unreachable_api_is_a_function_error_naming_the_url() {
    let mut fixture = fixture().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    fixture.deps.config = config(&format!("{closed_url}/prod"), None, "2000");

    let err = fixture.invoke(json!({})).await.unwrap_err();

    assert!(matches!(err, CallerError::ApiUnreachable { .. }), "{err:?}");
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ApiUnreachable");
    let prefix = format!("could not reach the protected api at {closed_url}/prod/hello: ");
    assert!(
        diagnostic.error_message.starts_with(&prefix),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn slow_api_is_cut_off_at_the_configured_timeout() {
    let fixture = fixture_with("300").await;
    fixture.deps.tokens.token().await.unwrap();

    let started = Instant::now();
    let err = fixture.invoke(json!({"path": "/slow"})).await.unwrap_err();

    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ApiTimeout");
    assert_eq!(
        diagnostic.error_message,
        format!(
            "the protected api at {}/prod/slow did not answer within 300 ms",
            fixture.api_url
        )
    );
}

#[tokio::test]
async fn token_failure_is_a_function_error_naming_the_cause() {
    let fixture = fixture().await;
    fixture.sts.set_federation_enabled(ACCOUNT, false);

    let err = fixture.invoke(json!({})).await.unwrap_err();

    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "FederationDisabled");
    assert!(
        diagnostic.error_message.starts_with(
            "could not obtain a web identity token: outbound identity federation is disabled"
        ),
        "{}",
        diagnostic.error_message
    );
    assert!(fixture.recorder.seen().is_empty());
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let fixture = fixture().await;

    let outcome = fixture.invoke(json!({"path": "/redirect"})).await.unwrap();

    assert_eq!(outcome.status, 302);
    let seen = fixture.recorder.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/prod/redirect");
}

#[tokio::test]
async fn oversized_answer_is_refused() {
    let fixture = fixture().await;

    let err = fixture.invoke(json!({"path": "/huge"})).await.unwrap_err();

    assert!(
        matches!(
            err,
            CallerError::ResponseTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(Diagnostic::from(err).error_type, "ApiResponseTooLarge");
}

#[test]
fn event_errors_carry_their_reason_into_the_message() {
    let err = CallerError::InvalidEvent(EventError::PathNotAbsolute);
    assert_eq!(
        Diagnostic::from(err),
        Diagnostic {
            error_type: "InvalidEvent".into(),
            error_message: "invalid event: path must start with \"/\"".into(),
        }
    );
}
