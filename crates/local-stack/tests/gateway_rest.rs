//! REST API gateway behaviour with TOKEN and REQUEST Lambda authorizers, against fake functions.

mod gateway_support;

use std::time::Duration;

use gateway_support::{
    Recorder, arn, echo_integration, fake, function_error, policy_answer, serve,
};
use local_stack::gateway::{Gateway, RestApi, RestAuthorizer};
use local_stack::runtime::{FnInvoke, InvokeError};
use serde_json::{Value, json};

const API: &str = "api123";

fn rest_arn(rest: &str) -> String {
    arn(API, "prod", rest)
}

/// An authorizer allowing exactly the method ARN it is asked about (the over-narrow policy).
fn narrow_authorizer(recorder: &Recorder) -> FnInvoke {
    fake("authorizer", recorder, |event| {
        let method_arn = event["methodArn"].as_str().unwrap_or_default();
        Ok(policy_answer(
            "role/caller",
            "Allow",
            method_arn,
            json!({"rule": "readers"}),
        ))
    })
}

fn rest_api(authorizer: RestAuthorizer, integration: &FnInvoke) -> RestApi {
    RestApi::new(API, "prod")
        .authorizer(authorizer)
        .route("GET /hello", integration.clone().into_arc())
        .route("GET /whoami", integration.clone().into_arc())
        .route("GET /items/{id}", integration.clone().into_arc())
        .route("POST /orders", integration.clone().into_arc())
        .open_route("GET /health", integration.clone().into_arc())
}

async fn token_gateway(authorizer: FnInvoke, ttl: Duration) -> (gateway_support::Served, Recorder) {
    let integration_events = Recorder::default();
    let integration = echo_integration(&integration_events);
    let auth = RestAuthorizer::token(authorizer.into_arc(), "Authorization").ttl(ttl);
    let served = serve(Gateway::rest(rest_api(auth, &integration)).expect("valid api")).await;
    (served, integration_events)
}

const BEARER: (&str, &str) = ("Authorization", "Bearer abc");

#[tokio::test]
async fn allowed_token_reaches_integration_with_principal_and_stringified_context() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| {
        let context =
            json!({"roleArn": "arn:aws:iam::111122223333:role/caller", "n": 3, "ok": true});
        Ok(policy_answer(
            "arn:aws:iam::111122223333:role/caller",
            "Allow",
            "*",
            context,
        ))
    });
    let (served, integration) = token_gateway(authorizer, Duration::ZERO).await;

    let answer = served.get("/hello?x=1", &[BEARER]).await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        calls.last(),
        json!({"type": "TOKEN", "authorizationToken": "Bearer abc", "methodArn": rest_arn("GET/hello")})
    );
    let event = integration.last();
    let authorizer_context = &event["requestContext"]["authorizer"];
    assert_eq!(
        authorizer_context["principalId"],
        "arn:aws:iam::111122223333:role/caller"
    );
    assert_eq!(
        authorizer_context["roleArn"],
        "arn:aws:iam::111122223333:role/caller"
    );
    assert_eq!(authorizer_context["n"], "3");
    assert_eq!(authorizer_context["ok"], "true");
    assert!(authorizer_context["integrationLatency"].is_u64());
    assert_eq!(event["resource"], "/hello");
    assert_eq!(event["path"], "/hello");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["queryStringParameters"], json!({"x": "1"}));
    assert_eq!(event["requestContext"]["path"], "/prod/hello");
    assert_eq!(event["requestContext"]["stage"], "prod");
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(
        answer.body, event,
        "the integration's body is passed through"
    );
}

#[tokio::test]
async fn missing_or_empty_token_is_401_without_invoking_the_authorizer() {
    let calls = Recorder::default();
    let (served, _) = token_gateway(narrow_authorizer(&calls), Duration::ZERO).await;

    for headers in [&[][..], &[("Authorization", "")][..]] {
        let answer = served.get("/hello", headers).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body, json!({"message": "Unauthorized"}));
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("UnauthorizedException")
        );
    }
    assert_eq!(served.gateway.counters().authorizer_invocations, 0);
    assert!(calls.events().is_empty());
}

#[tokio::test]
async fn token_must_match_the_whole_validation_expression() {
    let calls = Recorder::default();
    let integration = echo_integration(&Recorder::default());
    let auth = RestAuthorizer::token(narrow_authorizer(&calls).into_arc(), "Authorization")
        .validation_expression("Bearer [A-Za-z0-9._-]+")
        .ttl(Duration::ZERO);
    let served = serve(Gateway::rest(rest_api(auth, &integration)).unwrap()).await;

    // "Bearer abc def" contains a match but is not one: API Gateway would not invoke.
    for token in ["Basic abc", "Bearer abc def", "xBearer abc"] {
        let answer = served.get("/hello", &[("Authorization", token)]).await;
        assert_eq!(
            (answer.status, answer.body.clone()),
            (401, json!({"message": "Unauthorized"}))
        );
    }
    assert!(calls.events().is_empty());
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
}

#[tokio::test]
async fn unauthorized_function_error_is_401_and_not_cached() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| {
        Err(function_error("Unauthorized"))
    });
    let (served, integration) = token_gateway(authorizer, Duration::from_secs(300)).await;

    for _ in 0..2 {
        let answer = served.get("/hello", &[BEARER]).await;
        assert_eq!(
            (answer.status, answer.body.clone()),
            (401, json!({"message": "Unauthorized"}))
        );
    }
    assert_eq!(calls.events().len(), 2);
    assert!(integration.events().is_empty());
}

#[tokio::test]
async fn other_authorizer_failures_are_500_with_null_message_and_not_cached() {
    type Failure = fn() -> InvokeError;
    let failures: Vec<(&str, Failure)> = vec![
        ("operational error", || function_error("KeysUnavailable")),
        ("unauthorized in other case", || {
            function_error("unauthorized")
        }),
        ("lambda timeout", || InvokeError::Timeout {
            timeout: Duration::from_secs(3),
        }),
        ("crash", || InvokeError::Crashed {
            exit: "exit status: 101".to_owned(),
            init_error: None,
        }),
        ("not json", || {
            InvokeError::InvalidResponse(serde_json::from_str::<Value>("{oops").unwrap_err())
        }),
    ];
    for (case, failure) in failures {
        let calls = Recorder::default();
        let authorizer = fake("authorizer", &calls, move |_| Err(failure()));
        let (served, integration) = token_gateway(authorizer, Duration::from_secs(300)).await;

        for _ in 0..2 {
            let answer = served.get("/hello", &[BEARER]).await;
            assert_eq!(answer.status, 500, "{case}");
            assert_eq!(answer.body, json!({"message": null}), "{case}");
            assert_eq!(
                answer.header("x-amzn-errortype"),
                Some("AuthorizerConfigurationException")
            );
        }
        assert_eq!(
            calls.events().len(),
            2,
            "{case}: failures must not be cached"
        );
        assert!(integration.events().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn authorizer_slower_than_the_gateway_limit_is_500() {
    let slow = FnInvoke::new("slow-authorizer", |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(policy_answer("p", "Allow", "*", json!({})))
    });
    let integration = echo_integration(&Recorder::default());
    let auth = RestAuthorizer::token(slow.into_arc(), "Authorization").ttl(Duration::ZERO);
    let api = rest_api(auth, &integration).authorizer_timeout(Duration::from_millis(200));
    let served = serve(Gateway::rest(api).unwrap()).await;

    let answer = served.get("/hello", &[BEARER]).await;

    assert_eq!(
        (answer.status, answer.body),
        (500, json!({"message": null}))
    );
}

#[tokio::test]
async fn malformed_authorizer_answers_are_500() {
    let allow = |resource: &str| json!([{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}]);
    let cases = vec![
        json!({"policyDocument": {"Version": "2012-10-17", "Statement": allow("*")}}),
        json!({"principalId": "p"}),
        json!({"principalId": "p", "policyDocument": {"Version": "2012-10-17"}}),
        json!({"principalId": "p", "policyDocument": {"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}}),
        json!({"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}),
        json!({"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": 7}]}}),
        json!({"principalId": 42, "policyDocument": {"Statement": allow("*")}}),
        json!({"principalId": "p", "policyDocument": {"Statement": allow("*")}, "context": "flat"}),
        json!({"principalId": "p", "policyDocument": "{\"Statement\": []}"}),
        json!("Allow"),
        json!([{"principalId": "p"}]),
        json!(null),
        json!({"isAuthorized": true}),
    ];
    let count = cases.len();
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, move |event| {
        let token = event["authorizationToken"].as_str().unwrap_or_default();
        let index: usize = token.trim_start_matches("case-").parse().unwrap_or(0);
        Ok(cases[index].clone())
    });
    let (served, integration) = token_gateway(authorizer, Duration::ZERO).await;

    for index in 0..count {
        let token = format!("case-{index}");
        let answer = served
            .get("/hello", &[("Authorization", token.as_str())])
            .await;
        assert_eq!(
            (answer.status, answer.body),
            (500, json!({"message": null})),
            "case {index}"
        );
    }
    assert!(integration.events().is_empty());
}

#[tokio::test]
async fn non_scalar_context_fails_at_integration_time_but_deny_still_wins() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |event| {
        let effect = if event["authorizationToken"] == "deny" {
            "Deny"
        } else {
            "Allow"
        };
        let context = match event["authorizationToken"].as_str() {
            Some("array") => json!({"tags": ["a", "b"]}),
            Some("null") => json!({"orgId": null}),
            _ => json!({"principalTags": {"team": "payments"}}),
        };
        Ok(policy_answer("p", effect, "*", context))
    });
    let (served, integration) = token_gateway(authorizer, Duration::ZERO).await;

    for token in ["object", "array", "null"] {
        let answer = served.get("/hello", &[("Authorization", token)]).await;
        assert_eq!(
            (answer.status, answer.body),
            (500, json!({"message": null})),
            "{token}"
        );
    }
    let denied = served.get("/hello", &[("Authorization", "deny")]).await;
    assert_eq!(denied.status, 403);
    assert!(integration.events().is_empty());
}

#[tokio::test]
async fn explicit_and_implicit_denies_are_403_with_aws_messages() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |event| {
        Ok(match event["authorizationToken"].as_str() {
            Some("deny") => json!({
                "principalId": "p",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
                    {"Action": "execute-api:*", "Effect": "Deny", "Resource": rest_arn("GET/*")},
                ]},
            }),
            _ => policy_answer("p", "Allow", &rest_arn("POST/orders"), json!({})),
        })
    });
    let (served, integration) = token_gateway(authorizer, Duration::ZERO).await;

    let explicit = served.get("/hello", &[("Authorization", "deny")]).await;
    assert_eq!(explicit.status, 403);
    assert_eq!(
        explicit.body,
        json!({"Message": "User is not authorized to access this resource with an explicit deny"})
    );
    assert_eq!(
        explicit.header("x-amzn-errortype"),
        Some("AccessDeniedException")
    );

    let implicit = served.get("/hello", &[("Authorization", "other")]).await;
    assert_eq!(implicit.status, 403);
    assert_eq!(
        implicit.body,
        json!({"Message": "User is not authorized to access this resource"})
    );
    assert!(integration.events().is_empty());
}

#[tokio::test]
async fn cached_answer_is_reused_without_invoking_until_the_ttl_ends() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |_| {
        Ok(policy_answer("p", "Allow", "*", json!({})))
    });
    let (served, _) = token_gateway(authorizer, Duration::from_millis(400)).await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 200);
    let counters = served.gateway.counters();
    assert_eq!(
        (
            counters.authorizer_invocations,
            counters.authorizer_cache_hits
        ),
        (1, 2)
    );

    assert_eq!(
        served
            .get("/hello", &[("Authorization", "Bearer other")])
            .await
            .status,
        200
    );
    assert_eq!(
        served.gateway.counters().authorizer_invocations,
        2,
        "another token, another key"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(
        served.gateway.counters().authorizer_invocations,
        3,
        "expired entries re-invoke"
    );

    served.gateway.flush_authorizer_cache();
    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.gateway.counters().authorizer_invocations, 4);
}

#[tokio::test]
async fn cached_narrow_policy_denies_the_next_route() {
    let calls = Recorder::default();
    let (served, _) = token_gateway(narrow_authorizer(&calls), Duration::from_secs(300)).await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    let next = served.get("/whoami", &[BEARER]).await;

    // The cached policy names only GET/hello; API Gateway evaluates it for GET/whoami.
    assert_eq!(next.status, 403);
    assert_eq!(
        next.body,
        json!({"Message": "User is not authorized to access this resource"})
    );
    assert_eq!(calls.events().len(), 1);
    assert_eq!(served.gateway.counters().authorizer_cache_hits, 1);
}

#[tokio::test]
async fn narrow_policy_without_caching_allows_every_route() {
    let calls = Recorder::default();
    let (served, _) = token_gateway(narrow_authorizer(&calls), Duration::ZERO).await;

    assert_eq!(served.get("/hello", &[BEARER]).await.status, 200);
    assert_eq!(served.get("/whoami", &[BEARER]).await.status, 200);
    assert_eq!(calls.events().len(), 2);
}

#[tokio::test]
async fn wildcard_resources_match_like_iam() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |event| {
        let resource = match event["authorizationToken"].as_str() {
            Some("get-star") => rest_arn("GET/*"),
            Some("one-char") => rest_arn("GET/items/?"),
            _ => arn("*", "*", "*"),
        };
        Ok(policy_answer("p", "Allow", &resource, json!({})))
    });
    let (served, _) = token_gateway(authorizer, Duration::from_secs(300)).await;
    let get_star = [("Authorization", "get-star")];
    let one_char = [("Authorization", "one-char")];

    assert_eq!(served.get("/hello", &get_star).await.status, 200);
    assert_eq!(
        served.get("/items/7", &get_star).await.status,
        200,
        "* spans slashes"
    );
    let post = served
        .send(reqwest::Method::POST, "/orders", &get_star, b"{}".to_vec())
        .await;
    assert_eq!(post.status, 403);
    assert_eq!(served.get("/items/7", &one_char).await.status, 200);
    assert_eq!(
        served.get("/items/77", &one_char).await.status,
        403,
        "? is one character"
    );
    let any = [("Authorization", "any")];
    assert_eq!(
        served
            .send(reqwest::Method::POST, "/orders", &any, Vec::new())
            .await
            .status,
        200
    );
}

fn request_authorizer_gateway(calls: &Recorder) -> (RestApi, Recorder) {
    let integration_events = Recorder::default();
    let integration = echo_integration(&integration_events);
    let authorizer = fake("authorizer", calls, |_| {
        Ok(policy_answer("p", "Allow", "*", json!({})))
    });
    let auth = RestAuthorizer::request(
        authorizer.into_arc(),
        [
            "method.request.header.X-Api-Key",
            "method.request.querystring.tenant",
            "stageVariables.tier",
            "context.resourcePath",
        ],
    )
    .ttl(Duration::from_secs(300));
    let api = rest_api(auth, &integration).stage_variable("tier", "gold");
    (api, integration_events)
}

#[tokio::test]
async fn request_authorizer_gets_the_documented_event() {
    let calls = Recorder::default();
    let (api, _) = request_authorizer_gateway(&calls);
    let served = serve(Gateway::rest(api).unwrap()).await;

    let answer = served
        .get(
            "/items/7?tenant=a&tenant=b",
            &[("X-Api-Key", "k1"), ("X-Multi", "1"), ("X-Multi", "2")],
        )
        .await;

    assert_eq!(answer.status, 200);
    let event = calls.last();
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["methodArn"], rest_arn("GET/items/7"));
    assert_eq!(event["resource"], "/items/{id}");
    assert_eq!(event["path"], "/items/7");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["headers"]["x-api-key"], "k1");
    assert_eq!(event["headers"]["x-multi"], "2");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["1", "2"]));
    assert_eq!(event["queryStringParameters"], json!({"tenant": "b"}));
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"tenant": ["a", "b"]})
    );
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    assert_eq!(event["stageVariables"], json!({"tier": "gold"}));
    let context = &event["requestContext"];
    assert_eq!(context["path"], "/prod/items/7");
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["resourcePath"], "/items/{id}");
    assert_eq!(context["httpMethod"], "GET");
    assert_eq!(context["apiId"], API);
    assert_eq!(context["accountId"], gateway_support::ACCOUNT);
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 12, "unexpected fields: {keys:?}");
}

#[tokio::test]
async fn request_authorizer_cache_key_is_every_identity_source() {
    let calls = Recorder::default();
    let (api, _) = request_authorizer_gateway(&calls);
    let served = serve(Gateway::rest(api).unwrap()).await;
    let key = |k| [("X-Api-Key", k)];

    assert_eq!(served.get("/hello?tenant=t1", &key("k1")).await.status, 200);
    assert_eq!(served.get("/hello?tenant=t1", &key("k1")).await.status, 200);
    assert_eq!(calls.events().len(), 1, "same sources: cache hit");
    assert_eq!(served.get("/hello?tenant=t2", &key("k1")).await.status, 200);
    assert_eq!(served.get("/hello?tenant=t1", &key("k2")).await.status, 200);
    assert_eq!(
        calls.events().len(),
        3,
        "each differing source value is a new key"
    );
    assert_eq!(
        served.get("/whoami?tenant=t1", &key("k1")).await.status,
        200
    );
    assert_eq!(
        calls.events().len(),
        4,
        "context.resourcePath makes the cache per resource"
    );

    let missing = served.get("/hello", &key("k1")).await;
    assert_eq!(
        (missing.status, missing.body),
        (401, json!({"message": "Unauthorized"}))
    );
    let empty = served.get("/hello?tenant=", &key("k1")).await;
    assert_eq!(empty.status, 401);
    assert_eq!(calls.events().len(), 4, "a missing source never invokes");
    assert_eq!(served.gateway.counters().authorizer_cache_hits, 1);
}

#[tokio::test]
async fn unknown_resource_and_wrong_stage_are_answered_by_the_gateway() {
    let calls = Recorder::default();
    let (served, _) = token_gateway(narrow_authorizer(&calls), Duration::ZERO).await;

    let unknown = served.get("/nowhere", &[BEARER]).await;
    assert_eq!(unknown.status, 403);
    assert_eq!(
        unknown.body,
        json!({"message": "Missing Authentication Token"})
    );
    assert_eq!(
        unknown.header("x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    let wrong_method = served
        .send(reqwest::Method::DELETE, "/hello", &[BEARER], Vec::new())
        .await;
    assert_eq!(wrong_method.status, 403);

    let client = reqwest::Client::new();
    let origin = served.base.trim_end_matches("/prod");
    let wrong_stage = client
        .get(format!("{origin}/dev/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_stage.status(), 403);
    assert_eq!(
        wrong_stage.json::<Value>().await.unwrap(),
        json!({"message": "Forbidden"})
    );
    assert!(calls.events().is_empty());
    assert!(
        served
            .get("/hello", &[])
            .await
            .header("x-amzn-requestid")
            .is_some()
    );
}

#[tokio::test]
async fn open_routes_skip_the_authorizer() {
    let calls = Recorder::default();
    let (served, integration) = token_gateway(narrow_authorizer(&calls), Duration::ZERO).await;

    let answer = served.get("/health", &[]).await;

    assert_eq!(answer.status, 200);
    assert!(calls.events().is_empty());
    assert_eq!(integration.last()["requestContext"].get("authorizer"), None);
}

async fn integration_gateway(integration: FnInvoke) -> gateway_support::Served {
    let api = RestApi::new(API, "prod")
        .open_route("ANY /{proxy+}", integration.into_arc())
        .integration_timeout(Duration::from_millis(300));
    serve(Gateway::rest(api).expect("valid api")).await
}

#[tokio::test]
async fn proxy_response_fields_map_to_http() {
    let integration = fake("integration", &Recorder::default(), |_| {
        Ok(json!({
            "statusCode": 201,
            "headers": {"x-one": "1", "x-both": "single", "x-num": 5},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "x-both": ["multi"]},
            "body": "aGVsbG8=",
            "isBase64Encoded": true,
        }))
    });
    let served = integration_gateway(integration).await;

    let answer = served.get("/anything/here", &[]).await;

    assert_eq!(answer.status, 201);
    assert_eq!(answer.bytes, b"hello");
    assert_eq!(answer.header("x-one"), Some("1"));
    assert_eq!(answer.header("x-num"), Some("5"));
    let both: Vec<_> = answer.headers.get_all("x-both").iter().collect();
    assert_eq!(both, ["multi"], "multiValueHeaders win over headers");
    let cookies: Vec<_> = answer.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}

#[tokio::test]
async fn malformed_proxy_responses_are_502() {
    let cases = vec![
        json!({"body": "no status"}),
        json!({"statusCode": "200", "body": ""}),
        json!({"statusCode": 99}),
        json!({"statusCode": 200, "body": 12}),
        json!({"statusCode": 200, "headers": ["x"]}),
        json!({"statusCode": 200, "headers": {"bad header": "v"}}),
        json!({"statusCode": 200, "headers": {"x": "line\nbreak"}}),
        json!({"statusCode": 200, "headers": {"x": {"nested": true}}}),
        json!({"statusCode": 200, "multiValueHeaders": {"x": "not-a-list"}}),
        json!({"statusCode": 200, "body": "%%%", "isBase64Encoded": true}),
        json!({"statusCode": 200, "isBase64Encoded": "yes"}),
        json!("just a string"),
        json!(null),
    ];
    let count = cases.len();
    let integration = fake("integration", &Recorder::default(), move |event| {
        let index: usize = event["pathParameters"]["proxy"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        Ok(cases[index].clone())
    });
    let served = integration_gateway(integration).await;

    for index in 0..count {
        let answer = served.get(&format!("/{index}"), &[]).await;
        assert_eq!(answer.status, 502, "case {index}");
        assert_eq!(
            answer.body,
            json!({"message": "Internal server error"}),
            "case {index}"
        );
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("InternalServerErrorException")
        );
    }
}

#[tokio::test]
async fn integration_error_is_502_and_gateway_timeout_is_504() {
    let failing = fake("integration", &Recorder::default(), |_| {
        Err(function_error("boom"))
    });
    let served = integration_gateway(failing).await;
    let answer = served.get("/x", &[]).await;
    assert_eq!(
        (answer.status, answer.body),
        (502, json!({"message": "Internal server error"}))
    );

    let slow = FnInvoke::new("slow", |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(json!({"statusCode": 200}))
    });
    let served = integration_gateway(slow).await;
    let answer = served.get("/x", &[]).await;
    assert_eq!(
        (answer.status, answer.body),
        (504, json!({"message": "Endpoint request timed out"}))
    );
}

#[tokio::test]
async fn hostile_requests_never_break_the_gateway() {
    let calls = Recorder::default();
    let (served, integration) = token_gateway(narrow_authorizer(&calls), Duration::ZERO).await;

    let huge_token = format!("Bearer {}", "A".repeat(64 * 1024));
    let huge = served
        .get("/hello", &[("Authorization", huge_token.as_str())])
        .await;
    assert_eq!(huge.status, 200, "a 64 KiB token is still just a token");

    let long_path = format!("/items/{}", "x".repeat(2_000));
    let too_long = served.get(&long_path, &[BEARER]).await;
    assert_eq!(
        (too_long.status, too_long.body),
        (414, json!({"message": "Request-URI Too Long"}))
    );

    let unicode = served.get("/items/%F0%9F%98%80%00%2F..", &[BEARER]).await;
    assert_eq!(unicode.status, 200);
    assert_eq!(
        integration.last()["pathParameters"]["id"],
        "%F0%9F%98%80%00%2F.."
    );

    let odd = served.get("/hello?%ZZ=%&a=%E2%82&&=", &[BEARER]).await;
    assert_eq!(odd.status, 200);

    let client = reqwest::Client::new();
    let raw_header = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let latin = client
        .get(format!("{}/hello", served.base))
        .header("authorization", raw_header);
    assert_eq!(latin.send().await.unwrap().status(), 200);

    let binary = served
        .send(
            reqwest::Method::GET,
            "/hello",
            &[BEARER],
            vec![0xff, 0x00, 0xfe],
        )
        .await;
    assert_eq!(binary.status, 200);
    assert_eq!(integration.last()["body"], "/wD+");
    assert_eq!(integration.last()["isBase64Encoded"], true);

    let headers: Vec<(String, String)> = (0..300)
        .map(|i| (format!("x-h{i}"), "v".repeat(100)))
        .collect();
    let many: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut with_token = many.clone();
    with_token.push(BEARER);
    // The HTTP layer refuses more than 100 header fields before the gateway sees the request.
    assert_eq!(served.get("/hello", &with_token).await.status, 431);

    assert_eq!(
        served.get("/hello", &[BEARER]).await.status,
        200,
        "still serving"
    );
}

#[tokio::test]
async fn hostile_authorizer_answers_are_500_not_panics() {
    let calls = Recorder::default();
    let authorizer = fake("authorizer", &calls, |event| {
        Ok(match event["authorizationToken"].as_str() {
            Some("deep") => {
                let mut nested = json!("leaf");
                for _ in 0..500 {
                    nested = json!([nested]);
                }
                json!({"principalId": "p", "policyDocument": nested})
            }
            Some("many") => {
                let statements: Vec<Value> = (0..10_000)
                    .map(|i| json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("arn:*:{i}")}))
                    .collect();
                json!({"principalId": "p", "policyDocument": {"Statement": statements}})
            }
            Some("star-bomb") => policy_answer("p", "Allow", &"*a".repeat(500), json!({})),
            _ => {
                json!({"principalId": "\u{0}\u{202e}", "policyDocument": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, "context": {"k\u{0}": "v\u{1f600}"}})
            }
        })
    });
    let (served, integration) = token_gateway(authorizer, Duration::ZERO).await;

    assert_eq!(
        served
            .get("/hello", &[("Authorization", "deep")])
            .await
            .status,
        500
    );
    assert_eq!(
        served
            .get("/hello", &[("Authorization", "many")])
            .await
            .status,
        403
    );
    assert_eq!(
        served
            .get("/hello", &[("Authorization", "star-bomb")])
            .await
            .status,
        403
    );
    assert_eq!(
        served
            .get("/hello", &[("Authorization", "odd")])
            .await
            .status,
        200
    );
    let context = &integration.last()["requestContext"]["authorizer"];
    assert_eq!(context["principalId"], "\u{0}\u{202e}");
    assert_eq!(context["k\u{0}"], "v\u{1f600}");
}
