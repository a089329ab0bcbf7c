//! Shared builders for the authorizer's tests: a local issuer and verifier, callers, events
//! from the fixtures, and an evaluator of API Gateway policies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test support: a failure here is a broken test setup, and not every test uses every helper"
)]

use std::collections::BTreeMap;
use std::time::SystemTime;

use authorizer::{Rules, Settings};
use lambda_runtime::Diagnostic;
use local_stack::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};
use serde_json::{Value, json};
use sts_verifier::{Verifier, VerifierConfig};

/// The audience the test verifier accepts.
pub const AUDIENCE: &str = "https://orders.example.com";
/// The jti every test token carries, so answers can be compared exactly.
pub const JTI: &str = "6f1c2d3e-0000-4000-8000-00000000a11c";
/// The account of the callers.
pub const ACCOUNT: &str = "111122223333";
/// A caller granted the read routes only.
pub const READER: &str = "arn:aws:iam::111122223333:role/reader-fn";
/// A caller granted the read routes and orders.
pub const WRITER: &str = "arn:aws:iam::111122223333:role/writer-fn";
/// A caller from an account no rule names.
pub const STRANGER: &str = "arn:aws:iam::999988887777:role/reader-fn";

/// The rules the tests run under.
pub const RULES: &str = r#"{
  "rules": [
    {"name": "readers", "routes": ["GET /hello", "GET /whoami"], "callers": {"accounts": ["111122223333"]}},
    {"name": "writers", "routes": ["POST /orders"], "callers": {"role_arns": ["arn:aws:iam::111122223333:role/writer-*"]}},
    {"name": "reports", "routes": ["GET /reports/*/summary"], "callers": {"principal_tags": {"team": ["finance"]}}}
  ]
}"#;

/// A local issuer and a verifier trusting it.
pub struct Harness {
    pub issuer: LocalIssuer,
    pub verifier: Verifier,
    pub rules: Rules,
}

impl Harness {
    pub async fn start() -> Self {
        let issuer = LocalIssuer::start()
            .await
            .expect("local issuer starts on loopback");
        let verifier = verifier_for(issuer.url());
        let rules = Rules::parse(RULES, "ACCESS_RULES").unwrap();
        Self {
            issuer,
            verifier,
            rules,
        }
    }

    /// A valid token for `identity`, with the fixed [`JTI`].
    pub fn token(&self, identity: &Identity, algorithm: Algorithm) -> String {
        let request = MintRequest {
            audiences: vec![AUDIENCE.to_owned()],
            algorithm,
            ..MintRequest::default()
        };
        let mut claims = self.issuer.claims(identity, &request, SystemTime::now());
        claims["jti"] = json!(JTI);
        self.issuer.sign(algorithm, &claims)
    }

    /// The `Authorization` value carrying [`Self::token`]: `Bearer <token>`.
    pub fn bearer(&self, identity: &Identity, algorithm: Algorithm) -> String {
        format!("Bearer {}", self.token(identity, algorithm))
    }

    /// A token that expired an hour ago.
    pub fn expired_token(&self, identity: &Identity) -> String {
        let request = MintRequest {
            audiences: vec![AUDIENCE.to_owned()],
            ..MintRequest::default()
        };
        let an_hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        let claims = self.issuer.claims(identity, &request, an_hour_ago);
        self.issuer.sign(Algorithm::Rs256, &claims)
    }

    /// The context the authorizer must write for `identity` granted `rules`.
    pub fn expected_context(
        &self,
        identity: &Identity,
        algorithm: Algorithm,
        rules: &str,
    ) -> Value {
        let (rsa, ec) = self.issuer.current_key_ids();
        let key_id = if algorithm == Algorithm::Rs256 {
            rsa
        } else {
            ec
        };
        let name = identity.role_arn.rsplit('/').next().unwrap();
        let mut context = json!({
            "roleArn": identity.role_arn,
            "account": identity.account,
            "partition": "aws",
            "roleName": name,
            "issuer": self.issuer.url(),
            "audience": AUDIENCE,
            "jti": JTI,
            "sourceRegion": identity.source_region,
            "rule": rules,
            "keyId": key_id,
        });
        if let Some(org) = &identity.org_id {
            context["orgId"] = json!(org);
        }
        if let Some(function) = &identity.lambda_source_function_arn {
            context["sourceFunctionArn"] = json!(function);
        }
        if !identity.principal_tags.is_empty() {
            context["principalTags"] =
                json!(serde_json::to_string(&identity.principal_tags).unwrap());
        }
        context
    }
}

pub fn verifier_for(issuer: &str) -> Verifier {
    let mut config = VerifierConfig::new([issuer], [AUDIENCE]);
    config.allow_loopback_issuers = true;
    Verifier::new(config).expect("test verifier configuration is valid")
}

/// A Lambda function caller with `role` and the given principal tags.
pub fn identity(role: &str, tags: &[(&str, &str)]) -> Identity {
    let account = role.split(':').nth(4).unwrap().to_owned();
    let name = role.rsplit('/').next().unwrap();
    Identity {
        role_arn: role.to_owned(),
        account: account.clone(),
        org_id: Some("o-a1b2c3d4e5".to_owned()),
        ou_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".to_owned()],
        principal_tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        source_region: "eu-west-1".to_owned(),
        lambda_source_function_arn: Some(format!(
            "arn:aws:lambda:eu-west-1:{account}:function:{name}"
        )),
        ..Identity::default()
    }
}

/// A fixture from `tests/fixtures`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The API every event of the fixtures belongs to, per event shape.
pub const REST_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/prod";
pub const HTTP_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/$default";

/// The shapes of authorizer events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    RestToken,
    RestRequest,
    HttpV1,
    HttpV2,
}

impl Shape {
    pub fn base(self) -> &'static str {
        match self {
            Self::RestToken | Self::RestRequest => REST_BASE,
            Self::HttpV1 | Self::HttpV2 => HTTP_BASE,
        }
    }
}

/// An event of `shape` for `method path`, carrying `authorization` as the header value (or the
/// `authorizationToken` of a TOKEN event); `None` leaves it out.
pub fn event(shape: Shape, method: &str, path: &str, authorization: Option<&str>) -> Value {
    let arn = format!("{}/{method}{path}", shape.base());
    match shape {
        Shape::RestToken => {
            let mut event = fixture("rest-token.json");
            event["methodArn"] = json!(arn);
            match authorization {
                Some(value) => event["authorizationToken"] = json!(value),
                None => drop(event.as_object_mut().unwrap().remove("authorizationToken")),
            }
            event
        }
        Shape::RestRequest => {
            let mut event = fixture("rest-request.json");
            event["methodArn"] = json!(arn);
            event["resource"] = json!(path);
            event["path"] = json!(path);
            event["httpMethod"] = json!(method);
            event["requestContext"]["path"] = json!(path);
            event["requestContext"]["resourcePath"] = json!(path);
            event["requestContext"]["httpMethod"] = json!(method);
            if let Some(value) = authorization {
                event["headers"]["Authorization"] = json!(value);
                event["multiValueHeaders"] = json!({"Authorization": [value]});
            }
            event
        }
        Shape::HttpV1 => {
            let mut event = fixture("http-v1-request.json");
            event["methodArn"] = json!(arn);
            event["resource"] = json!(path);
            event["path"] = json!(path);
            event["httpMethod"] = json!(method);
            event["requestContext"]["path"] = json!(path);
            event["requestContext"]["resourcePath"] = json!(path);
            event["requestContext"]["httpMethod"] = json!(method);
            event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
            if let Some(value) = authorization {
                event["headers"]["authorization"] = json!(value);
                event["identitySource"] = json!(value);
                event["authorizationToken"] = json!(value);
            }
            event
        }
        Shape::HttpV2 => {
            let mut event = fixture("http-v2-request.json");
            event["routeArn"] = json!(arn);
            event["routeKey"] = json!(format!("{method} {path}"));
            event["rawPath"] = json!(path);
            event["requestContext"]["http"]["method"] = json!(method);
            event["requestContext"]["http"]["path"] = json!(path);
            event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
            if let Some(value) = authorization {
                event["headers"]["authorization"] = json!(value);
                event["identitySource"] = json!([value]);
            }
            event
        }
    }
}

/// The policy document JSON API Gateway expects, from statements.
pub fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// One statement over `base`-relative resources (`GET/hello`, `*`).
pub fn statement(effect: &str, base: &str, resources: &[&str]) -> Value {
    let resources: Vec<String> = resources.iter().map(|r| format!("{base}/{r}")).collect();
    json!({"Action": ["execute-api:Invoke"], "Effect": effect, "Resource": resources})
}

/// Whether an IAM resource pattern matches an ARN: `*` any run of characters (`/` included, as
/// API Gateway evaluates authorizer policies), `?` one character. Written as a plain dynamic
/// programme, independent of the crate's matchers.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    // The literal text before the first wildcard must open the ARN; only the rest needs the
    // quadratic table.
    let literal = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let Some(arn) = arn.strip_prefix(&pattern[..literal]) else {
        return false;
    };
    let pattern: Vec<char> = pattern[literal..].chars().collect();
    let text: Vec<char> = arn.chars().collect();
    let mut reach = vec![vec![false; text.len() + 1]; pattern.len() + 1];
    reach[0][0] = true;
    for p in 1..=pattern.len() {
        for t in 0..=text.len() {
            reach[p][t] = match pattern[p - 1] {
                '*' => reach[p - 1][t] || (t > 0 && reach[p][t - 1]),
                '?' => t > 0 && reach[p - 1][t - 1],
                c => t > 0 && text[t - 1] == c && reach[p - 1][t - 1],
            };
        }
    }
    reach[pattern.len()][text.len()]
}

/// Whether a policy document lets `execute-api:Invoke` through for `arn`: some Allow statement
/// matches and no Deny statement does.
pub fn policy_allows(document: &Value, arn: &str) -> bool {
    let statements = document["Statement"]
        .as_array()
        .expect("policy has statements");
    let matching = |effect: &str| {
        statements
            .iter()
            .filter(|s| s["Effect"] == effect)
            .any(|s| {
                let invoke = s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == "execute-api:Invoke");
                invoke
                    && s["Resource"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| arn_matches(r.as_str().unwrap(), arn))
            })
    };
    matching("Allow") && !matching("Deny")
}

/// Tags as a sorted map, for building facts.
pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The authorizer's answer, or its function error as the JSON the runtime posts.
pub async fn answer(harness: &Harness, settings: &Settings, event: Value) -> Result<Value, Value> {
    authorizer::handle(&harness.verifier, &harness.rules, settings, event)
        .await
        .map_err(|rejection| serde_json::to_value(Diagnostic::from(rejection)).unwrap())
}

/// A function error with `message` as both type and message.
pub fn function_error(message: &str) -> Result<Value, Value> {
    Err(json!({"errorType": message, "errorMessage": message}))
}
