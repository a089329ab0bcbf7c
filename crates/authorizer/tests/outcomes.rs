//! Every event shape × every outcome, with real tokens from a local issuer, answered by
//! `authorizer::handle` and compared with the exact JSON API Gateway receives.

mod support;

use authorizer::{HttpApiResponse, Settings};
use local_stack::issuer::Algorithm;
use serde_json::{Value, json};
use support::{
    Harness, READER, STRANGER, Shape, WRITER, answer, event, function_error, identity, policy,
    statement, verifier_for,
};

fn settings_for(form: HttpApiResponse) -> Settings {
    Settings::default().with_http_api_response(form)
}

/// The answer to a verified caller: a simple response for HTTP API 2.0 in simple mode, a policy
/// response otherwise.
fn verified(
    shape: Shape,
    form: HttpApiResponse,
    allowed: bool,
    document: Value,
    context: Value,
) -> Value {
    if shape == Shape::HttpV2 && form == HttpApiResponse::Simple {
        let context = if allowed { context } else { json!({}) };
        return json!({"isAuthorized": allowed, "context": context});
    }
    json!({"principalId": context["roleArn"], "policyDocument": document, "context": context})
}

/// The answer to a request without a valid token.
fn unauthorized(shape: Shape, form: HttpApiResponse) -> Result<Value, Value> {
    match (shape, form) {
        (Shape::RestToken | Shape::RestRequest, _) => function_error("Unauthorized"),
        (Shape::HttpV2, HttpApiResponse::Simple) => {
            Ok(json!({"isAuthorized": false, "context": {}}))
        }
        _ => Ok(json!({
            "principalId": "unauthenticated",
            "policyDocument": policy(vec![statement("Deny", shape.base(), &["*"])]),
            "context": {}
        })),
    }
}

async fn check_outcomes(shape: Shape, form: HttpApiResponse) {
    let harness = Harness::start().await;
    let settings = settings_for(form);
    let reader = identity(READER, &[("team", "payments")]);
    let bearer = harness.bearer(&reader, Algorithm::Rs256);
    let context = harness.expected_context(&reader, Algorithm::Rs256, "readers");
    let granted = statement("Allow", shape.base(), &["GET/hello", "GET/whoami"]);

    let allowed = answer(
        &harness,
        &settings,
        event(shape, "GET", "/hello", Some(&bearer)),
    )
    .await;
    let document = policy(vec![granted.clone()]);
    assert_eq!(
        allowed,
        Ok(verified(shape, form, true, document, context.clone())),
        "allow"
    );

    let denied = answer(
        &harness,
        &settings,
        event(shape, "POST", "/orders", Some(&bearer)),
    )
    .await;
    let document = policy(vec![
        granted,
        statement("Deny", shape.base(), &["POST/orders"]),
    ]);
    assert_eq!(
        denied,
        Ok(verified(shape, form, false, document, context)),
        "deny"
    );

    let expired = format!("Bearer {}", harness.expired_token(&reader));
    let refused = answer(
        &harness,
        &settings,
        event(shape, "GET", "/hello", Some(&expired)),
    )
    .await;
    assert_eq!(refused, unauthorized(shape, form), "expired token");
    let missing = answer(&harness, &settings, event(shape, "GET", "/hello", None)).await;
    assert_eq!(missing, unauthorized(shape, form), "missing token");

    harness.issuer.set_available(false);
    let down = Harness {
        verifier: verifier_for(harness.issuer.url()),
        ..harness
    };
    let failed = answer(
        &down,
        &settings,
        event(shape, "GET", "/hello", Some(&bearer)),
    )
    .await;
    let keys_unavailable =
        json!({"errorType": "KeysUnavailable", "errorMessage": "KeysUnavailable"});
    assert_eq!(failed, Err(keys_unavailable), "keys unavailable");
}

#[tokio::test]
async fn rest_token_event_answers_allow_deny_unauthorized_and_keys_unavailable_exactly() {
    check_outcomes(Shape::RestToken, HttpApiResponse::Simple).await;
}

#[tokio::test]
async fn rest_request_event_answers_allow_deny_unauthorized_and_keys_unavailable_exactly() {
    check_outcomes(Shape::RestRequest, HttpApiResponse::Simple).await;
}

#[tokio::test]
async fn http_v1_event_answers_allow_deny_unauthorized_and_keys_unavailable_exactly() {
    check_outcomes(Shape::HttpV1, HttpApiResponse::Simple).await;
}

#[tokio::test]
async fn http_v2_simple_answers_allow_deny_unauthorized_and_keys_unavailable_exactly() {
    check_outcomes(Shape::HttpV2, HttpApiResponse::Simple).await;
}

#[tokio::test]
async fn http_v2_policy_answers_allow_deny_unauthorized_and_keys_unavailable_exactly() {
    check_outcomes(Shape::HttpV2, HttpApiResponse::Policy).await;
}

#[tokio::test]
async fn es384_token_is_verified_end_to_end() {
    let harness = Harness::start().await;
    let writer = identity(WRITER, &[]);
    let bearer = harness.bearer(&writer, Algorithm::Es384);
    let event = event(Shape::RestRequest, "POST", "/orders", Some(&bearer));
    let answer = answer(&harness, &Settings::default(), event).await;
    let document = policy(vec![statement(
        "Allow",
        Shape::RestRequest.base(),
        &["GET/hello", "GET/whoami", "POST/orders"],
    )]);
    let context = harness.expected_context(&writer, Algorithm::Es384, "readers,writers");
    assert_eq!(context["keyId"], json!("EC384_1"));
    assert_eq!(
        answer,
        Ok(verified(
            Shape::RestRequest,
            HttpApiResponse::Simple,
            true,
            document,
            context
        ))
    );
}

#[tokio::test]
async fn caller_no_rule_names_is_denied_every_route() {
    let harness = Harness::start().await;
    let stranger = identity(STRANGER, &[]);
    let bearer = harness.bearer(&stranger, Algorithm::Rs256);
    let answer = answer(
        &harness,
        &Settings::default(),
        event(Shape::RestToken, "GET", "/hello", Some(&bearer)),
    )
    .await;
    let document = policy(vec![statement("Deny", Shape::RestToken.base(), &["*"])]);
    let context = harness.expected_context(&stranger, Algorithm::Rs256, "");
    assert_eq!(
        answer,
        Ok(verified(
            Shape::RestToken,
            HttpApiResponse::Simple,
            false,
            document,
            context
        ))
    );
}

#[tokio::test]
async fn token_from_an_untrusted_issuer_is_unauthorized() {
    let harness = Harness::start().await;
    let other = Harness::start().await;
    let reader = identity(READER, &[]);
    let bearer = other.bearer(&reader, Algorithm::Rs256);
    let answer = answer(
        &harness,
        &Settings::default(),
        event(Shape::RestToken, "GET", "/hello", Some(&bearer)),
    )
    .await;
    assert_eq!(
        answer,
        unauthorized(Shape::RestToken, HttpApiResponse::Simple)
    );
}

#[tokio::test]
async fn token_header_setting_names_the_header_read() {
    let harness = Harness::start().await;
    let reader = identity(READER, &[]);
    let bearer = harness.bearer(&reader, Algorithm::Rs256);
    let settings = Settings::default()
        .with_token_header("X-Caller-Token")
        .unwrap();

    let mut custom = event(Shape::RestRequest, "GET", "/hello", None);
    custom["headers"]["X-CALLER-TOKEN"] = json!(bearer);
    let answer_custom = answer(&harness, &settings, custom).await.unwrap();
    assert_eq!(answer_custom["principalId"], json!(READER));

    let standard = event(Shape::RestRequest, "GET", "/hello", Some(&bearer));
    let refused = answer(&harness, &settings, standard).await;
    assert_eq!(
        refused,
        unauthorized(Shape::RestRequest, HttpApiResponse::Simple)
    );
}

#[tokio::test]
async fn policy_answer_is_written_for_the_stage_the_event_names() {
    let harness = Harness::start().await;
    let reader = identity(READER, &[]);
    let bearer = harness.bearer(&reader, Algorithm::Rs256);
    let mut event = event(Shape::RestToken, "GET", "/hello", Some(&bearer));
    event["methodArn"] = json!("arn:aws-cn:execute-api:cn-north-1:123456789012:zz9/beta/GET/hello");
    let answer = answer(&harness, &Settings::default(), event).await.unwrap();
    assert_eq!(
        answer["policyDocument"],
        policy(vec![statement(
            "Allow",
            "arn:aws-cn:execute-api:cn-north-1:123456789012:zz9/beta",
            &["GET/hello", "GET/whoami"]
        )])
    );
}
