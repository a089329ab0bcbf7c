//! Minting through the unmodified SDK against the local STS: the token, the cache, single flight.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use local_stack::sts::Failure;
use serde_json::json;
use support::*;
use token_source::SigningAlgorithm;

#[tokio::test]
async fn token_is_signed_by_the_issuer_for_the_callers_role() {
    let stack = stack().await;
    let source = builder(&stack)
        .await
        .signing_algorithm(SigningAlgorithm::Es384)
        .duration(Duration::from_secs(600))
        .request_tag("purpose", "batch")
        .build()
        .unwrap();

    let token = source.token().await.unwrap();

    let claims = verify(&stack.issuer, token.secret());
    assert_eq!(claims["sub"], ROLE_ARN);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["iss"], stack.issuer.url());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    let aws = &claims["https://sts.amazonaws.com/"];
    assert_eq!(aws["aws_account"], ACCOUNT);
    assert_eq!(aws["request_tags"], json!({"purpose": "batch"}));
    let header = jsonwebtoken::decode_header(token.secret()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES384);
    let exp = token
        .expiration()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(exp, claims["exp"].as_u64().unwrap());
}

#[tokio::test]
async fn second_call_is_served_from_the_cache() {
    let stack = stack().await;
    let source = source(&stack).await;

    let first = source.token().await.unwrap();
    let second = source.clone().token().await.unwrap();

    assert_eq!(first, second);
    assert_eq!(stack.sts.counters().requests, 1);
}

#[tokio::test]
async fn twenty_concurrent_callers_share_one_sts_call() {
    let stack = stack().await;
    let source = source(&stack).await;
    // Holding the one STS answer back makes every caller arrive while it is in flight.
    stack
        .sts
        .fail_next(1, Failure::Delay(Duration::from_millis(300)));

    let callers: Vec<_> = (0..20)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(caller.await.unwrap().unwrap());
    }

    assert_eq!(stack.sts.counters().requests, 1);
    assert!(tokens.iter().all(|token| token == &tokens[0]));
}

#[tokio::test]
async fn token_is_replaced_once_inside_the_refresh_margin() {
    let stack = stack().await;
    let source = builder(&stack)
        .await
        .duration(Duration::from_secs(60))
        .refresh_margin(Duration::from_secs(59))
        .build()
        .unwrap();

    let first = source.token().await.unwrap();
    let cached = source.token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refreshed = source.token().await.unwrap();

    assert_eq!(first, cached);
    assert_ne!(first.secret(), refreshed.secret());
    assert!(refreshed.expiration() >= first.expiration());
    assert_eq!(stack.sts.counters().requests, 2);
}

#[tokio::test]
async fn concurrent_callers_of_a_failed_mint_share_the_failure_and_the_next_call_retries() {
    let stack = stack().await;
    let source = source(&stack).await;
    stack.sts.set_federation_enabled(ACCOUNT, false);
    stack
        .sts
        .fail_next(1, Failure::Delay(Duration::from_millis(300)));

    let callers: Vec<_> = (0..10)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    for caller in callers {
        let err = caller.await.unwrap().unwrap_err();
        assert!(
            matches!(err, token_source::TokenError::FederationDisabled { .. }),
            "{err:?}"
        );
    }
    assert_eq!(stack.sts.counters().requests, 1);

    stack.sts.set_federation_enabled(ACCOUNT, true);
    assert!(source.token().await.is_ok());
    assert_eq!(stack.sts.counters().requests, 2);
}

#[tokio::test]
async fn cancelled_caller_does_not_strand_the_others() {
    let stack = stack().await;
    let source = source(&stack).await;
    stack
        .sts
        .fail_next(1, Failure::Delay(Duration::from_millis(500)));

    let impatient = tokio::time::timeout(Duration::from_millis(50), source.token()).await;
    let patient = source.token().await.unwrap();

    assert!(impatient.is_err());
    verify(&stack.issuer, patient.secret());
}

/// Collects everything written through `tracing`, to check what reaches the logs.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("no writer panicked")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn neither_logs_nor_debug_output_contain_the_token() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("token_source=trace")
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let stack = stack().await;
    let source = source(&stack).await;

    let token = source.token().await.unwrap();
    stack.sts.set_federation_enabled(ACCOUNT, false);
    let later = builder(&stack).await.audience("other").build().unwrap();
    let err = later.token().await.unwrap_err();

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("minted web identity token"), "{logs}");
    assert!(logs.contains("cannot mint web identity token"), "{logs}");
    let signature = token.secret().rsplit('.').next().unwrap();
    for shown in [
        logs,
        format!("{source:?}"),
        format!("{token:?}"),
        format!("{err:?}"),
    ] {
        assert!(!shown.contains(signature), "{shown}");
    }
    assert!(token.expiration() > SystemTime::now());
}
