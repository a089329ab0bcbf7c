//! Key cache behaviour against a real issuer on loopback: rotation, refetch limits, single-flight
//! fetches, outages, slow and hostile issuers, pinned key files and prefetching.
#![allow(
    clippy::unwrap_used,
    reason = "helpers here panic on broken fixtures, as the tests do"
)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_stack::issuer::{Algorithm, LocalIssuer};
use serde_json::json;
use sts_verifier::keys::FetchError;
use sts_verifier::{ConfigError, Verifier, VerifierConfig, VerifyError};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Total requests the issuer has seen.
fn fetches(issuer: &LocalIssuer) -> (usize, usize) {
    (issuer.discovery_fetches(), issuer.jwks_fetches())
}

/// The fetch error behind a `KeysUnavailable` rejection.
fn unavailable(error: VerifyError) -> FetchError {
    assert!(error.is_operational(), "{error:?}");
    assert_eq!(error.reason(), "keys_unavailable");
    match error {
        VerifyError::KeysUnavailable { source, .. } => source,
        other => panic!("expected keys_unavailable, got {other:?}"),
    }
}

/// A token naming a key id the issuer never published. Its signature is never checked (the key
/// lookup fails first), so it is a placeholder, which keeps a flood of them cheap to build.
fn token_with_kid(issuer: &LocalIssuer, kid: &str) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(&header),
        encode(&claims(issuer, Algorithm::Rs256))
    )
}

/// Writes `contents` to a fresh file in the temp dir and returns its path.
fn temp_file(contents: &str) -> std::path::PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "sts-verifier-jwks-{}-{}.json",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test]
async fn rotated_key_is_picked_up_by_an_unknown_kid_refetch() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.refetch_cooldown = ms(50);
    let verifier = verifier(config);
    verifier
        .verify(&token(&issuer, Algorithm::Rs256))
        .await
        .unwrap();

    issuer.rotate();
    tokio::time::sleep(ms(60)).await;
    let caller = verifier
        .verify(&token(&issuer, Algorithm::Rs256))
        .await
        .unwrap();

    assert_eq!(caller.key_id(), "RSA_2");
    // The discovered jwks_uri is kept: rotation costs one key set fetch, no discovery.
    assert_eq!(fetches(&issuer), (1, 2));
}

#[tokio::test]
async fn retired_key_stops_verifying_once_the_ttl_ends() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.cache_ttl = ms(500);
    config.refetch_cooldown = ms(10);
    let verifier = verifier(config);
    let old_token = token(&issuer, Algorithm::Rs256);
    // Key generation is slow in debug builds: rotate before the TTL starts running.
    issuer.rotate();
    verifier.verify(&old_token).await.unwrap();

    issuer.retire_previous();
    verifier.verify(&old_token).await.unwrap();
    assert_eq!(fetches(&issuer), (1, 1));

    tokio::time::sleep(ms(550)).await;
    let error = rejection(&verifier, &old_token).await;

    assert!(
        matches!(&error, VerifyError::UnknownKey { kid } if kid == "RSA_1"),
        "{error:?}"
    );
    assert_eq!(fetches(&issuer), (1, 2));
    verifier
        .verify(&token(&issuer, Algorithm::Rs256))
        .await
        .unwrap();
}

#[tokio::test]
async fn flood_of_unknown_key_ids_costs_one_fetch_per_cooldown_window() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.refetch_cooldown = ms(1000);
    let verifier = verifier(config);
    let forged: Vec<String> = (0..1000)
        .map(|n| token_with_kid(&issuer, &format!("RSA_{}", 1000 + n)))
        .collect();

    let started = Instant::now();
    for token in &forged {
        let error = rejection(&verifier, token).await;
        assert!(matches!(error, VerifyError::UnknownKey { .. }), "{error:?}");
    }
    let elapsed = started.elapsed();

    // The first token fetches the keys; every later unknown kid within the window fetches
    // nothing. A slow machine that crosses windows may add one fetch per window crossed.
    let windows = usize::try_from(elapsed.as_millis() / 1000).unwrap();
    let (_, jwks) = fetches(&issuer);
    assert!(
        jwks >= 1 && jwks <= 1 + windows,
        "{jwks} fetches in {elapsed:?}"
    );

    tokio::time::sleep(ms(1050)).await;
    let error = rejection(&verifier, &token_with_kid(&issuer, "RSA_5000")).await;
    assert!(matches!(error, VerifyError::UnknownKey { .. }), "{error:?}");
    assert_eq!(fetches(&issuer).1, jwks + 1);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let issuer = issuer().await;
    issuer.set_delay(ms(200));
    let verifier = verifier(config(&issuer));
    let tokens: Vec<String> = (0..32)
        .map(|n| {
            token(
                &issuer,
                if n % 2 == 0 {
                    Algorithm::Rs256
                } else {
                    Algorithm::Es384
                },
            )
        })
        .collect();

    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let verifier = verifier.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    assert_eq!(fetches(&issuer), (1, 1));
}

#[tokio::test]
async fn warm_cache_keeps_verifying_while_the_issuer_is_down() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.cache_ttl = ms(50);
    config.refetch_cooldown = ms(10);
    let verifier = verifier(config);
    let token = token(&issuer, Algorithm::Es384);
    verifier.verify(&token).await.unwrap();

    issuer.set_available(false);
    tokio::time::sleep(ms(100)).await;
    verifier.verify(&token).await.unwrap();

    // The stale keys triggered a refetch, which failed; they kept serving.
    assert_eq!(fetches(&issuer), (1, 2));
}

#[tokio::test]
async fn keys_past_the_staleness_limit_stop_serving() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.cache_ttl = ms(50);
    config.max_stale = ms(100);
    config.refetch_cooldown = ms(10);
    let verifier = verifier(config);
    let token = token(&issuer, Algorithm::Rs256);
    verifier.verify(&token).await.unwrap();

    issuer.set_available(false);
    tokio::time::sleep(ms(200)).await;
    let source = unavailable(rejection(&verifier, &token).await);

    assert!(
        matches!(source, FetchError::Status { status: 503, .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn cold_start_with_the_issuer_down_is_unavailable_then_recovers() {
    let issuer = issuer().await;
    issuer.set_available(false);
    let mut config = config(&issuer);
    config.refetch_cooldown = ms(50);
    let verifier = verifier(config);
    let token = token(&issuer, Algorithm::Rs256);

    let source = unavailable(rejection(&verifier, &token).await);
    assert!(
        matches!(source, FetchError::Status { status: 503, .. }),
        "{source:?}"
    );

    issuer.set_available(true);
    tokio::time::sleep(ms(60)).await;
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn failed_fetch_is_not_retried_within_the_cooldown() {
    let issuer = issuer().await;
    issuer.set_available(false);
    let verifier = verifier(config(&issuer));
    let token = token(&issuer, Algorithm::Rs256);

    for _ in 0..50 {
        let source = unavailable(rejection(&verifier, &token).await);
        assert!(
            matches!(source, FetchError::Status { status: 503, .. }),
            "{source:?}"
        );
    }

    assert_eq!(fetches(&issuer), (1, 0));
}

#[tokio::test]
async fn slow_issuer_is_cut_off_at_the_fetch_timeout() {
    let issuer = issuer().await;
    issuer.set_delay(Duration::from_secs(5));
    let mut config = config(&issuer);
    config.fetch_timeout = ms(300);
    let verifier = verifier(config);

    let started = Instant::now();
    let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);
    let elapsed = started.elapsed();

    assert!(
        matches!(source, FetchError::Timeout(timeout) if timeout == ms(300)),
        "{source:?}"
    );
    assert!(elapsed >= ms(250) && elapsed < ms(2000), "took {elapsed:?}");
}

#[tokio::test]
async fn oversized_key_set_is_rejected() {
    let issuer = issuer().await;
    let mut keys = issuer.jwks();
    // Valid JSON, real keys, padded with a huge ignored member.
    keys["padding"] = json!("x".repeat(100 * 1024));
    issuer.set_jwks_override(Some(keys.to_string()));
    let verifier = verifier(config(&issuer));

    let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);

    assert!(
        matches!(source, FetchError::TooLarge { limit: 65_536, .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn jwks_uri_on_another_origin_is_rejected_without_fetching_it() {
    let issuer = issuer().await;
    let elsewhere = support::issuer().await;
    let port = issuer.url().rsplit(':').next().unwrap().to_owned();
    let foreign_uris = [
        format!("{}/.well-known/jwks.json", elsewhere.url()),
        format!("http://localhost:{port}/.well-known/jwks.json"),
        format!("https://127.0.0.1:{port}/.well-known/jwks.json"),
        format!("http://user:pass@127.0.0.1:{port}/.well-known/jwks.json"),
        "/.well-known/jwks.json".to_owned(),
    ];

    for uri in foreign_uris {
        let mut document = issuer.discovery_document();
        document["jwks_uri"] = json!(uri);
        issuer.set_discovery_override(Some(document.to_string()));
        let verifier = verifier(config(&issuer));

        let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);

        assert!(
            matches!(source, FetchError::ForeignJwksUri { .. }),
            "{uri}: {source:?}"
        );
    }
    assert_eq!((issuer.jwks_fetches(), elsewhere.jwks_fetches()), (0, 0));
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_rejected() {
    let issuer = issuer().await;
    let mut document = issuer.discovery_document();
    document["issuer"] = json!(format!("{}/", issuer.url()));
    issuer.set_discovery_override(Some(document.to_string()));
    let verifier = verifier(config(&issuer));

    let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);

    assert!(
        matches!(source, FetchError::IssuerMismatch { .. }),
        "{source:?}"
    );
    assert_eq!(issuer.jwks_fetches(), 0);
}

#[tokio::test]
async fn invalid_discovery_document_is_rejected() {
    let issuer = issuer().await;
    for body in [
        "not json",
        "[]",
        r#"{"issuer": 1, "jwks_uri": "x"}"#,
        r#"{"jwks_uri": "/"}"#,
    ] {
        issuer.set_discovery_override(Some(body.to_owned()));
        let verifier = verifier(config(&issuer));

        let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);

        assert!(
            matches!(source, FetchError::InvalidDiscovery(_)),
            "{body}: {source:?}"
        );
    }
}

#[tokio::test]
async fn issuer_without_discovery_document_serves_its_well_known_key_set() {
    let issuer = issuer().await;
    issuer.set_discovery_published(false);
    let verifier = verifier(config(&issuer));

    verifier
        .verify(&token(&issuer, Algorithm::Rs256))
        .await
        .unwrap();

    assert_eq!(fetches(&issuer), (1, 1));
}

#[tokio::test]
async fn untrusted_issuer_never_causes_a_fetch() {
    let trusted = issuer().await;
    let untrusted = support::issuer().await;
    let verifier = verifier(config(&trusted));

    for _ in 0..20 {
        let error = rejection(&verifier, &token(&untrusted, Algorithm::Rs256)).await;
        assert!(matches!(error, VerifyError::UntrustedIssuer), "{error:?}");
    }

    assert_eq!((fetches(&trusted), fetches(&untrusted)), ((0, 0), (0, 0)));
}

#[tokio::test]
async fn prefetch_warms_the_cache_during_init() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));

    verifier.prefetch().await.unwrap();
    assert_eq!(fetches(&issuer), (1, 1));

    issuer.set_available(false);
    verifier
        .verify(&token(&issuer, Algorithm::Rs256))
        .await
        .unwrap();
    verifier
        .verify(&token(&issuer, Algorithm::Es384))
        .await
        .unwrap();
    assert_eq!(fetches(&issuer), (1, 1));
}

#[tokio::test]
async fn prefetch_with_the_issuer_down_reports_keys_unavailable() {
    let issuer = issuer().await;
    issuer.set_available(false);
    let verifier = verifier(config(&issuer));

    let error = verifier.prefetch().await.unwrap_err();

    let source = unavailable(error);
    assert!(
        matches!(source, FetchError::Status { status: 503, .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn jwks_file_verifies_with_no_issuer_running() {
    let issuer = issuer().await;
    let path = temp_file(&json!({ issuer.url(): issuer.jwks() }).to_string());
    let mut config = config(&issuer);
    config.jwks_file = Some(path.clone());
    let tokens = [
        token(&issuer, Algorithm::Rs256),
        token(&issuer, Algorithm::Es384),
    ];
    let unknown = token_with_kid(&issuer, "RSA_2");
    drop(issuer);
    let verifier = verifier(config);

    verifier.prefetch().await.unwrap();
    for token in &tokens {
        verifier.verify(token).await.unwrap();
    }
    let error = rejection(&verifier, &unknown).await;

    assert!(
        matches!(&error, VerifyError::UnknownKey { kid } if kid == "RSA_2"),
        "{error:?}"
    );
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn redirect_from_the_issuer_is_not_followed() {
    let issuer = issuer().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting_issuer = format!("http://{}", listener.local_addr().unwrap());
    let target = format!("{}/.well-known/jwks.json", issuer.url());
    // Answers every request with a redirect to a real key set.
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: {target}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    let mut config = config(&issuer);
    config.issuers = vec![redirecting_issuer.clone()];
    let verifier = verifier(config);
    let claims = with_claim(
        claims(&issuer, Algorithm::Rs256),
        "iss",
        json!(redirecting_issuer),
    );

    let error = rejection(&verifier, &issuer.sign(Algorithm::Rs256, &claims)).await;

    let source = unavailable(error);
    assert!(
        matches!(source, FetchError::Status { status: 302, .. }),
        "{source:?}"
    );
    assert_eq!(fetches(&issuer), (0, 0));
}

#[tokio::test]
async fn key_set_answered_with_an_error_status_is_unavailable() {
    let issuer = issuer().await;
    let mut document = issuer.discovery_document();
    document["jwks_uri"] = json!(format!("{}/keys-moved", issuer.url()));
    issuer.set_discovery_override(Some(document.to_string()));
    let verifier = verifier(config(&issuer));

    let source = unavailable(rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await);

    assert!(
        matches!(source, FetchError::Status { status: 404, .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn jwks_file_that_cannot_be_used_is_a_config_error() {
    let issuer = issuer().await;
    let cases = [
        json!({ "https://untrusted.example": issuer.jwks() }).to_string(),
        json!({ issuer.url(): {"keys": []} }).to_string(),
        json!({ issuer.url(): {"keys": "none"} }).to_string(),
        json!([issuer.jwks()]).to_string(),
        "{".to_owned(),
    ];

    for contents in cases {
        let path = temp_file(&contents);
        let mut config = config(&issuer);
        config.jwks_file = Some(path.clone());

        let error: ConfigError = Verifier::new(config).unwrap_err();

        assert_eq!(error.variable, "JWKS_FILE", "{contents}: {error}");
        std::fs::remove_file(path).unwrap();
    }

    let mut config = config(&issuer);
    config.jwks_file = Some(std::env::temp_dir().join("sts-verifier-no-such-file.json"));
    assert_eq!(Verifier::new(config).unwrap_err().variable, "JWKS_FILE");
}

#[tokio::test]
async fn config_built_in_code_gets_the_same_checks() {
    let issuer = issuer().await;
    let mut leeway = config(&issuer);
    leeway.leeway = Duration::from_secs(301);
    let plain_http = VerifierConfig::new([issuer.url()], [AUDIENCE]);

    assert_eq!(
        Verifier::new(leeway).unwrap_err().variable,
        "CLOCK_LEEWAY_SECONDS"
    );
    assert_eq!(
        Verifier::new(plain_http).unwrap_err().variable,
        "TRUSTED_ISSUERS"
    );
}
