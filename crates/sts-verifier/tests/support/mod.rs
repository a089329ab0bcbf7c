//! Shared builders for the verifier's tests: a real local issuer on loopback, STS-shaped
//! identities and claims, and verifier configurations with millisecond timings.
//!
//! Keys are generated fresh by `local_stack::issuer` for every test run (test-only keys, never
//! written to disk except by the `JWKS_FILE` tests, which write the public halves only).
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "test support: each test binary uses a part"
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use local_stack::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};
use serde_json::Value;
use sts_verifier::{Verifier, VerifierConfig, VerifyError};

/// The audience the protected API expects.
pub const AUDIENCE: &str = "https://orders.api.example.internal";
/// The calling role, with a path, as STS puts it in `sub`.
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/service/caller-fn";
/// The calling role's account.
pub const ACCOUNT: &str = "111122223333";

/// An identity shaped like a Lambda caller in an organization.
pub fn identity() -> Identity {
    Identity {
        role_arn: ROLE_ARN.to_owned(),
        account: ACCOUNT.to_owned(),
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

/// A request for one audience, signed with `algorithm`.
pub fn request(algorithm: Algorithm) -> MintRequest {
    MintRequest {
        audiences: vec![AUDIENCE.to_owned()],
        algorithm,
        ..MintRequest::default()
    }
}

/// A fresh issuer on a loopback port.
pub async fn issuer() -> LocalIssuer {
    LocalIssuer::start()
        .await
        .expect("a loopback port must be free for the test issuer")
}

/// A configuration trusting `issuer` for [`AUDIENCE`], with test timings: long TTL and cool-down
/// (so no test fetches by accident) and a short fetch timeout.
pub fn config(issuer: &LocalIssuer) -> VerifierConfig {
    let mut config = VerifierConfig::new([issuer.url()], [AUDIENCE]);
    config.allow_loopback_issuers = true;
    config.fetch_timeout = Duration::from_millis(1500);
    config
}

/// A verifier for `config`, which must be valid.
pub fn verifier(config: VerifierConfig) -> Verifier {
    Verifier::new(config).unwrap()
}

/// STS-shaped claims from `issuer` for [`identity`], issued now.
pub fn claims(issuer: &LocalIssuer, algorithm: Algorithm) -> Value {
    issuer.claims(&identity(), &request(algorithm), SystemTime::now())
}

/// A valid token from `issuer`.
pub fn token(issuer: &LocalIssuer, algorithm: Algorithm) -> String {
    issuer.mint(&identity(), &request(algorithm)).token
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Sets `claims[name] = value` (or removes it for `Value::Null`).
pub fn with_claim(mut claims: Value, name: &str, value: Value) -> Value {
    let members = claims.as_object_mut().unwrap();
    if value.is_null() {
        members.remove(name);
    } else {
        members.insert(name.to_owned(), value);
    }
    claims
}

/// Sets a member of the `https://sts.amazonaws.com/` object (or removes it for `Value::Null`).
pub fn with_aws_claim(mut claims: Value, name: &str, value: Value) -> Value {
    let aws = claims[sts_verifier::AWS_CLAIMS_KEY]
        .as_object_mut()
        .unwrap();
    if value.is_null() {
        aws.remove(name);
    } else {
        aws.insert(name.to_owned(), value);
    }
    claims
}

/// The error a verification must end with; panics with the unexpected outcome otherwise.
pub async fn rejection(verifier: &Verifier, token: &str) -> VerifyError {
    match verifier.verify(token).await {
        Ok(caller) => panic!("token was accepted: {caller:?}"),
        Err(error) => error,
    }
}

/// Every reason code `VerifyError::reason` can give.
pub const KNOWN_REASONS: &[&str] = &[
    "token_too_large",
    "malformed_token",
    "algorithm_not_allowed",
    "missing_key_id",
    "critical_header",
    "untrusted_issuer",
    "unknown_key",
    "algorithm_mismatch",
    "bad_signature",
    "audience_not_allowed",
    "invalid_claim",
    "token_expired",
    "issued_in_future",
    "token_too_old",
    "token_not_yet_valid",
    "subject_not_a_role",
    "account_mismatch",
    "keys_unavailable",
];
