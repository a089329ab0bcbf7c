//! One test per verification rule, each asserting the exact rejection and its reason code.
//!
//! Tokens come from a real issuer on loopback (`local_stack::issuer`), signed with keys it
//! generated at start, in the shape STS mints: an RSA key without `alg`, `aud` as a string for one
//! audience, `ou_path` as an array, no `nbf`.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_stack::issuer::{Algorithm, MintRequest};
use serde_json::{Value, json};
use sts_verifier::{AWS_CLAIMS_KEY, RoleArnError, SigningAlgorithm, VerifyError};
use support::*;

/// Splits a token into its three segments.
fn segments(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    [
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    ]
}

fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn real_rs256_token_verifies_into_the_caller_it_names() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    let token = issuer.sign(Algorithm::Rs256, &claims);

    let caller = verifier.verify(&token).await.unwrap();

    assert_eq!(caller.role().as_str(), ROLE_ARN);
    assert_eq!(caller.role().name(), "caller-fn");
    assert_eq!(caller.account().as_str(), ACCOUNT);
    assert_eq!(caller.issuer(), issuer.url());
    assert_eq!(caller.audience(), AUDIENCE);
    assert_eq!(caller.key_id(), "RSA_1");
    assert_eq!(caller.algorithm(), SigningAlgorithm::Rs256);
    assert_eq!(caller.token_id(), claims["jti"].as_str());
    assert_eq!(Some(caller.issued_at()), claims["iat"].as_u64());
    assert_eq!(Some(caller.expires_at()), claims["exp"].as_u64());
    assert_eq!(
        caller.aws().ou_paths,
        ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]
    );
    assert_eq!(caller.aws().org_id.as_deref(), Some("o-a1b2c3d4e5"));
    assert_eq!(
        caller.aws().principal_tags.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        caller.aws().lambda_source_function_arn.as_deref(),
        Some("arn:aws:lambda:eu-west-1:111122223333:function:caller-fn")
    );
    assert!(caller.request_tags().is_empty());
}

#[tokio::test]
async fn real_es384_token_verifies() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));

    let caller = verifier
        .verify(&token(&issuer, Algorithm::Es384))
        .await
        .unwrap();

    assert_eq!(caller.key_id(), "EC384_1");
    assert_eq!(caller.algorithm(), SigningAlgorithm::Es384);
    assert_eq!(caller.role().as_str(), ROLE_ARN);
}

#[tokio::test]
async fn audience_array_matches_any_allowed_audience_and_records_which() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let request = MintRequest {
        audiences: vec!["https://other.example".to_owned(), AUDIENCE.to_owned()],
        ..request(Algorithm::Rs256)
    };
    let token = issuer.mint(&identity(), &request).token;

    let caller = verifier.verify(&token).await.unwrap();

    assert_eq!(caller.audience(), AUDIENCE);
}

#[tokio::test]
async fn request_tags_are_kept_apart_as_caller_asserted() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let mut request = request(Algorithm::Es384);
    request
        .request_tags
        .insert("purpose".to_owned(), "batch".to_owned());
    let token = issuer.mint(&identity(), &request).token;

    let caller = verifier.verify(&token).await.unwrap();

    assert_eq!(caller.request_tags().get("purpose"), Some("batch"));
    assert!(!caller.aws().principal_tags.contains_key("purpose"));
}

#[tokio::test]
async fn oversized_token_is_rejected_before_parsing() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(4000),
        "b".repeat(4000),
        "c".repeat(200)
    );

    let error = rejection(&verifier, &huge).await;

    assert!(
        matches!(error, VerifyError::TooLarge { limit: 8192 }),
        "{error:?}"
    );
    assert_eq!(error.reason(), "token_too_large");
}

#[tokio::test]
async fn token_within_a_lowered_size_limit_is_checked_against_it() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.max_token_bytes = 512;
    let verifier = verifier(config);

    let error = rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await;

    assert!(
        matches!(error, VerifyError::TooLarge { limit: 512 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn token_without_exactly_three_segments_is_malformed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let [header, payload, signature] = segments(&token(&issuer, Algorithm::Rs256));
    let cases = [
        String::new(),
        "onlyone".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}.{payload}."),
    ];

    for case in cases {
        let error = rejection(&verifier, &case).await;
        assert!(
            matches!(error, VerifyError::Malformed(_)),
            "{case:?}: {error:?}"
        );
        assert_eq!(error.reason(), "malformed_token");
    }
}

#[tokio::test]
async fn padding_whitespace_or_standard_alphabet_in_a_segment_is_malformed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let token = token(&issuer, Algorithm::Rs256);
    let [header, payload, signature] = segments(&token);
    let cases = [
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}=="),
        format!(" {token}"),
        format!("{token}\n"),
        format!("{header}.{payload} .{signature}"),
        format!(
            "{header}.{}.{signature}",
            payload.replace('-', "+").replace('_', "/")
        ),
        format!(
            "{header}.{payload}.{}",
            signature.replace('-', "+").replace('_', "/")
        ),
    ];

    for case in cases {
        if case == token {
            continue;
        }
        let error = rejection(&verifier, &case).await;
        assert!(
            matches!(error, VerifyError::Malformed(_)),
            "{case:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn header_or_payload_that_is_not_a_json_object_is_malformed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let good_header = br#"{"kid":"RSA_1","typ":"JWT","alg":"RS256"}"#.as_slice();
    let good_payload = claims(&issuer, Algorithm::Rs256).to_string().into_bytes();
    let cases: Vec<(&[u8], &[u8])> = vec![
        (br#"["RS256","RSA_1"]"#, &good_payload),
        (b"not json", &good_payload),
        (b"", &good_payload),
        (br#"{"kid":"RSA_1","alg":"RS256"} trailing"#, &good_payload),
        (
            br#"{"kid":"RSA_1","alg":"RS256","alg":"none"}"#,
            &good_payload,
        ),
        (br#"{"kid":7,"alg":"RS256"}"#, &good_payload),
        (b"{\"kid\":\"RSA_1\",\"alg\":\"RS\xff256\"}", &good_payload),
        (good_header, b"[1,2,3]"),
        (good_header, b"\"a string\""),
        (good_header, b"{\"iss\": \"\xc3\x28\"}"),
        (good_header, b"{"),
    ];

    for (header, payload) in cases {
        let token = issuer.sign_bytes(Algorithm::Rs256, header, payload);
        let error = rejection(&verifier, &token).await;
        assert!(
            matches!(error, VerifyError::Malformed(_)),
            "{:?}/{:?}: {error:?}",
            String::from_utf8_lossy(header),
            String::from_utf8_lossy(payload)
        );
    }
}

#[tokio::test]
async fn deeply_nested_json_never_exhausts_the_stack() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.max_token_bytes = 1 << 20;
    let verifier = verifier(config);
    let nest =
        |open: &str, close: &str| format!("{}1{}", open.repeat(50_000), close.repeat(50_000));
    let header = r#"{"kid":"RSA_1","typ":"JWT","alg":"RS256"}"#;

    // Claims this verifier reads are parsed as JSON values, whose depth serde_json limits.
    for payload in [
        format!(r#"{{"aud":{}}}"#, nest("[", "]")),
        format!(r#"{{"sub":{}}}"#, nest(r#"{"a":"#, "}")),
    ] {
        let token = issuer.sign_bytes(Algorithm::Rs256, header.as_bytes(), payload.as_bytes());
        let error = rejection(&verifier, &token).await;
        assert!(matches!(error, VerifyError::Malformed(_)), "{error:?}");
    }
    // Members it ignores are skipped without recursion; such a token then fails on its claims.
    let ignored_in_header = format!(r#"{{"kid":"RSA_1","alg":"RS256","x":{}}}"#, nest("[", "]"));
    let ignored_in_payload = format!(r#"{{"extra":{}}}"#, nest(r#"{"a":"#, "}"));
    let tokens = [
        issuer.sign_bytes(Algorithm::Rs256, ignored_in_header.as_bytes(), b"{}"),
        issuer.sign_bytes(
            Algorithm::Rs256,
            header.as_bytes(),
            ignored_in_payload.as_bytes(),
        ),
    ];
    for token in tokens {
        let error = rejection(&verifier, &token).await;
        assert!(matches!(error, VerifyError::UntrustedIssuer), "{error:?}");
    }
}

#[tokio::test]
async fn claim_named_twice_is_malformed_even_when_signed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256).to_string();
    let payload = claims.replacen('{', r#"{"iss":"https://attacker.example","#, 1);
    let header = br#"{"kid":"RSA_1","typ":"JWT","alg":"RS256"}"#;
    let token = issuer.sign_bytes(Algorithm::Rs256, header, payload.as_bytes());

    let error = rejection(&verifier, &token).await;

    assert!(
        matches!(
            error,
            VerifyError::Malformed("payload is not a json object")
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn algorithms_outside_the_allowed_set_are_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    for alg in [
        "none", "HS256", "RS384", "RS512", "PS256", "ES256", "ES512", "EdDSA", "rs256", "",
    ] {
        let header = json!({"kid": "RSA_1", "typ": "JWT", "alg": alg});
        let token = issuer.sign_with_header(Algorithm::Rs256, &header, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(&error, VerifyError::AlgorithmNotAllowed(named) if named == alg),
            "{error:?}"
        );
        assert_eq!(error.reason(), "algorithm_not_allowed");
    }
}

#[tokio::test]
async fn unsecured_token_with_empty_signature_is_malformed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let header = encode(r#"{"alg":"none","kid":"RSA_1"}"#);
    let payload = encode(claims(&issuer, Algorithm::Rs256).to_string());

    let error = rejection(&verifier, &format!("{header}.{payload}.")).await;

    assert!(
        matches!(error, VerifyError::Malformed("signature segment is empty")),
        "{error:?}"
    );
}

#[tokio::test]
async fn header_without_alg_is_malformed() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let header = json!({"kid": "RSA_1", "typ": "JWT"});
    let token = issuer.sign_with_header(
        Algorithm::Rs256,
        &header,
        &claims(&issuer, Algorithm::Rs256),
    );

    let error = rejection(&verifier, &token).await;

    assert!(
        matches!(error, VerifyError::Malformed("header has no alg")),
        "{error:?}"
    );
}

#[tokio::test]
async fn algorithm_allowed_by_sts_but_not_by_configuration_is_rejected() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.algorithms = vec![SigningAlgorithm::Es384];
    let verifier = verifier(config);

    let error = rejection(&verifier, &token(&issuer, Algorithm::Rs256)).await;

    assert!(
        matches!(&error, VerifyError::AlgorithmNotAllowed(alg) if alg == "RS256"),
        "{error:?}"
    );
    verifier
        .verify(&token(&issuer, Algorithm::Es384))
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_or_empty_key_id_is_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    for header in [
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": ""}),
    ] {
        let token = issuer.sign_with_header(Algorithm::Rs256, &header, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::MissingKeyId),
            "{header}: {error:?}"
        );
        assert_eq!(error.reason(), "missing_key_id");
    }
}

#[tokio::test]
async fn overlong_or_unprintable_key_id_is_malformed_without_a_fetch() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    for kid in [
        "k".repeat(129),
        "RSA_1\nforged log line".to_owned(),
        "RSA 1".to_owned(),
    ] {
        let header = json!({"alg": "RS256", "kid": kid});
        let token = issuer.sign_with_header(Algorithm::Rs256, &header, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::Malformed(_)),
            "{kid:?}: {error:?}"
        );
    }
    assert_eq!(issuer.jwks_fetches(), 0);
}

#[tokio::test]
async fn critical_header_extension_is_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    for crit in [json!(["exp"]), json!([]), json!(null)] {
        let header = json!({"alg": "RS256", "kid": "RSA_1", "crit": crit, "exp": 1});
        let token = issuer.sign_with_header(Algorithm::Rs256, &header, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::CriticalHeader),
            "{crit}: {error:?}"
        );
        assert_eq!(error.reason(), "critical_header");
    }
}

#[tokio::test]
async fn key_location_headers_are_never_followed() {
    let issuer = issuer().await;
    let elsewhere = support::issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    let elsewhere_jwks = format!("{}/.well-known/jwks.json", elsewhere.url());
    let header = json!({
        "alg": "RS256",
        "kid": "RSA_1",
        "jku": elsewhere_jwks,
        "x5u": elsewhere_jwks,
        "jwk": elsewhere.jwks()["keys"][0],
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    });

    let honest = issuer.sign_with_header(Algorithm::Rs256, &header, &claims);
    verifier.verify(&honest).await.unwrap();

    // Signed by the key the header embeds: it must still be checked against the issuer's key.
    let forged = elsewhere.sign_with_header(Algorithm::Rs256, &header, &claims);
    let error = rejection(&verifier, &forged).await;

    assert!(matches!(error, VerifyError::BadSignature), "{error:?}");
    assert_eq!(elsewhere.jwks_fetches() + elsewhere.discovery_fetches(), 0);
}

#[tokio::test]
async fn untrusted_issuer_is_rejected_without_any_fetch() {
    let trusted = issuer().await;
    let untrusted = support::issuer().await;
    let verifier = verifier(config(&trusted));
    let near_misses = [
        json!(untrusted.url()),
        json!(format!("{}/", trusted.url())),
        json!(trusted.url().to_uppercase()),
        json!(format!(" {}", trusted.url())),
        json!([trusted.url()]),
        json!(7),
        Value::Null,
    ];

    for iss in near_misses {
        let claims = with_claim(claims(&untrusted, Algorithm::Rs256), "iss", iss.clone());
        let token = untrusted.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::UntrustedIssuer),
            "{iss}: {error:?}"
        );
        assert_eq!(error.reason(), "untrusted_issuer");
    }
    let fetches = |issuer: &local_stack::issuer::LocalIssuer| {
        issuer.jwks_fetches() + issuer.discovery_fetches()
    };
    assert_eq!((fetches(&trusted), fetches(&untrusted)), (0, 0));
}

#[tokio::test]
async fn key_id_the_issuer_does_not_publish_is_unknown() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let header = json!({"alg": "RS256", "kid": "RSA_99", "typ": "JWT"});
    let token = issuer.sign_with_header(
        Algorithm::Rs256,
        &header,
        &claims(&issuer, Algorithm::Rs256),
    );

    let error = rejection(&verifier, &token).await;

    assert!(
        matches!(&error, VerifyError::UnknownKey { kid } if kid == "RSA_99"),
        "{error:?}"
    );
    assert_eq!(error.reason(), "unknown_key");
}

#[tokio::test]
async fn header_algorithm_must_match_the_named_key() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = claims(&issuer, Algorithm::Rs256);
    let cases = [
        (json!({"alg": "ES384", "kid": "RSA_1"}), Algorithm::Es384),
        (json!({"alg": "RS256", "kid": "EC384_1"}), Algorithm::Rs256),
    ];

    for (header, signer) in cases {
        let token = issuer.sign_with_header(signer, &header, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::AlgorithmMismatch),
            "{header}: {error:?}"
        );
        assert_eq!(error.reason(), "algorithm_mismatch");
    }
}

#[tokio::test]
async fn signature_by_another_key_with_the_same_id_is_bad() {
    let issuer = issuer().await;
    let impostor = support::issuer().await;
    let verifier = verifier(config(&issuer));

    for algorithm in [Algorithm::Rs256, Algorithm::Es384] {
        // Same kid names (RSA_1, EC384_1), same iss, but the impostor's keys.
        let token = impostor.sign(algorithm, &claims(&issuer, algorithm));

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::BadSignature),
            "{algorithm}: {error:?}"
        );
        assert_eq!(error.reason(), "bad_signature");
    }
}

#[tokio::test]
async fn tampered_payload_or_signature_is_bad() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for algorithm in [Algorithm::Rs256, Algorithm::Es384] {
        let [header, _, signature] = segments(&token(&issuer, algorithm));
        let elevated = json!({"sub": "arn:aws:iam::111122223333:role/admin"});
        let tampered_claims =
            with_claim(claims(&issuer, algorithm), "sub", elevated["sub"].clone());
        let tampered = format!(
            "{header}.{}.{signature}",
            encode(tampered_claims.to_string())
        );
        let [header, payload, signature] = segments(&token(&issuer, algorithm));
        let mut short = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        short.truncate(short.len() - 3);
        let truncated = format!("{header}.{payload}.{}", encode(short));

        for token in [tampered, truncated] {
            let error = rejection(&verifier, &token).await;
            assert!(
                matches!(error, VerifyError::BadSignature),
                "{algorithm}: {error:?}"
            );
        }
    }
}

#[tokio::test]
async fn audience_not_allowed_is_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for aud in [
        json!("https://other.example"),
        json!(["a", "b"]),
        json!(format!("{AUDIENCE}/")),
    ] {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "aud", aud.clone());
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::AudienceNotAllowed),
            "{aud}: {error:?}"
        );
        assert_eq!(error.reason(), "audience_not_allowed");
    }
}

#[tokio::test]
async fn missing_or_mistyped_audience_is_an_invalid_claim() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for aud in [
        Value::Null,
        json!([]),
        json!(7),
        json!([AUDIENCE, 7]),
        json!({"aud": AUDIENCE}),
    ] {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "aud", aud.clone());
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::InvalidClaim("aud")),
            "{aud}: {error:?}"
        );
        assert_eq!(error.reason(), "invalid_claim");
    }
}

#[tokio::test]
async fn expired_token_is_rejected_beyond_the_leeway() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let signed = |exp: i64| {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "iat", json!(now() - 600));
        issuer.sign(Algorithm::Rs256, &with_claim(claims, "exp", json!(exp)))
    };

    let error = rejection(&verifier, &signed(now() - 31)).await;
    assert!(matches!(error, VerifyError::Expired), "{error:?}");
    assert_eq!(error.reason(), "token_expired");

    verifier.verify(&signed(now() - 20)).await.unwrap();
}

#[tokio::test]
async fn missing_or_mistyped_times_are_invalid_claims() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let cases = [
        ("exp", Value::Null),
        ("exp", json!("2030-01-01T00:00:00Z")),
        ("exp", json!(-5)),
        ("iat", Value::Null),
        ("iat", json!(true)),
        ("nbf", json!("yesterday")),
    ];

    for (name, value) in cases {
        let claims = with_claim(claims(&issuer, Algorithm::Es384), name, value.clone());
        let token = issuer.sign(Algorithm::Es384, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(&error, VerifyError::InvalidClaim(claim) if *claim == name),
            "{name}={value}: {error:?}"
        );
    }
}

#[tokio::test]
async fn fractional_times_are_accepted_as_numeric_dates() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = with_claim(
        claims(&issuer, Algorithm::Rs256),
        "iat",
        json!(now() as f64 - 0.5),
    );
    let claims = with_claim(claims, "exp", json!(now() as f64 + 300.25));

    let caller = verifier
        .verify(&issuer.sign(Algorithm::Rs256, &claims))
        .await
        .unwrap();

    assert!(caller.expires_at() > caller.issued_at());
}

#[tokio::test]
async fn token_issued_in_the_future_is_rejected_beyond_the_leeway() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let signed = |iat: i64| {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "iat", json!(iat));
        issuer.sign(
            Algorithm::Rs256,
            &with_claim(claims, "exp", json!(iat + 300)),
        )
    };

    let error = rejection(&verifier, &signed(now() + 60)).await;
    assert!(matches!(error, VerifyError::IssuedInFuture), "{error:?}");
    assert_eq!(error.reason(), "issued_in_future");

    verifier.verify(&signed(now() + 20)).await.unwrap();
}

#[tokio::test]
async fn token_older_than_the_maximum_age_is_rejected_even_before_exp() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.max_token_age = std::time::Duration::from_secs(600);
    let verifier = verifier(config);
    let signed = |iat: i64| {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "iat", json!(iat));
        issuer.sign(
            Algorithm::Rs256,
            &with_claim(claims, "exp", json!(now() + 3600)),
        )
    };

    let error = rejection(&verifier, &signed(now() - 600 - 31)).await;
    assert!(matches!(error, VerifyError::TooOld), "{error:?}");
    assert_eq!(error.reason(), "token_too_old");

    verifier.verify(&signed(now() - 600)).await.unwrap();
}

#[tokio::test]
async fn not_before_in_the_future_is_rejected_and_in_the_past_honoured() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let signed = |nbf: i64| {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "nbf", json!(nbf));
        issuer.sign(Algorithm::Rs256, &claims)
    };

    let error = rejection(&verifier, &signed(now() + 120)).await;
    assert!(matches!(error, VerifyError::NotYetValid), "{error:?}");
    assert_eq!(error.reason(), "token_not_yet_valid");

    verifier.verify(&signed(now() - 5)).await.unwrap();
    verifier.verify(&signed(now() + 10)).await.unwrap();
}

#[tokio::test]
async fn subject_that_is_not_a_role_arn_is_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let cases = [
        (
            "arn:aws:sts::111122223333:assumed-role/caller-fn/session",
            RoleArnError::NotIam,
        ),
        (
            "arn:aws:iam::111122223333:user/alice",
            RoleArnError::NotARole,
        ),
        ("AROAEXAMPLEID:session", RoleArnError::NotAnArn),
        ("arn:aws:iam::111122223333:role/", RoleArnError::InvalidName),
    ];

    for (sub, reason) in cases {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "sub", json!(sub));
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(&error, VerifyError::SubjectNotARole(found) if *found == reason),
            "{sub}: {error:?}"
        );
        assert_eq!(error.reason(), "subject_not_a_role");
    }
}

#[tokio::test]
async fn missing_or_mistyped_subject_is_an_invalid_claim() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for sub in [Value::Null, json!(111_122_223_333_u64), json!([ROLE_ARN])] {
        let claims = with_claim(claims(&issuer, Algorithm::Rs256), "sub", sub.clone());
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::InvalidClaim("sub")),
            "{sub}: {error:?}"
        );
    }
}

#[tokio::test]
async fn missing_aws_claims_object_is_an_invalid_claim() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for aws in [
        Value::Null,
        json!("111122223333"),
        json!([{"aws_account": ACCOUNT}]),
    ] {
        let claims = with_claim(
            claims(&issuer, Algorithm::Rs256),
            AWS_CLAIMS_KEY,
            aws.clone(),
        );
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::InvalidClaim(AWS_CLAIMS_KEY)),
            "{aws}: {error:?}"
        );
    }
}

#[tokio::test]
async fn aws_account_other_than_the_roles_account_is_rejected() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    for account in [
        json!("444455556666"),
        Value::Null,
        json!(111_122_223_333_u64 + 1),
    ] {
        let claims = with_aws_claim(
            claims(&issuer, Algorithm::Rs256),
            "aws_account",
            account.clone(),
        );
        let token = issuer.sign(Algorithm::Rs256, &claims);

        let error = rejection(&verifier, &token).await;

        assert!(
            matches!(error, VerifyError::AccountMismatch),
            "{account}: {error:?}"
        );
        assert_eq!(error.reason(), "account_mismatch");
    }
}

#[tokio::test]
async fn mistyped_token_id_is_an_invalid_claim() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = with_claim(claims(&issuer, Algorithm::Rs256), "jti", json!(42));

    let error = rejection(&verifier, &issuer.sign(Algorithm::Rs256, &claims)).await;

    assert!(
        matches!(error, VerifyError::InvalidClaim("jti")),
        "{error:?}"
    );
}

#[tokio::test]
async fn signature_is_checked_before_any_claim() {
    let issuer = issuer().await;
    let impostor = support::issuer().await;
    let verifier = verifier(config(&issuer));
    // Expired, wrong audience and a user ARN: the forged signature is still the first failure.
    let claims = with_claim(claims(&issuer, Algorithm::Rs256), "exp", json!(1));
    let claims = with_claim(claims, "aud", json!("https://other.example"));
    let claims = with_claim(claims, "sub", json!("arn:aws:iam::111122223333:user/alice"));

    let error = rejection(&verifier, &impostor.sign(Algorithm::Rs256, &claims)).await;

    assert!(matches!(error, VerifyError::BadSignature), "{error:?}");
}

#[tokio::test]
async fn header_is_checked_before_the_issuer() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let claims = with_claim(
        claims(&issuer, Algorithm::Rs256),
        "iss",
        json!("https://evil.example"),
    );
    let header = json!({"alg": "HS256", "kid": "RSA_1"});

    let error = rejection(
        &verifier,
        &issuer.sign_with_header(Algorithm::Rs256, &header, &claims),
    )
    .await;

    assert!(
        matches!(error, VerifyError::AlgorithmNotAllowed(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn one_verifier_trusts_several_issuers() {
    let first = issuer().await;
    let second = support::issuer().await;
    let mut config = config(&first);
    config.issuers.push(second.url().to_owned());
    let verifier = verifier(config);

    let from_first = verifier
        .verify(&token(&first, Algorithm::Rs256))
        .await
        .unwrap();
    let from_second = verifier
        .verify(&token(&second, Algorithm::Es384))
        .await
        .unwrap();

    assert_eq!(
        (from_first.issuer(), from_second.issuer()),
        (first.url(), second.url())
    );
}
