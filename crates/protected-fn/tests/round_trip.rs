//! The context the authorizer writes reaches the handler as the same typed caller: a real token
//! from a local issuer, verified by the authorizer, carried in a proxy event the way API Gateway
//! carries it, read back by the handler.

mod support;

use std::time::SystemTime;

use authorizer::{HttpApiResponse, Rules, Settings};
use local_stack::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};
use serde_json::{Value, json};
use sts_verifier::{Verifier, VerifierConfig};
use support::{call, http_event, rest_event};

const AUDIENCE: &str = "https://orders.example.com";
const ROLE: &str = "arn:aws:iam::111122223333:role/service/caller-fn";
const RULES: &str = r#"{"rules": [
  {"name": "readers", "routes": ["GET /whoami"], "callers": {"accounts": ["111122223333"]}},
  {"name": "batch", "routes": ["POST /orders"], "callers": {"request_tags": {"purpose": ["batch"]}},
   "trust_request_tags": true}
]}"#;

struct Setup {
    issuer: LocalIssuer,
    verifier: Verifier,
    rules: Rules,
    token: String,
}

#[allow(
    clippy::unwrap_used,
    reason = "test helper: a panic fails the calling test"
)]
async fn setup(algorithm: Algorithm) -> Setup {
    let issuer = LocalIssuer::start().await.unwrap();
    let mut config = VerifierConfig::new([issuer.url()], [AUDIENCE]);
    config.allow_loopback_issuers = true;
    let verifier = Verifier::new(config).unwrap();
    let rules = Rules::parse(RULES, "ACCESS_RULES").unwrap();
    let identity = Identity {
        role_arn: ROLE.to_owned(),
        account: "111122223333".to_owned(),
        org_id: Some("o-a1b2c3d4e5".to_owned()),
        principal_tags: [
            ("team".to_owned(), "payments".to_owned()),
            ("cost-centre".to_owned(), "4711 ✓".to_owned()),
        ]
        .into(),
        source_region: "eu-west-1".to_owned(),
        lambda_source_function_arn: Some(
            "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn".to_owned(),
        ),
        ..Identity::default()
    };
    let request = MintRequest {
        audiences: vec![AUDIENCE.to_owned()],
        algorithm,
        request_tags: [("purpose".to_owned(), "batch".to_owned())].into(),
        ..MintRequest::default()
    };
    let mut claims = issuer.claims(&identity, &request, SystemTime::now());
    claims["jti"] = json!("jti-round-trip");
    let token = issuer.sign(algorithm, &claims);
    Setup {
        issuer,
        verifier,
        rules,
        token,
    }
}

/// An authorizer event of the authorizer crate's fixtures, pointed at `method path`.
#[allow(
    clippy::unwrap_used,
    reason = "test helper: a panic fails the calling test"
)]
fn authorizer_event(
    fixture: &str,
    arn_field: &str,
    method: &str,
    path: &str,
    token: &str,
) -> Value {
    let file = format!(
        "{}/../authorizer/tests/fixtures/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let base = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123";
    let stage = if arn_field == "routeArn" {
        "$default"
    } else {
        "prod"
    };
    event[arn_field] = json!(format!("{base}/{stage}/{method}{path}"));
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    event
}

fn expected_whoami(setup: &Setup, key_id: &str) -> Value {
    json!({
        "roleArn": ROLE,
        "account": "111122223333",
        "partition": "aws",
        "roleName": "caller-fn",
        "issuer": setup.issuer.url(),
        "audience": AUDIENCE,
        "jti": "jti-round-trip",
        "orgId": "o-a1b2c3d4e5",
        "sourceRegion": "eu-west-1",
        "sourceFunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn",
        "principalTags": {"cost-centre": "4711 ✓", "team": "payments"},
        "requestTags": {"purpose": "batch"},
        "rule": "readers,batch",
        "keyId": key_id
    })
}

#[tokio::test]
async fn rest_authorizer_context_reaches_the_handler_as_the_same_caller() {
    let setup = setup(Algorithm::Rs256).await;
    let event = authorizer_event(
        "rest-request.json",
        "methodArn",
        "GET",
        "/whoami",
        &setup.token,
    );
    let answer = authorizer::handle(&setup.verifier, &setup.rules, &Settings::default(), event)
        .await
        .unwrap();
    assert_eq!(answer["principalId"], json!(ROLE));

    // API Gateway hands REST backends the context beside principalId and integrationLatency.
    let proxy = rest_event("GET", "/whoami", Some(answer["context"].clone()), None);
    let (status, body, _) = call(&proxy).await;
    assert_eq!((status, body), (200, expected_whoami(&setup, "RSA_1")));
}

#[tokio::test]
async fn http_api_simple_context_reaches_the_handler_as_the_same_caller() {
    let setup = setup(Algorithm::Es384).await;
    let event = authorizer_event(
        "http-v2-request.json",
        "routeArn",
        "POST",
        "/orders",
        &setup.token,
    );
    let settings = Settings::default().with_http_api_response(HttpApiResponse::Simple);
    let answer = authorizer::handle(&setup.verifier, &setup.rules, &settings, event)
        .await
        .unwrap();
    assert_eq!(answer["isAuthorized"], json!(true));

    let proxy = http_event("GET", "/whoami", Some(answer["context"].clone()), None);
    let (status, body, _) = call(&proxy).await;
    assert_eq!((status, body), (200, expected_whoami(&setup, "EC384_1")));

    let order = http_event(
        "POST",
        "/orders",
        Some(answer["context"].clone()),
        Some(r#"{"item":"w","quantity":1}"#),
    );
    let (status, body, _) = call(&order).await;
    assert_eq!((status, &body["orderedBy"]), (201, &json!(ROLE)));
}
