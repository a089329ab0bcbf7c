//! Every way minting fails, as the error a person can act on, and the retries before it.

mod support;

use std::time::{Duration, Instant, SystemTime};

use local_stack::sts::{Failure, MintPolicy};
use support::*;
use token_source::{RequestSummary, TokenError, TokenSource};

#[tokio::test]
async fn disabled_federation_says_how_to_enable_it() {
    let stack = stack().await;
    stack.sts.set_federation_enabled(ACCOUNT, false);

    let err = source(&stack).await.token().await.unwrap_err();

    assert!(
        matches!(&err, TokenError::FederationDisabled { request_id: Some(id) } if id.len() == 36)
    );
    assert_eq!(
        err.to_string(),
        "outbound identity federation is disabled in this account: enable it once with `aws iam \
         enable-outbound-web-identity-federation` or deploy the template with EnableFederation=true"
    );
    assert_eq!(
        err.code(),
        Some("OutboundWebIdentityFederationDisabledException")
    );
}

#[tokio::test]
async fn access_denied_names_the_action_and_condition_keys() {
    let mut principal = principal();
    principal.policy = MintPolicy {
        audiences: Some(vec!["https://somewhere-else.example.com".into()]),
        ..MintPolicy::default()
    };
    let stack = stack_with(principal).await;

    let err = source(&stack).await.token().await.unwrap_err();

    let TokenError::AccessDenied {
        message, request, ..
    } = &err
    else {
        panic!("expected AccessDenied, got {err:?}");
    };
    assert_eq!(
        **request,
        RequestSummary {
            audiences: vec![AUDIENCE.into()],
            algorithm: "RS256".into(),
            duration_seconds: 300,
            tag_keys: vec![],
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "sts:GetWebIdentityToken was denied ({message}); the role's identity policy must allow \
             sts:GetWebIdentityToken on resource \"*\" with conditions this request meets: \
             sts:IdentityTokenAudience [\"{AUDIENCE}\"], sts:SigningAlgorithm \"RS256\", \
             sts:DurationSeconds 300"
        )
    );
    assert!(message.contains(ROLE_ARN), "{message}");
}

#[tokio::test]
async fn denied_tags_point_at_the_tag_permission() {
    let mut principal = principal();
    principal.policy.allow_tags = false;
    let stack = stack_with(principal).await;
    let source = builder(&stack)
        .await
        .request_tag("team", "payments")
        .build()
        .unwrap();

    let err = source.token().await.unwrap_err();

    assert!(matches!(&err, TokenError::AccessDenied { .. }), "{err:?}");
    assert!(
        err.to_string().ends_with(
            ", and for the request tags the action sts:TagGetWebIdentityToken with \
             aws:RequestTag/<key> and aws:TagKeys [\"team\"]"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn token_outliving_the_session_is_a_duration_escalation() {
    let mut principal = principal();
    principal.session_expiration = Some(SystemTime::now() + Duration::from_secs(600));
    let stack = stack_with(principal).await;
    let source = builder(&stack)
        .await
        .duration(Duration::from_secs(900))
        .build()
        .unwrap();

    let err = source.token().await.unwrap_err();

    assert!(
        matches!(
            err,
            TokenError::SessionDurationEscalation {
                duration_seconds: 900,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn too_many_tag_bytes_is_payload_too_large() {
    let stack = stack().await;
    let mut builder = builder(&stack).await;
    for i in 0..20 {
        builder = builder.request_tag(format!("key{i}"), "v".repeat(256));
    }

    let err = builder.build().unwrap().token().await.unwrap_err();

    assert!(
        matches!(err, TokenError::PayloadTooLarge { tag_count: 20, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_access_key_keeps_the_sts_code() {
    let stack = stack().await;
    let config = sdk_config_for(stack.sts.url(), "AKIAUNKNOWNKEY000000").await;
    let source = TokenSource::builder(&config)
        .audience(AUDIENCE)
        .build()
        .unwrap();

    let err = source.token().await.unwrap_err();

    let TokenError::Rejected { status, code, .. } = &err else {
        panic!("expected Rejected, got {err:?}");
    };
    assert_eq!((*status, code.as_str()), (403, "InvalidClientTokenId"));
    assert_eq!(stack.sts.counters().requests, 1);
}

#[tokio::test]
async fn throttling_is_retried_until_it_succeeds() {
    let stack = stack().await;
    stack.sts.fail_next(2, Failure::Throttle);

    let token = source(&stack).await.token().await.unwrap();

    verify(&stack.issuer, token.secret());
    assert_eq!(stack.sts.counters().requests, 3);
}

#[tokio::test]
async fn server_errors_are_retried_until_it_succeeds() {
    let stack = stack().await;
    stack.sts.fail_next(1, Failure::Internal);
    stack.sts.fail_next(1, Failure::Unavailable);

    let token = source(&stack).await.token().await.unwrap();

    verify(&stack.issuer, token.secret());
    assert_eq!(stack.sts.counters().requests, 3);
}

#[tokio::test]
async fn persistent_throttling_gives_up_after_the_attempt_limit() {
    let stack = stack().await;
    stack.sts.fail_next(10, Failure::Throttle);
    let source = builder(&stack).await.max_attempts(4).build().unwrap();

    let err = source.token().await.unwrap_err();

    assert!(
        matches!(&err, TokenError::Throttled { code, max_attempts: 4, .. } if code == "Throttling"),
        "{err:?}"
    );
    assert_eq!(stack.sts.counters().requests, 4);
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_the_attempt_limit() {
    let stack = stack().await;
    stack.sts.fail_next(10, Failure::Internal);

    let err = source(&stack).await.token().await.unwrap_err();

    assert!(
        matches!(
            &err,
            TokenError::ServiceUnavailable { status: 500, code, max_attempts: 3, .. }
                if code == "InternalFailure"
        ),
        "{err:?}"
    );
    assert_eq!(stack.sts.counters().requests, 3);
}

#[tokio::test]
async fn access_denied_is_not_retried() {
    let mut principal = principal();
    principal.policy.allow = false;
    let stack = stack_with(principal).await;

    let err = source(&stack).await.token().await.unwrap_err();

    assert!(matches!(err, TokenError::AccessDenied { .. }), "{err:?}");
    assert_eq!(stack.sts.counters().requests, 1);
}

#[tokio::test]
async fn a_hanging_sts_is_cut_off_by_the_operation_timeout() {
    let stack = stack().await;
    stack
        .sts
        .fail_next(10, Failure::Delay(Duration::from_secs(5)));
    let source = builder(&stack)
        .await
        .max_attempts(5)
        .attempt_timeout(Duration::from_millis(200))
        .operation_timeout(Duration::from_millis(600))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = source.token().await.unwrap_err();

    assert!(matches!(err, TokenError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = sdk_config_for(&endpoint, ACCESS_KEY_ID).await;
    let source = TokenSource::builder(&config)
        .audience(AUDIENCE)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap();

    let err = source.token().await.unwrap_err();

    assert!(matches!(err, TokenError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.to_string(), "could not reach the sts endpoint");
}
