//! The local issuer's HTTP face: the discovery document and key set in STS's shapes, and the
//! switches tests use to make it misbehave.
#![allow(
    clippy::unwrap_used,
    reason = "helpers here panic on broken fixtures, as the tests do"
)]

use std::time::{Duration, Instant};

use local_stack::issuer::LocalIssuer;
use serde_json::{Value, json};

async fn issuer() -> LocalIssuer {
    LocalIssuer::start()
        .await
        .expect("a loopback port must be free for the test issuer")
}

async fn get(url: &str) -> (u16, Option<String>, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, content_type, response.text().await.unwrap())
}

fn discovery_url(issuer: &LocalIssuer) -> String {
    format!("{}/.well-known/openid-configuration", issuer.url())
}

fn jwks_url(issuer: &LocalIssuer) -> String {
    format!("{}/.well-known/jwks.json", issuer.url())
}

#[tokio::test]
async fn issuer_url_is_loopback_http_without_trailing_slash() {
    let issuer = issuer().await;

    let port = issuer.url().strip_prefix("http://127.0.0.1:").unwrap();

    assert!(port.parse::<u16>().unwrap() > 0);
}

#[tokio::test]
async fn discovery_document_has_only_the_members_sts_publishes() {
    let issuer = issuer().await;

    let (status, content_type, body) = get(&discovery_url(&issuer)).await;

    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        document,
        json!({
            "issuer": issuer.url(),
            "jwks_uri": jwks_url(&issuer),
            "claims_supported":
                ["aud", "exp", "iat", "iss", "jti", "sub", "https://sts.amazonaws.com/"],
            "id_token_signing_alg_values_supported": ["RS256", "ES384"],
            "subject_types_supported": ["public"],
        })
    );
    assert_eq!(issuer.discovery_fetches(), 1);
}

#[tokio::test]
async fn key_set_has_an_rsa_key_without_alg_and_a_p384_key() {
    let issuer = issuer().await;

    let (status, _, body) = get(&jwks_url(&issuer)).await;

    assert_eq!(status, 200);
    let jwks: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(jwks, issuer.jwks());
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let (rsa, ec) = (&keys[0], &keys[1]);
    let mut rsa_members: Vec<&str> = rsa
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    rsa_members.sort_unstable();
    assert_eq!(rsa_members, ["e", "kid", "kty", "n", "use"]);
    assert_eq!(
        (&rsa["kty"], &rsa["kid"], &rsa["use"], &rsa["e"]),
        (
            &json!("RSA"),
            &json!("RSA_1"),
            &json!("sig"),
            &json!("AQAB")
        )
    );
    // A 2048-bit modulus is 256 bytes: 342 base64url characters without padding.
    assert_eq!(rsa["n"].as_str().unwrap().len(), 342);
    assert_eq!(ec["kty"], "EC");
    assert_eq!(ec["crv"], "P-384");
    assert_eq!(ec["alg"], "ES384");
    assert_eq!(ec["use"], "sig");
    assert_eq!(ec["kid"], "EC384_1");
    assert_eq!(ec["x"].as_str().unwrap().len(), 64);
    assert_eq!(ec["y"].as_str().unwrap().len(), 64);
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn rotation_publishes_new_keys_beside_the_old_until_retired() {
    let issuer = issuer().await;

    issuer.rotate();
    assert_eq!(
        issuer.current_key_ids(),
        ("RSA_2".to_owned(), "EC384_2".to_owned())
    );
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kids(issuer.jwks()),
        ["RSA_1", "RSA_2", "EC384_1", "EC384_2"]
    );

    issuer.retire_previous();
    assert_eq!(kids(issuer.jwks()), ["RSA_2", "EC384_2"]);
    issuer.rotate();
    assert_eq!(
        issuer.current_key_ids(),
        ("RSA_3".to_owned(), "EC384_3".to_owned())
    );
}

#[tokio::test]
async fn unavailable_issuer_answers_503_and_counts_the_request() {
    let issuer = issuer().await;
    issuer.set_available(false);

    assert_eq!(get(&discovery_url(&issuer)).await.0, 503);
    assert_eq!(get(&jwks_url(&issuer)).await.0, 503);
    assert_eq!((issuer.discovery_fetches(), issuer.jwks_fetches()), (1, 1));

    issuer.set_available(true);
    assert_eq!(get(&jwks_url(&issuer)).await.0, 200);
}

#[tokio::test]
async fn delay_slows_every_answer() {
    let issuer = issuer().await;
    issuer.set_delay(Duration::from_millis(150));

    let started = Instant::now();
    let (status, _, _) = get(&jwks_url(&issuer)).await;

    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn overrides_serve_bodies_verbatim_until_cleared() {
    let issuer = issuer().await;
    issuer.set_jwks_override(Some("{\"keys\": [".to_owned()));
    issuer.set_discovery_override(Some("not json".to_owned()));

    assert_eq!(get(&jwks_url(&issuer)).await.2, "{\"keys\": [");
    assert_eq!(get(&discovery_url(&issuer)).await.2, "not json");

    issuer.set_jwks_override(None);
    let body = get(&jwks_url(&issuer)).await.2;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), issuer.jwks());
}

#[tokio::test]
async fn unpublished_discovery_document_is_not_found() {
    let issuer = issuer().await;
    issuer.set_discovery_published(false);

    assert_eq!(get(&discovery_url(&issuer)).await.0, 404);
    assert_eq!(get(&jwks_url(&issuer)).await.0, 200);
}

#[tokio::test]
async fn issuer_stops_serving_when_its_last_handle_is_dropped() {
    let issuer = issuer().await;
    let url = jwks_url(&issuer);
    let clone = issuer.clone();
    drop(issuer);
    assert_eq!(get(&url).await.0, 200);

    drop(clone);
    tokio::task::yield_now().await;

    assert!(reqwest::get(&url).await.is_err());
}
