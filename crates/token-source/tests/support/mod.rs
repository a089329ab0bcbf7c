//! A local issuer and STS, and SDK configuration that reaches that STS through the SDK's own
//! endpoint override, exactly as `AWS_ENDPOINT_URL_STS` would.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::time::Duration;

use aws_config::SdkConfig;
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
    local_stack::sts::sdk_config_loader(endpoint, "eu-west-1", access_key_id, SECRET_ACCESS_KEY)
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
    issuer
        .claims_of(token, AUDIENCE)
        .expect("the token verifies against the published keys")
}
