//! HTTP API gateway behaviour with payload 1.0 / 2.0 Lambda authorizers, against fake functions.

mod gateway_support;

use std::time::Duration;

use gateway_support::{
    Recorder, Served, arn, echo_integration, fake, function_error, policy_answer, serve,
};
use local_stack::gateway::{Gateway, HttpApi, HttpAuthorizer, PayloadVersion};
use local_stack::runtime::{FnInvoke, FunctionSpec, InvokeError, LambdaFunction, LogCapture};
use serde_json::{Value, json};

const API: &str = "http123";

fn route_arn(rest: &str) -> String {
    arn(API, "$default", rest)
}

fn http_api(authorizer: HttpAuthorizer, integration: &FnInvoke) -> HttpApi {
    HttpApi::new(API)
        .authorizer(authorizer)
        .route("GET /hello", integration.clone().into_arc())
        .route("GET /whoami", integration.clone().into_arc())
        .route("GET /items/{id}", integration.clone().into_arc())
        .route("POST /orders", integration.clone().into_arc())
}

async fn simple_gateway(authorizer: FnInvoke, ttl: Duration) -> (Served, Recorder) {
    let integration_events = Recorder::default();
    let integration = echo_integration(&integration_events);
    let auth = HttpAuthorizer::new(authorizer.into_arc(), PayloadVersion::V2)
        .simple_responses(true)
        .identity_source("$request.header.Authorization")
        .ttl(ttl);
    let served = serve(Gateway::http(http_api(auth, &integration)).expect("valid api")).await;
    (served, integration_events)
}

const BEARER: (&str, &str) = ("Authorization", "Bearer abc");

#[tokio::test]
async fn simple_allow_passes_the_context_under_lambda() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| {
        // HTTP APIs pass context values through as JSON, arrays and maps included (the AWS
        // guide's own example returns both).
        Ok(
            json!({"isAuthorized": true, "context": {"roleArn": "r", "n": 1, "tags": ["a"], "m": {"k": "v"}}}),
        )
    });
    let (served, integration) = simple_gateway(authorizer, Duration::ZERO).await;

    let answer = served
        .get(
            "/items/7?b=1&b=2&c=3",
            &[
                BEARER,
                ("Cookie", "s=1; t=2"),
                ("X-Dup", "1"),
                ("X-Dup", "2"),
            ],
        )
        .await;

    assert_eq!(answer.status, 200);
    let event = calls.last();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["routeArn"], route_arn("GET/items/7"));
    assert_eq!(event["identitySource"], json!(["Bearer abc"]));
    assert_eq!(event["routeKey"], "GET /items/{id}");
    assert_eq!(event["rawPath"], "/items/7");
    assert_eq!(event["rawQueryString"], "b=1&b=2&c=3");
    assert_eq!(event["cookies"], json!(["s=1", "t=2"]));
    assert_eq!(event["headers"]["authorization"], "Bearer abc");
    assert_eq!(event["headers"]["x-dup"], "1,2");
    assert_eq!(event["headers"].get("cookie"), None);
    assert_eq!(
        event["queryStringParameters"],
        json!({"b": "1,2", "c": "3"})
    );
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], gateway_support::ACCOUNT);
    assert_eq!(context["apiId"], API);
    assert_eq!(
        context["domainName"],
        "http123.execute-api.us-east-1.amazonaws.com"
    );
    assert_eq!(context["http"]["method"], "GET");
    assert_eq!(context["http"]["path"], "/items/7");
    assert_eq!(context["http"]["protocol"], "HTTP/1.1");
    assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["routeKey"], "GET /items/{id}");
    assert_eq!(context["stage"], "$default");
    assert!(context["time"].as_str().unwrap().ends_with(" +0000"));
    assert!(context["timeEpoch"].is_u64());
    assert!(context["requestId"].is_string());

    let proxied = integration.last();
    assert_eq!(proxied["version"], "2.0");
    assert_eq!(
        proxied["requestContext"]["authorizer"],
        json!({"lambda": {"roleArn": "r", "n": 1, "tags": ["a"], "m": {"k": "v"}}})
    );
    assert_eq!(proxied["cookies"], json!(["s=1", "t=2"]));
    assert!(answer.header("apigw-requestid").is_some());
}

#[tokio::test]
async fn simple_refusal_is_403_forbidden() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| Ok(json!({"isAuthorized": false})));
    let (served, integration) = simple_gateway(authorizer, Duration::ZERO).await;

    let answer = served.get("/hello", &[BEARER]).await;

    assert_eq!(
        (answer.status, answer.body),
        (403, json!({"message": "Forbidden"}))
    );
    assert!(integration.events().is_empty());
}

#[tokio::test]
async fn missing_identity_source_is_401_without_invoking() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| Ok(json!({"isAuthorized": true})));
    let (served, _) = simple_gateway(authorizer, Duration::ZERO).await;

    for headers in [&[][..], &[("Authorization", "")][..]] {
        let answer = served.get("/hello", headers).await;
        assert_eq!(
            (answer.status, answer.body),
            (401, json!({"message": "Unauthorized"}))
        );
    }
    assert!(calls.events().is_empty());
}

#[tokio::test]
async fn every_authorizer_failure_is_500_even_unauthorized() {
    type Outcome = fn() -> Result<Value, InvokeError>;
    let answers: Vec<(&str, Outcome)> = vec![
        ("unauthorized", || Err(function_error("Unauthorized"))),
        ("operational", || Err(function_error("KeysUnavailable"))),
        ("timeout", || {
            Err(InvokeError::Timeout {
                timeout: Duration::from_secs(10),
            })
        }),
        ("bad json", || {
            Err(InvokeError::InvalidResponse(
                serde_json::from_str::<Value>("[1,").unwrap_err(),
            ))
        }),
        ("string flag", || Ok(json!({"isAuthorized": "true"}))),
        ("no flag", || Ok(json!({"context": {}}))),
        ("policy instead", || {
            Ok(policy_answer("p", "Allow", "*", json!({})))
        }),
        ("context list", || {
            Ok(json!({"isAuthorized": true, "context": ["x"]}))
        }),
        ("not an object", || Ok(json!(true))),
    ];
    for (case, answer) in answers {
        let calls = Recorder::default();
        let authorizer = fake("authorizer", &calls, move |_| answer());
        let (served, integration) = simple_gateway(authorizer, Duration::ZERO).await;

        let response = served.get("/hello", &[BEARER]).await;

        assert_eq!(response.status, 500, "{case}");
        assert_eq!(
            response.body,
            json!({"message": "Internal Server Error"}),
            "{case}"
        );
        assert_eq!(calls.events().len(), 1, "{case}");
        assert!(integration.events().is_empty(), "{case}");
    }
}

async fn policy_gateway(
    authorizer: FnInvoke,
    sources: &[&str],
    ttl: Duration,
) -> (Served, Recorder) {
    let integration_events = Recorder::default();
    let integration = echo_integration(&integration_events);
    let mut auth = HttpAuthorizer::new(authorizer.into_arc(), PayloadVersion::V2).ttl(ttl);
    for source in sources {
        auth = auth.identity_source(*source);
    }
    let served = serve(Gateway::http(http_api(auth, &integration)).expect("valid api")).await;
    (served, integration_events)
}

/// Allows exactly the route ARN it is asked about.
fn narrow_authorizer(calls: &Recorder) -> FnInvoke {
    fake("authorizer", calls, |event| {
        let route = event["routeArn"].as_str().unwrap_or_default();
        Ok(policy_answer(
            "p",
            "Allow",
            route,
            json!({"rule": "readers"}),
        ))
    })
}

#[tokio::test]
async fn policy_answers_are_evaluated_against_the_route_arn() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |event| {
        let effect = if event["identitySource"][0] == "deny" {
            "Deny"
        } else {
            "Allow"
        };
        Ok(policy_answer(
            "p",
            effect,
            &route_arn("GET/*"),
            json!({"rule": "readers"}),
        ))
    });
    let (served, integration) = policy_gateway(
        authorizer,
        &["$request.header.Authorization"],
        Duration::ZERO,
    )
    .await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(
        integration.last()["requestContext"]["authorizer"],
        json!({"lambda": {"rule": "readers"}})
    );
    let post = served
        .send(reqwest::Method::POST, "/orders", &[BEARER], Vec::new())
        .await;
    assert_eq!(
        (post.status, post.body),
        (403, json!({"message": "Forbidden"}))
    );
    let denied = served.get("/hello", &[("Authorization", "deny")]).await;
    assert_eq!(
        (denied.status, denied.body),
        (403, json!({"message": "Forbidden"}))
    );
}

#[tokio::test]
async fn shared_cache_applies_a_narrow_policy_to_every_route() {
    let calls = Recorder::default();
    let (served, _) = policy_gateway(
        narrow_authorizer(&calls),
        &["$request.header.Authorization"],
        Duration::from_secs(300),
    )
    .await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 403);
    assert_eq!(calls.events().len(), 1);
}

#[tokio::test]
async fn route_key_identity_source_caches_per_route() {
    let calls = Recorder::default();
    let (served, _) = policy_gateway(
        narrow_authorizer(&calls),
        &["$request.header.Authorization", "$context.routeKey"],
        Duration::from_secs(300),
    )
    .await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 200);

    assert_eq!(calls.events().len(), 2, "one invocation per route");
    assert_eq!(
        calls.events()[1]["identitySource"],
        json!(["Bearer abc", "GET /whoami"])
    );
    let counters = served.gateway.counters();
    assert_eq!(
        (
            counters.authorizer_invocations,
            counters.authorizer_cache_hits
        ),
        (2, 2)
    );
}

#[tokio::test]
async fn simple_answers_are_cached_for_the_ttl() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| Ok(json!({"isAuthorized": true})));
    let (served, _) = simple_gateway(authorizer, Duration::from_millis(300)).await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 200);
    assert_eq!(calls.events().len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(calls.events().len(), 2);
}

#[tokio::test]
async fn payload_one_authorizer_gets_joined_identity_and_method_arn() {
    let calls = Recorder::default();
    let authorizer = fake(
        "authorizer",
        &calls,
        |event| match event["authorizationToken"].as_str() {
            Some("Bearer abc,t1") => Ok(policy_answer("p", "Allow", "*", json!({"k": "v"}))),
            _ => Err(function_error("Unauthorized")),
        },
    );
    let integration_events = Recorder::default();
    let integration = echo_integration(&integration_events);
    let auth = HttpAuthorizer::new(authorizer.into_arc(), PayloadVersion::V1)
        .identity_source("$request.header.Authorization")
        .identity_source("$request.querystring.tenant");
    let api = http_api(auth, &integration).integration_payload(PayloadVersion::V1);
    let served = serve(Gateway::http(api).unwrap()).await;

    let answer = served.get("/items/9?tenant=t1", &[BEARER]).await;

    assert_eq!(answer.status, 200);
    let event = calls.last();
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["methodArn"], route_arn("GET/items/9"));
    assert_eq!(event["identitySource"], "Bearer abc,t1");
    assert_eq!(event["authorizationToken"], "Bearer abc,t1");
    assert_eq!(event["resource"], "/items/{id}");
    assert_eq!(event["pathParameters"], json!({"id": "9"}));
    let proxied = integration_events.last();
    assert_eq!(proxied["version"], "1.0");
    assert_eq!(proxied["resource"], "/items/{id}");
    assert_eq!(
        proxied["requestContext"]["authorizer"],
        json!({"lambda": {"k": "v"}})
    );

    let refused = served.get("/items/9?tenant=t2", &[BEARER]).await;
    assert_eq!(
        refused.status, 500,
        "HTTP APIs have no 401 from the function"
    );
}

async fn open_gateway(integration: FnInvoke) -> Served {
    let api = HttpApi::new(API)
        .open_route("GET /hello", integration.clone().into_arc())
        .open_route("$default", integration.into_arc())
        .integration_timeout(Duration::from_millis(300));
    serve(Gateway::http(api).expect("valid api")).await
}

#[tokio::test]
async fn payload_two_responses_are_inferred_or_mapped() {
    let integration = fake("integration", &Recorder::default(), |event| {
        Ok(match event["rawPath"].as_str() {
            Some("/object") => json!({"message": "hi"}),
            Some("/string") => json!("plain text"),
            Some("/number") => json!(42),
            _ => json!({
                "statusCode": 201,
                "cookies": ["a=1", "b=2"],
                "headers": {"x-one": "1"},
                "body": "created",
            }),
        })
    });
    let served = open_gateway(integration).await;

    let object = served.get("/object", &[]).await;
    assert_eq!(
        (object.status, object.body.clone()),
        (200, json!({"message": "hi"}))
    );
    assert_eq!(object.header("content-type"), Some("application/json"));
    let text = served.get("/string", &[]).await;
    assert_eq!(
        (text.status, text.bytes.as_slice()),
        (200, &b"plain text"[..])
    );
    assert_eq!(served.get("/number", &[]).await.bytes, b"42");

    let full = served.get("/full", &[]).await;
    assert_eq!((full.status, full.bytes.as_slice()), (201, &b"created"[..]));
    assert_eq!(full.header("x-one"), Some("1"));
    let cookies: Vec<_> = full.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}

#[tokio::test]
async fn integration_failures_are_500_and_timeouts_503() {
    let integration = FnInvoke::new("integration", |event| async move {
        match event["rawPath"].as_str() {
            Some("/error") => Err(function_error("boom")),
            Some("/slow") => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(json!({}))
            }
            _ => Ok(json!({"statusCode": 200, "cookies": "not-a-list"})),
        }
    });
    let served = open_gateway(integration).await;

    for path in ["/error", "/malformed"] {
        let answer = served.get(path, &[]).await;
        assert_eq!(
            (answer.status, answer.body),
            (500, json!({"message": "Internal Server Error"}))
        );
    }
    let slow = served.get("/slow", &[]).await;
    assert_eq!(
        (slow.status, slow.body),
        (503, json!({"message": "Service Unavailable"}))
    );
}

#[tokio::test]
async fn unmatched_route_is_404_unless_default_catches_it() {
    let integration = echo_integration(&Recorder::default());
    let api = HttpApi::new(API).open_route("GET /hello", integration.into_arc());
    let served = serve(Gateway::http(api).unwrap()).await;
    let answer = served.get("/nowhere", &[]).await;
    assert_eq!(
        (answer.status, answer.body),
        (404, json!({"message": "Not Found"}))
    );

    let events = Recorder::default();
    let served = open_gateway(echo_integration(&events)).await;
    assert_eq!(
        served
            .send(reqwest::Method::DELETE, "/nowhere", &[], Vec::new())
            .await
            .status,
        200
    );
    assert_eq!(events.last()["routeKey"], "$default");
}

#[tokio::test]
async fn real_function_binary_serves_as_integration() {
    let function =
        FunctionSpec::new("echo", env!("CARGO_BIN_EXE_echo-fn")).log_sink(LogCapture::new());
    let function = LambdaFunction::start(function).await.unwrap();
    let authorizer = fake("authorizer", &Recorder::default(), |_| {
        Ok(json!({"isAuthorized": true, "context": {"roleArn": "r"}}))
    });
    let auth =
        HttpAuthorizer::new(authorizer.into_arc(), PayloadVersion::V2).simple_responses(true);
    let api = HttpApi::new(API)
        .authorizer(auth)
        .route("GET /hello", std::sync::Arc::new(function.clone()));
    let served = serve(Gateway::http(api).unwrap()).await;

    let answer = served.get("/hello?who=me", &[]).await;

    // echo-fn answers without statusCode, so the gateway infers a 200 JSON response.
    assert_eq!(answer.status, 200);
    let event = &answer.body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /hello");
    assert_eq!(event["queryStringParameters"], json!({"who": "me"}));
    assert_eq!(
        event["requestContext"]["authorizer"],
        json!({"lambda": {"roleArn": "r"}})
    );
    assert_eq!(function.invocation_count(), 1);
}
