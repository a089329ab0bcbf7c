//! Shared fixtures for the local STS tests: an issuer, an STS with known access keys, SDK clients
//! pointed at it, and a verifier for the tokens it mints.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sts::config::retry::RetryConfig;
use local_stack::issuer::{Identity, LocalIssuer};
use local_stack::sts::{LocalSts, Principal, StsConfig};
use serde_json::Value;

pub const ACCOUNT: &str = "111122223333";
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/service/caller";
pub const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:111122223333:function:caller";
pub const REGION: &str = "eu-west-1";
/// Test-only key pair in the shape of real ones; it has never existed in AWS.
pub const ACCESS_KEY_ID: &str = "AKIALOCALTESTCALLER1";
pub const SECRET_ACCESS_KEY: &str = "local/TestOnlySecretKeyNotUsedAnywhere+00";

pub fn identity() -> Identity {
    Identity {
        role_arn: ROLE_ARN.into(),
        account: ACCOUNT.into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        ou_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".into()],
        principal_tags: BTreeMap::from([("team".into(), "payments".into())]),
        source_region: String::new(),
        lambda_source_function_arn: Some(FUNCTION_ARN.into()),
        ..Identity::default()
    }
}

pub fn principal() -> Principal {
    Principal::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, identity())
}

pub struct Stack {
    pub issuer: LocalIssuer,
    pub sts: LocalSts,
}

pub async fn stack_with(config: StsConfig) -> Stack {
    let issuer = LocalIssuer::start()
        .await
        .expect("the local issuer binds a loopback port");
    let sts = LocalSts::start(issuer.clone(), config)
        .await
        .expect("the local sts binds a loopback port");
    Stack { issuer, sts }
}

pub async fn stack() -> Stack {
    stack_with(StsConfig::new(vec![principal()])).await
}

/// SDK configuration that reaches the local STS through the SDK's own endpoint override.
pub async fn sdk_config(sts: &LocalSts, access_key_id: &str, secret: &str) -> SdkConfig {
    sts.sdk_config_loader(REGION, access_key_id, secret)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

pub async fn client(sts: &LocalSts) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(sts, ACCESS_KEY_ID, SECRET_ACCESS_KEY).await)
}

/// Verifies `token` with the issuer's published keys and returns its claims.
pub fn verify(issuer: &LocalIssuer, token: &str, audience: &str) -> Value {
    issuer
        .claims_of(token, audience)
        .expect("the token verifies against the published keys")
}
