//! Inputs an attacker or a misconfigured integration can send: the answer is always one of the
//! fixed outcomes, never a panic and never an allow.

mod support;

use authorizer::{HttpApiResponse, Settings};
use local_stack::issuer::Algorithm;
use serde_json::json;
use support::{Harness, READER, Shape, answer, event, function_error, identity, policy, statement};

#[tokio::test]
async fn garbage_events_are_invalid_not_unauthorized() {
    let harness = Harness::start().await;
    let good_arn = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/prod/GET/hello";
    let events = [
        json!(null),
        json!("TOKEN"),
        json!([{"type": "TOKEN"}]),
        json!({}),
        json!({"type": "TOKEN"}),
        json!({"type": "TOKEN", "methodArn": 7, "authorizationToken": "Bearer a"}),
        json!({"type": "TOKEN", "methodArn": "arn:aws:s3:::bucket", "authorizationToken": "Bearer a"}),
        json!({"type": "TOKEN", "methodArn": "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/", "authorizationToken": "Bearer a"}),
        json!({"type": "REQUEST", "version": "3.0", "routeArn": good_arn}),
        json!({"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/prod/$connect"}),
        json!({"type": "EVENT", "methodArn": good_arn}),
    ];
    for event in events {
        let label = event.to_string();
        assert_eq!(
            answer(&harness, &Settings::default(), event).await,
            function_error("InvalidEvent"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn header_variants_that_are_not_one_bearer_token_are_refused() {
    let harness = Harness::start().await;
    let token = harness.token(&identity(READER, &[]), Algorithm::Rs256);
    let variants = [
        token.clone(),
        format!("Basic {token}"),
        format!("Bearer  {token}"),
        format!("Bearer {token} "),
        format!("Bearer {token},Bearer {token}"),
        format!("Bearer {token}, Bearer {token}"),
        format!("Bearer\t{token}"),
        format!("Bearer {token}é"),
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
        String::new(),
        format!("Bearer {}", "\u{202e}".repeat(3)),
    ];
    for value in variants {
        for shape in [Shape::RestToken, Shape::RestRequest] {
            let answer = answer(
                &harness,
                &Settings::default(),
                event(shape, "GET", "/hello", Some(&value)),
            )
            .await;
            assert_eq!(
                answer,
                function_error("Unauthorized"),
                "{shape:?} {value:?}"
            );
        }
    }
}

#[tokio::test]
async fn accepted_scheme_spellings_reach_the_verifier() {
    let harness = Harness::start().await;
    let token = harness.token(&identity(READER, &[]), Algorithm::Rs256);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let value = format!("{scheme} {token}");
        let answer = answer(
            &harness,
            &Settings::default(),
            event(Shape::RestRequest, "GET", "/hello", Some(&value)),
        )
        .await;
        assert_eq!(answer.unwrap()["principalId"], json!(READER), "{scheme}");
    }
}

#[tokio::test]
async fn two_differing_authorization_headers_are_refused() {
    let harness = Harness::start().await;
    let reader = identity(READER, &[]);
    let good = harness.bearer(&reader, Algorithm::Rs256);
    let other = harness.bearer(&identity(support::WRITER, &[]), Algorithm::Rs256);

    let mut rest = event(Shape::RestRequest, "GET", "/hello", Some(&good));
    rest["multiValueHeaders"]["Authorization"] = json!([good, other]);
    assert_eq!(
        answer(&harness, &Settings::default(), rest).await,
        function_error("Unauthorized")
    );

    let mut cased = event(Shape::RestRequest, "GET", "/hello", Some(&good));
    cased["headers"]["authorization"] = json!(other);
    assert_eq!(
        answer(&harness, &Settings::default(), cased).await,
        function_error("Unauthorized")
    );

    let mut http = event(Shape::HttpV2, "GET", "/hello", None);
    http["headers"]["authorization"] = json!(format!("{good},{other}"));
    let refused = answer(&harness, &Settings::default(), http).await;
    assert_eq!(refused, Ok(json!({"isAuthorized": false, "context": {}})));
}

#[tokio::test]
async fn identical_repeated_headers_count_as_one() {
    let harness = Harness::start().await;
    let good = harness.bearer(&identity(READER, &[]), Algorithm::Rs256);
    let mut rest = event(Shape::RestRequest, "GET", "/hello", Some(&good));
    rest["multiValueHeaders"]["Authorization"] = json!([good, good]);
    let answer = answer(&harness, &Settings::default(), rest).await;
    assert_eq!(answer.unwrap()["principalId"], json!(READER));
}

#[tokio::test]
async fn huge_tokens_are_refused_quickly() {
    let harness = Harness::start().await;
    let started = std::time::Instant::now();
    let huge = format!(
        "Bearer {}.{}.{}",
        "a".repeat(1 << 20),
        "b".repeat(1 << 20),
        "c".repeat(512)
    );
    for shape in [Shape::RestToken, Shape::RestRequest] {
        let answer = answer(
            &harness,
            &Settings::default(),
            event(shape, "GET", "/hello", Some(&huge)),
        )
        .await;
        assert_eq!(answer, function_error("Unauthorized"), "{shape:?}");
    }
    let answer = answer(
        &harness,
        &Settings::default(),
        event(Shape::HttpV2, "GET", "/hello", Some(&huge)),
    )
    .await;
    assert_eq!(answer, Ok(json!({"isAuthorized": false, "context": {}})));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        harness.issuer.jwks_fetches(),
        0,
        "an oversized token must not reach the network"
    );
}

#[tokio::test]
async fn forged_tokens_never_allow() {
    let harness = Harness::start().await;
    let reader = identity(READER, &[]);
    let token = harness.token(&reader, Algorithm::Rs256);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    let forgeries = [
        parts.join("."),
        format!("{}.{}.", parts[0], parts[1]),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_owned(),
        "a.b.c".to_owned(),
    ];
    for forged in forgeries {
        let settings = Settings::default().with_http_api_response(HttpApiResponse::Policy);
        let value = format!("Bearer {forged}");
        let rest = answer(
            &harness,
            &settings,
            event(Shape::RestToken, "GET", "/hello", Some(&value)),
        )
        .await;
        assert_eq!(rest, function_error("Unauthorized"));
        let http = answer(
            &harness,
            &settings,
            event(Shape::HttpV2, "GET", "/hello", Some(&value)),
        )
        .await;
        assert_eq!(
            http.unwrap()["policyDocument"]["Statement"][0]["Effect"],
            json!("Deny")
        );
    }
}

#[tokio::test]
async fn identity_headers_set_by_the_client_are_ignored() {
    let harness = Harness::start().await;
    let good = harness.bearer(&identity(READER, &[]), Algorithm::Rs256);
    let mut request = event(Shape::RestRequest, "POST", "/orders", Some(&good));
    request["headers"]["X-Role-Arn"] = json!("arn:aws:iam::111122223333:role/writer-fn");
    request["headers"]["x-amzn-principal"] = json!("arn:aws:iam::111122223333:role/writer-fn");
    let answer = answer(&harness, &Settings::default(), request)
        .await
        .unwrap();
    assert_eq!(answer["principalId"], json!(READER));
    assert_eq!(
        answer["policyDocument"]["Statement"][1]["Effect"],
        json!("Deny")
    );
}

#[tokio::test]
async fn members_the_decision_does_not_read_never_turn_an_answer_into_an_error() {
    let harness = Harness::start().await;
    let good = harness.bearer(&identity(READER, &[]), Algorithm::Rs256);
    let settings = Settings::default();

    let mut v2 = event(Shape::HttpV2, "GET", "/hello", Some(&good));
    for member in [
        "cookies",
        "queryStringParameters",
        "pathParameters",
        "stageVariables",
    ] {
        v2[member] = json!(null);
    }
    v2["requestContext"]["authentication"] = json!(null);
    let allowed = answer(&harness, &settings, v2.clone()).await.unwrap();
    assert_eq!(allowed["isAuthorized"], json!(true));

    v2["headers"] = json!(null);
    assert_eq!(
        answer(&harness, &settings, v2).await,
        Ok(json!({"isAuthorized": false, "context": {}}))
    );

    let mut v1 = event(Shape::HttpV1, "GET", "/hello", Some(&good));
    v1["requestContext"]["identity"] = json!(null);
    v1["multiValueHeaders"] = json!(null);
    let allowed = answer(&harness, &settings, v1.clone()).await.unwrap();
    assert_eq!(allowed["principalId"], json!(READER));

    v1["headers"] = json!(null);
    let refused = answer(&harness, &settings, v1).await.unwrap();
    assert_eq!(refused["principalId"], json!("unauthenticated"));
    assert_eq!(
        refused["policyDocument"]["Statement"][0]["Effect"],
        json!("Deny")
    );

    let mut token = event(Shape::RestToken, "GET", "/hello", None);
    token["authorizationToken"] = json!({"nested": [good]});
    assert_eq!(
        answer(&harness, &settings, token).await,
        function_error("Unauthorized")
    );
}

#[tokio::test]
async fn default_route_with_an_unnamed_method_is_denied_not_an_error() {
    let harness = Harness::start().await;
    let good = harness.bearer(&identity(READER, &[]), Algorithm::Rs256);
    let mut request = event(Shape::HttpV2, "GET", "/hello", Some(&good));
    request["routeArn"] = json!(format!("{}/$default", support::HTTP_BASE));
    request["routeKey"] = json!("$default");
    request["requestContext"]["http"]["method"] = json!("PROPFIND");

    assert_eq!(
        answer(&harness, &Settings::default(), request.clone()).await,
        Ok(json!({"isAuthorized": false, "context": {}}))
    );
    let settings = Settings::default().with_http_api_response(HttpApiResponse::Policy);
    let refused = answer(&harness, &settings, request).await.unwrap();
    assert_eq!(refused["principalId"], json!(READER));
    assert_eq!(
        refused["policyDocument"],
        policy(vec![statement("Deny", support::HTTP_BASE, &["$default"])])
    );
}
