//! Which keys of a published key set are used, and which are skipped, with hostile and odd sets
//! served by a real issuer on loopback.
#![allow(
    clippy::unwrap_used,
    reason = "helpers here panic on broken fixtures, as the tests do"
)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_stack::issuer::{Algorithm, LocalIssuer};
use serde_json::{Value, json};
use sts_verifier::keys::FetchError;
use sts_verifier::{VerifiedCaller, VerifyError};
use support::*;

/// Serves `jwks` as the issuer's key set and verifies a fresh token of `algorithm` against it
/// with a cold verifier.
async fn verify_against(
    issuer: &LocalIssuer,
    jwks: &Value,
    algorithm: Algorithm,
) -> Result<VerifiedCaller, VerifyError> {
    issuer.set_jwks_override(Some(jwks.to_string()));
    verifier(config(issuer))
        .verify(&token(issuer, algorithm))
        .await
}

/// The issuer's real key of `kty`, as published.
fn real_key(issuer: &LocalIssuer, kty: &str) -> Value {
    let jwks = issuer.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    keys.iter().find(|key| key["kty"] == kty).unwrap().clone()
}

fn key_set(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

fn assert_unknown_key(result: Result<VerifiedCaller, VerifyError>) {
    match result {
        Err(VerifyError::UnknownKey { .. }) => {}
        other => panic!("expected unknown_key, got {other:?}"),
    }
}

fn fetch_error(result: Result<VerifiedCaller, VerifyError>) -> FetchError {
    match result {
        Err(VerifyError::KeysUnavailable { source, .. }) => source,
        other => panic!("expected keys_unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn published_set_has_an_rsa_key_without_alg_that_verifies_rs256() {
    let issuer = issuer().await;
    let rsa = real_key(&issuer, "RSA");
    assert!(rsa.get("alg").is_none());

    let caller = verify_against(&issuer, &key_set(&[rsa]), Algorithm::Rs256)
        .await
        .unwrap();

    assert_eq!(caller.key_id(), "RSA_1");
}

#[tokio::test]
async fn rsa_key_with_explicit_rs256_verifies() {
    let issuer = issuer().await;
    let mut rsa = real_key(&issuer, "RSA");
    rsa["alg"] = json!("RS256");

    verify_against(&issuer, &key_set(&[rsa]), Algorithm::Rs256)
        .await
        .unwrap();
}

#[tokio::test]
async fn rsa_key_naming_another_algorithm_is_ignored() {
    let issuer = issuer().await;
    for alg in ["RS512", "PS256", "RSA-OAEP", "none"] {
        let mut rsa = real_key(&issuer, "RSA");
        rsa["alg"] = json!(alg);
        let jwks = key_set(&[rsa, real_key(&issuer, "EC")]);

        assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Rs256).await);
        verify_against(&issuer, &jwks, Algorithm::Es384)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn ec_key_on_another_curve_or_for_another_algorithm_is_ignored() {
    let issuer = issuer().await;
    let edits = [
        ("crv", json!("P-256")),
        ("crv", json!("P-521")),
        ("alg", json!("ES256")),
    ];
    for (member, value) in edits {
        let mut ec = real_key(&issuer, "EC");
        ec[member] = value;
        let jwks = key_set(&[real_key(&issuer, "RSA"), ec]);

        assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Es384).await);
    }
}

#[tokio::test]
async fn keys_not_meant_for_verifying_signatures_are_ignored() {
    let issuer = issuer().await;
    let edits = [
        ("use", json!("enc")),
        ("key_ops", json!(["encrypt"])),
        ("key_ops", json!("verify")),
    ];
    for (member, value) in edits {
        let mut rsa = real_key(&issuer, "RSA");
        rsa[member] = value;
        let jwks = key_set(&[rsa, real_key(&issuer, "EC")]);

        assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Rs256).await);
    }

    let mut rsa = real_key(&issuer, "RSA");
    rsa["key_ops"] = json!(["verify"]);
    verify_against(&issuer, &key_set(&[rsa]), Algorithm::Rs256)
        .await
        .unwrap();
}

#[tokio::test]
async fn key_id_claimed_by_two_keys_is_not_trusted_for_either() {
    let issuer = issuer().await;
    let impostor = support::issuer().await;
    // The impostor's RSA key is published under the same kid, after the real one.
    let jwks = key_set(&[
        real_key(&issuer, "RSA"),
        real_key(&impostor, "RSA"),
        real_key(&issuer, "EC"),
    ]);

    assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Rs256).await);
    verify_against(&issuer, &jwks, Algorithm::Es384)
        .await
        .unwrap();
}

#[tokio::test]
async fn key_set_without_any_usable_key_leaves_keys_unavailable() {
    let issuer = issuer().await;
    let unusable = key_set(&[
        json!({"kty": "oct", "kid": "RSA_1", "k": "c2VjcmV0"}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ED_1", "x": "AAAAAAAAAAAAAAAAAAAAAA"}),
        json!({"kty": "EC", "crv": "P-256", "kid": "EC384_1", "x": "AAAA", "y": "AAAA"}),
    ]);

    let source = fetch_error(verify_against(&issuer, &unusable, Algorithm::Rs256).await);

    assert!(matches!(source, FetchError::NoUsableKeys), "{source:?}");
}

#[tokio::test]
async fn body_that_is_not_a_key_set_leaves_keys_unavailable() {
    let issuer = issuer().await;
    let bodies = [
        "not json",
        "[]",
        r#"{"keys": "RSA_1"}"#,
        r#"{"key": []}"#,
        "null",
    ];
    for body in bodies {
        issuer.set_jwks_override(Some(body.to_owned()));
        let result = verifier(config(&issuer))
            .verify(&token(&issuer, Algorithm::Rs256))
            .await;

        let source = fetch_error(result);

        assert!(
            matches!(source, FetchError::InvalidKeySet(_)),
            "{body}: {source:?}"
        );
    }
}

#[tokio::test]
async fn key_set_with_too_many_entries_is_rejected() {
    let issuer = issuer().await;
    let filler = json!({"kty": "oct", "kid": "x", "k": "AA"});
    let mut keys = vec![filler; 100];
    keys.push(real_key(&issuer, "RSA"));

    let source = fetch_error(verify_against(&issuer, &key_set(&keys), Algorithm::Rs256).await);

    assert!(matches!(source, FetchError::InvalidKeySet(_)), "{source:?}");
}

#[tokio::test]
async fn malformed_entries_are_skipped_and_good_ones_kept() {
    let issuer = issuer().await;
    let jwks = key_set(&[
        json!(42),
        json!("RSA_1"),
        json!({"kty": "RSA"}),
        json!({"kty": "RSA", "kid": "RSA_7", "n": "!!!", "e": "AQAB"}),
        json!({"kty": "RSA", "kid": "RSA_8", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "EC", "crv": "P-384", "kid": "EC384_7", "x": "AQAB", "y": "AQAB"}),
        json!({"kty": 7, "kid": "RSA_9"}),
        real_key(&issuer, "RSA"),
        real_key(&issuer, "EC"),
    ]);

    verify_against(&issuer, &jwks, Algorithm::Rs256)
        .await
        .unwrap();
    verify_against(&issuer, &jwks, Algorithm::Es384)
        .await
        .unwrap();
}

#[tokio::test]
async fn rsa_key_below_2048_bits_is_ignored() {
    let issuer = issuer().await;
    let mut rsa = real_key(&issuer, "RSA");
    let modulus = URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap();
    // The top 1024 bits of a real modulus: odd-looking enough, and too short.
    rsa["n"] = json!(URL_SAFE_NO_PAD.encode(&modulus[..128]));

    let jwks = key_set(&[rsa, real_key(&issuer, "EC")]);

    assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Rs256).await);
}

#[tokio::test]
async fn ec_point_not_on_the_curve_is_ignored() {
    let issuer = issuer().await;
    let mut ec = real_key(&issuer, "EC");
    let mut y = URL_SAFE_NO_PAD.decode(ec["y"].as_str().unwrap()).unwrap();
    y[47] ^= 1;
    ec["y"] = json!(URL_SAFE_NO_PAD.encode(&y));

    let jwks = key_set(&[real_key(&issuer, "RSA"), ec]);

    assert_unknown_key(verify_against(&issuer, &jwks, Algorithm::Es384).await);
}

#[tokio::test]
async fn rsa_modulus_with_a_leading_zero_byte_still_verifies() {
    let issuer = issuer().await;
    let mut rsa = real_key(&issuer, "RSA");
    let mut modulus = vec![0];
    modulus.extend(URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap());
    rsa["n"] = json!(URL_SAFE_NO_PAD.encode(&modulus));

    verify_against(&issuer, &key_set(&[rsa]), Algorithm::Rs256)
        .await
        .unwrap();
}

#[tokio::test]
async fn algorithm_disallowed_by_configuration_drops_its_keys() {
    let issuer = issuer().await;
    let mut config = config(&issuer);
    config.algorithms = vec![sts_verifier::SigningAlgorithm::Rs256];
    issuer.set_jwks_override(Some(key_set(&[real_key(&issuer, "EC")]).to_string()));

    let result = verifier(config)
        .verify(&token(&issuer, Algorithm::Rs256))
        .await;

    assert!(matches!(fetch_error(result), FetchError::NoUsableKeys));
}
