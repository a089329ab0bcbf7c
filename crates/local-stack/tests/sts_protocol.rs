//! The local STS driven by the unmodified AWS SDK client, through the SDK's endpoint override.

mod sts_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::operation::RequestId;
use aws_sdk_sts::operation::get_web_identity_token::GetWebIdentityTokenError;
use aws_sdk_sts::types::Tag;
use local_stack::issuer::Algorithm;
use local_stack::sts::{Failure, MintPolicy, StsConfig, StsCounters};
use serde_json::json;
use sts_support::*;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("key and value are set")
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .expect("times here are after 1970")
        .as_secs()
}

#[tokio::test]
async fn sdk_receives_a_token_the_issuer_signed_for_the_signing_identity() {
    let stack = stack().await;
    let client = client(&stack.sts).await;

    let output = client
        .get_web_identity_token()
        .audience("https://orders.example.com")
        .signing_algorithm("RS256")
        .duration_seconds(900)
        .tags(tag("purpose", "batch"))
        .send()
        .await
        .unwrap();

    let token = output.web_identity_token().unwrap();
    let claims = verify(&stack.issuer, token, "https://orders.example.com");
    assert_eq!(claims["sub"], ROLE_ARN);
    assert_eq!(claims["aud"], "https://orders.example.com");
    assert_eq!(claims["iss"], stack.issuer.url());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    let aws = &claims["https://sts.amazonaws.com/"];
    assert_eq!(aws["aws_account"], ACCOUNT);
    assert_eq!(aws["source_region"], REGION);
    assert_eq!(aws["lambda_source_function_arn"], FUNCTION_ARN);
    assert_eq!(aws["principal_tags"], json!({"team": "payments"}));
    assert_eq!(aws["request_tags"], json!({"purpose": "batch"}));

    let expiration = SystemTime::try_from(*output.expiration().unwrap()).unwrap();
    assert_eq!(unix(expiration), claims["exp"].as_u64().unwrap());
    assert!(output.request_id().is_some_and(|id| id.len() == 36));
    assert_eq!(
        stack.sts.counters(),
        StsCounters {
            requests: 1,
            tokens_issued: 1,
            errors: 0
        }
    );
}

#[tokio::test]
async fn es384_and_several_audiences_are_honoured() {
    let stack = stack().await;
    let client = client(&stack.sts).await;

    let output = client
        .get_web_identity_token()
        .audience("api://a")
        .audience("api://b")
        .signing_algorithm("ES384")
        .send()
        .await
        .unwrap();

    let token = output.web_identity_token().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES384);
    assert!(header.kid.unwrap().starts_with("EC384_"));
    let claims = verify(&stack.issuer, token, "api://b");
    assert_eq!(claims["aud"], json!(["api://a", "api://b"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
}

#[tokio::test]
async fn unknown_access_key_is_an_invalid_client_token_id() {
    let stack = stack().await;
    let config = sdk_config(&stack.sts, "AKIAUNKNOWNKEY000000", SECRET_ACCESS_KEY).await;
    let client = aws_sdk_sts::Client::new(&config);

    let err = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256")
        .send()
        .await
        .unwrap_err();

    let err = err.into_service_error();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );
    assert_eq!(stack.sts.counters().tokens_issued, 0);
}

#[tokio::test]
async fn wrong_secret_key_is_a_signature_mismatch() {
    let stack = stack().await;
    let config = sdk_config(&stack.sts, ACCESS_KEY_ID, "not-the-secret").await;
    let client = aws_sdk_sts::Client::new(&config);

    let err = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256")
        .send()
        .await
        .unwrap_err();

    let err = err.into_service_error();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(stack.sts.counters().tokens_issued, 0);
}

#[tokio::test]
async fn disabled_account_gets_the_modelled_federation_disabled_error() {
    let stack = stack().await;
    stack.sts.set_federation_enabled(ACCOUNT, false);
    let client = client(&stack.sts).await;

    let err = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256")
        .send()
        .await
        .unwrap_err();

    let status = err.raw_response().unwrap().status().as_u16();
    assert_eq!(status, 403);
    assert!(matches!(
        err.into_service_error(),
        GetWebIdentityTokenError::OutboundWebIdentityFederationDisabledException(_)
    ));

    stack.sts.set_federation_enabled(ACCOUNT, true);
    let output = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256");
    assert!(output.send().await.unwrap().web_identity_token().is_some());
}

#[tokio::test]
async fn policy_conditions_deny_like_iam_condition_keys() {
    let mut principal = principal();
    principal.policy = MintPolicy {
        audiences: Some(vec!["api://allowed".into(), "api://also".into()]),
        algorithms: Some(vec![Algorithm::Es384]),
        max_duration_seconds: Some(600),
        allow_tags: false,
        ..MintPolicy::default()
    };
    let stack = stack_with(StsConfig::new(vec![principal])).await;
    let client = client(&stack.sts).await;
    let denied_mint = format!(
        "User: {ROLE_ARN} is not authorized to perform: sts:GetWebIdentityToken because no \
         identity-based policy allows the sts:GetWebIdentityToken action"
    );
    let denied_tags = denied_mint.replace("sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken");

    let allowed = || {
        client
            .get_web_identity_token()
            .audience("api://allowed")
            .signing_algorithm("ES384")
            .duration_seconds(600)
    };
    assert!(allowed().send().await.is_ok());

    let cases = [
        (allowed().audience("api://extra"), &denied_mint),
        (allowed().signing_algorithm("RS256"), &denied_mint),
        (allowed().duration_seconds(601), &denied_mint),
        (allowed().tags(tag("team", "x")), &denied_tags),
    ];
    for (request, message) in cases {
        let err = request.send().await.unwrap_err();
        assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
        let err = err.into_service_error();
        assert_eq!(err.code(), Some("AccessDenied"));
        assert_eq!(err.message(), Some(message.as_str()));
    }
    assert_eq!(stack.sts.counters().tokens_issued, 1);
}

#[tokio::test]
async fn tag_key_condition_limits_which_tags_may_be_sent() {
    let mut principal = principal();
    principal.policy.tag_keys = Some(vec!["purpose".into()]);
    let stack = stack_with(StsConfig::new(vec![principal])).await;
    let client = client(&stack.sts).await;
    let request = || {
        client
            .get_web_identity_token()
            .audience("a")
            .signing_algorithm("RS256")
    };

    assert!(request().tags(tag("purpose", "batch")).send().await.is_ok());
    let err = request().tags(tag("team", "x")).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("AccessDenied"));
}

#[tokio::test]
async fn token_outliving_the_session_is_a_duration_escalation() {
    let mut principal = principal();
    principal.session_expiration = Some(SystemTime::now() + Duration::from_secs(600));
    let stack = stack_with(StsConfig::new(vec![principal])).await;
    let client = client(&stack.sts).await;
    let request = || {
        client
            .get_web_identity_token()
            .audience("a")
            .signing_algorithm("RS256")
    };

    assert!(request().duration_seconds(300).send().await.is_ok());
    let err = request().duration_seconds(900).send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert!(matches!(
        err.into_service_error(),
        GetWebIdentityTokenError::SessionDurationEscalationException(_)
    ));
}

#[tokio::test]
async fn oversized_request_tags_exceed_the_jwt_payload_size() {
    let stack = stack().await;
    let client = client(&stack.sts).await;
    let mut request = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256");
    for i in 0..20 {
        request = request.tags(tag(&format!("key{i}"), &"v".repeat(256)));
    }

    let err = request.send().await.unwrap_err();

    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert!(matches!(
        err.into_service_error(),
        GetWebIdentityTokenError::JwtPayloadSizeExceededException(_)
    ));
}

#[tokio::test]
async fn parameters_beyond_the_model_limits_are_validation_errors() {
    let stack = stack().await;
    let client = client(&stack.sts).await;
    let base = || {
        client
            .get_web_identity_token()
            .audience("a")
            .signing_algorithm("RS256")
    };

    let cases = [
        (base().duration_seconds(59), "at 'durationSeconds'"),
        (base().duration_seconds(3601), "at 'durationSeconds'"),
        (base().signing_algorithm("HS256"), "at 'signingAlgorithm'"),
        (base().audience("x".repeat(1001)), "at 'audience.2.member'"),
        (
            client.get_web_identity_token().signing_algorithm("RS256"),
            "Value null at 'audience'",
        ),
        (
            client.get_web_identity_token().audience("a"),
            "Value null at 'signingAlgorithm'",
        ),
        (base().tags(tag("", "v")), "at 'tags.1.member.key'"),
    ];
    for (request, needle) in cases {
        let err = request.send().await.unwrap_err();
        assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
        let err = err.into_service_error();
        assert_eq!(err.code(), Some("ValidationError"));
        let message = err.message().unwrap();
        assert!(
            message.starts_with("1 validation error detected: "),
            "{message}"
        );
        assert!(message.contains(needle), "{message} lacks {needle}");
    }

    let mut many = base();
    for i in 0..10 {
        many = many.audience(format!("aud-{i}"));
    }
    let err = many.send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    let mut tags = base();
    for i in 0..51 {
        tags = tags.tags(tag(&format!("k{i}"), "v"));
    }
    let err = tags.send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(stack.sts.counters().tokens_issued, 0);
}

#[tokio::test]
async fn injected_faults_answer_once_each_then_service_resumes() {
    let stack = stack().await;
    let client = client(&stack.sts).await;
    stack.sts.fail_next(1, Failure::Throttle);
    stack.sts.fail_next(1, Failure::Internal);
    stack.sts.fail_next(1, Failure::Unavailable);
    let request = || {
        client
            .get_web_identity_token()
            .audience("a")
            .signing_algorithm("RS256")
    };

    for (status, code) in [
        (400, "Throttling"),
        (500, "InternalFailure"),
        (503, "ServiceUnavailable"),
    ] {
        let err = request().send().await.unwrap_err();
        assert_eq!(err.raw_response().unwrap().status().as_u16(), status);
        assert_eq!(err.into_service_error().code(), Some(code));
    }
    assert!(request().send().await.is_ok());
    assert_eq!(
        stack.sts.counters(),
        StsCounters {
            requests: 4,
            tokens_issued: 1,
            errors: 3
        }
    );
}

#[tokio::test]
async fn unsupported_action_is_invalid_action() {
    let stack = stack().await;
    let client = client(&stack.sts).await;

    let err = client.get_caller_identity().send().await.unwrap_err();

    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("InvalidAction"));
    assert_eq!(
        err.message(),
        Some("Could not find operation GetCallerIdentity for version 2011-06-15")
    );
}
