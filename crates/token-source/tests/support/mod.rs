//! A local issuer and STS, and SDK configuration that reaches that STS through the SDK's own
//! endpoint override, exactly as `AWS_ENDPOINT_URL_STS` would.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use local_stack::issuer::{Identity, LocalIssuer};
use local_stack::sts::{LocalSts, Principal, StsConfig};
use serde_json::Value;
use token_source::{TokenSource, TokenSourceBuilder};

pub const ACCOUNT: &str = "111122223333";
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/caller";
pub const AUDIENCE: &str = "https://orders.example.com";
/// Test-only key pair in the shape of real ones; it has never existed in AWS.
pub const ACCESS_KEY_ID: &str = "AKIALOCALTOKENSOURCE";
pub const SECRET_ACCESS_KEY: &str = "local/TokenSourceTestOnlySecret+0000000";

pub struct Stack {
    pub issuer: LocalIssuer,
    pub sts: LocalSts,
}

pub fn principal() -> Principal {
    let identity = Identity {
        role_arn: ROLE_ARN.into(),
        account: ACCOUNT.into(),
        source_region: "eu-west-1".into(),
        ..Identity::default()
    };
    Principal::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, identity)
}

pub async fn stack_with(principal: Principal) -> Stack {
    let issuer = LocalIssuer::start()
        .await
        .expect("the local issuer binds a loopback port");
    let sts = LocalSts::start(issuer.clone(), StsConfig::new(vec![principal]))
        .await
        .expect("the local sts binds a loopback port");
    Stack { issuer, sts }
}

pub async fn stack() -> Stack {
    stack_with(principal()).await
}

pub async fn sdk_config_for(endpoint: &str, access_key_id: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            access_key_id,
            SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await
}

/// A builder for `AUDIENCE` with fast retries, so retry tests take milliseconds.
pub async fn builder(stack: &Stack) -> TokenSourceBuilder {
    let config = sdk_config_for(stack.sts.url(), ACCESS_KEY_ID).await;
    TokenSource::builder(&config)
        .audience(AUDIENCE)
        .backoff(Duration::from_millis(1), Duration::from_millis(20))
}

pub async fn source(stack: &Stack) -> TokenSource {
    builder(stack)
        .await
        .build()
        .expect("the test settings are valid")
}

/// Verifies `token` against the issuer's published keys and returns its claims.
pub fn verify(issuer: &LocalIssuer, token: &str) -> Value {
    let header = decode_header(token).expect("the token has a JOSE header");
    let kid = header.kid.clone().expect("the token header names its key");
    let jwks = issuer.jwks();
    let jwk = jwks["keys"]
        .as_array()
        .expect("the key set has a keys array")
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the signing key is published");
    let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("the published key is a JWK");
    let key = DecodingKey::from_jwk(&jwk).expect("the published key is usable");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[issuer.url()]);
    decode::<Value>(token, &key, &validation)
        .expect("the token verifies")
        .claims
}
