//! Tokens the local issuer mints: STS's header and claim shapes, and signatures that an
//! independent JWT library (jsonwebtoken) accepts with the published keys.
#![allow(
    clippy::unwrap_used,
    reason = "helpers here panic on broken fixtures, as the tests do"
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use local_stack::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};
use serde_json::{Value, json};

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/service/caller-fn";

async fn issuer() -> LocalIssuer {
    LocalIssuer::start()
        .await
        .expect("a loopback port must be free for the test issuer")
}

fn identity() -> Identity {
    Identity {
        role_arn: ROLE_ARN.to_owned(),
        account: "111122223333".to_owned(),
        org_id: Some("o-a1b2c3d4e5".to_owned()),
        ou_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".to_owned()],
        principal_tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        source_region: "eu-west-1".to_owned(),
        lambda_source_function_arn: Some(
            "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn".to_owned(),
        ),
        ..Identity::default()
    }
}

fn request(audiences: &[&str], algorithm: Algorithm) -> MintRequest {
    MintRequest {
        audiences: audiences
            .iter()
            .map(|audience| (*audience).to_owned())
            .collect(),
        algorithm,
        ..MintRequest::default()
    }
}

fn decode_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// Verifies `token` with jsonwebtoken and the issuer's published keys, after checking that its
/// header names `algorithm`.
fn independent_verify(issuer: &LocalIssuer, token: &str, algorithm: Algorithm) -> Value {
    let expected = match algorithm {
        Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::Es384 => jsonwebtoken::Algorithm::ES384,
    };
    assert_eq!(jsonwebtoken::decode_header(token).unwrap().alg, expected);
    issuer.claims_of(token, "https://orders.example").unwrap()
}

#[tokio::test]
async fn minted_tokens_verify_with_an_independent_library() {
    let issuer = issuer().await;
    for algorithm in [Algorithm::Rs256, Algorithm::Es384] {
        let minted = issuer.mint(
            &identity(),
            &request(&["https://orders.example"], algorithm),
        );

        let claims = independent_verify(&issuer, &minted.token, algorithm);

        assert_eq!(claims["sub"], ROLE_ARN);
    }
}

#[tokio::test]
async fn header_is_the_one_sts_writes() {
    let issuer = issuer().await;
    let rsa = issuer
        .mint(&identity(), &request(&["a"], Algorithm::Rs256))
        .token;
    let ec = issuer
        .mint(&identity(), &request(&["a"], Algorithm::Es384))
        .token;

    let raw_header = URL_SAFE_NO_PAD
        .decode(rsa.split('.').next().unwrap())
        .unwrap();

    assert_eq!(
        String::from_utf8(raw_header).unwrap(),
        r#"{"kid":"RSA_1","typ":"JWT","alg":"RS256"}"#
    );
    assert_eq!(
        decode_segment(&ec, 0),
        json!({"kid": "EC384_1", "typ": "JWT", "alg": "ES384"})
    );
    // ES384 signatures are JOSE's fixed r || s, 96 bytes.
    let signature = URL_SAFE_NO_PAD
        .decode(ec.split('.').nth(2).unwrap())
        .unwrap();
    assert_eq!(signature.len(), 96);
}

#[tokio::test]
async fn claims_have_the_sts_shape() {
    let issuer = issuer().await;
    let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let mut request = request(&["https://orders.example"], Algorithm::Rs256);
    request.duration = Duration::from_secs(900);

    let claims = issuer.claims(&identity(), &request, now);

    let jti = claims["jti"].as_str().unwrap().to_owned();
    assert_eq!(jti.len(), 36);
    assert_eq!(
        claims,
        json!({
            "iss": issuer.url(),
            "aud": "https://orders.example",
            "sub": ROLE_ARN,
            "iat": 1_750_000_000_u64,
            "exp": 1_750_000_900_u64,
            "jti": jti,
            "https://sts.amazonaws.com/": {
                "aws_account": "111122223333",
                "source_region": "eu-west-1",
                "principal_id": ROLE_ARN,
                "org_id": "o-a1b2c3d4e5",
                "ou_path": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"],
                "principal_tags": {"team": "payments"},
                "lambda_source_function_arn":
                    "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn",
            },
        })
    );
}

#[tokio::test]
async fn several_audiences_become_an_array_and_request_tags_appear_when_set() {
    let issuer = issuer().await;
    let mut request = request(&["a", "b"], Algorithm::Es384);
    request
        .request_tags
        .insert("purpose".to_owned(), "batch".to_owned());

    let claims = issuer.claims(&Identity::default(), &request, SystemTime::now());

    assert_eq!(claims["aud"], json!(["a", "b"]));
    let aws = &claims["https://sts.amazonaws.com/"];
    assert_eq!(aws["request_tags"], json!({"purpose": "batch"}));
    assert!(aws.get("org_id").is_none() && aws.get("ou_path").is_none());
    assert!(claims.get("nbf").is_none());
}

#[tokio::test]
async fn minted_expiration_matches_the_exp_claim() {
    let issuer = issuer().await;

    let minted = issuer.mint(&identity(), &request(&["a"], Algorithm::Rs256));

    let exp = decode_segment(&minted.token, 1)["exp"].as_u64().unwrap();
    assert_eq!(minted.expiration, UNIX_EPOCH + Duration::from_secs(exp));
    let iat = decode_segment(&minted.token, 1)["iat"].as_u64().unwrap();
    assert_eq!(exp - iat, 300);
}

#[tokio::test]
async fn header_given_to_sign_with_header_is_kept_as_is() {
    let issuer = issuer().await;
    let header = json!({"alg": "none", "jku": "https://evil.example/keys"});

    let token = issuer.sign_with_header(Algorithm::Rs256, &header, &json!({"sub": "x"}));

    assert_eq!(decode_segment(&token, 0), header);
    assert_eq!(decode_segment(&token, 1), json!({"sub": "x"}));
}

#[tokio::test]
async fn rotated_keys_sign_new_tokens() {
    let issuer = issuer().await;
    issuer.rotate();

    let token = issuer
        .mint(
            &identity(),
            &request(&["https://orders.example"], Algorithm::Es384),
        )
        .token;

    assert_eq!(decode_segment(&token, 0)["kid"], "EC384_2");
    independent_verify(&issuer, &token, Algorithm::Es384);
}

#[tokio::test]
async fn minted_token_debug_output_is_redacted() {
    let issuer = issuer().await;

    let minted = issuer.mint(&identity(), &request(&["a"], Algorithm::Rs256));

    let shown = format!("{minted:?}");
    assert!(shown.contains("<redacted>"));
    assert!(!shown.contains(minted.token.split('.').nth(2).unwrap()));
}

#[test]
fn algorithm_names_parse_case_sensitively() {
    assert_eq!("RS256".parse::<Algorithm>(), Ok(Algorithm::Rs256));
    assert_eq!("ES384".parse::<Algorithm>(), Ok(Algorithm::Es384));
    let error = "rs256".parse::<Algorithm>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unsupported signing algorithm \"rs256\": expected RS256 or ES384"
    );
    assert_eq!(Algorithm::Es384.to_string(), "ES384");
}

#[test]
fn identity_deserializes_with_defaults_and_rejects_unknown_members() {
    let identity: Identity = serde_json::from_value(json!({
        "role_arn": ROLE_ARN,
        "account": "111122223333",
        "ou_paths": ["o-a/r-b/"],
    }))
    .unwrap();
    assert_eq!(identity.role_arn, ROLE_ARN);
    assert_eq!(identity.ou_paths, ["o-a/r-b/"]);
    assert_eq!(identity.org_id, None);

    let typo = serde_json::from_value::<Identity>(json!({"role": ROLE_ARN}));
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `role`")
    );
}

#[tokio::test]
async fn independent_check_refuses_other_audiences_keys_and_retired_keys() {
    let issuer = issuer().await;
    let elsewhere = LocalIssuer::start().await.unwrap();
    let minted = |issuer: &LocalIssuer| {
        issuer
            .mint(
                &identity(),
                &request(&["https://orders.example"], Algorithm::Es384),
            )
            .token
    };
    let token = minted(&issuer);

    let wrong_audience = issuer
        .claims_of(&token, "https://billing.example")
        .unwrap_err();
    let same_kid_other_key = issuer.claims_of(&minted(&elsewhere), "https://orders.example");
    issuer.rotate();
    issuer.retire_previous();
    let retired = issuer
        .claims_of(&token, "https://orders.example")
        .unwrap_err();

    assert!(
        matches!(wrong_audience.kind(), ErrorKind::InvalidAudience),
        "{wrong_audience:?}"
    );
    assert!(
        matches!(
            same_kid_other_key.as_ref().map_err(|error| error.kind()),
            Err(ErrorKind::InvalidSignature)
        ),
        "{same_kid_other_key:?}"
    );
    assert!(
        matches!(retired.kind(), ErrorKind::InvalidSignature),
        "{retired:?}"
    );
}
