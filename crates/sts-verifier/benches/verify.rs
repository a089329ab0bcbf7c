//! Times verification of STS-shaped tokens against a warm key cache and prints the median and
//! 90th percentile per token, next to the same tokens through `jsonwebtoken` and the bare
//! signature check (the floor).
//!
//! Run: `cargo bench -p sts-verifier --bench verify` (optionally `-- <iterations>`). The issuer is
//! a real local issuer on loopback; its keys are generated at start.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::time::{Duration, Instant, SystemTime};

use aws_lc_rs::signature::{
    ECDSA_P384_SHA384_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, Validation};
use local_stack::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};
use serde_json::Value;
use sts_verifier::{Verifier, VerifierConfig};

const AUDIENCE: &str = "https://orders.api.example.internal";

fn main() {
    let iterations = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(3000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(iterations));
}

async fn run(iterations: usize) {
    let issuer = LocalIssuer::start().await.unwrap();
    let mut config = VerifierConfig::new([issuer.url()], [AUDIENCE]);
    config.allow_loopback_issuers = true;
    let verifier = Verifier::new(config).unwrap();
    verifier.prefetch().await.unwrap();
    let jwks = issuer.jwks();

    println!("{iterations} verifications per row, median / p90 per token");
    for algorithm in [Algorithm::Rs256, Algorithm::Es384] {
        let token = mint(&issuer, algorithm);
        let key = published_key(&jwks, algorithm);
        let length = token.len();

        let ours = time_async(iterations, || async {
            verifier.verify(&token).await.unwrap();
        })
        .await;
        let library = jsonwebtoken_verifier(&issuer, &key, algorithm);
        let theirs = time_sync(iterations, || {
            jsonwebtoken::decode::<Value>(&token, &library.0, &library.1).unwrap();
        });
        let floor = bare_signature_check(&key, algorithm);
        let bare = time_sync(iterations, || floor(&token));

        println!("{algorithm} ({length} bytes)");
        println!("  sts-verifier verify      {}", summary(ours));
        println!("  jsonwebtoken decode      {}", summary(theirs));
        println!("  aws-lc signature only    {}", summary(bare));
    }
}

fn mint(issuer: &LocalIssuer, algorithm: Algorithm) -> String {
    let identity = Identity {
        role_arn: "arn:aws:iam::111122223333:role/service/caller-fn".to_owned(),
        account: "111122223333".to_owned(),
        org_id: Some("o-a1b2c3d4e5".to_owned()),
        ou_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".to_owned()],
        source_region: "eu-west-1".to_owned(),
        lambda_source_function_arn: Some(
            "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn".to_owned(),
        ),
        ..Identity::default()
    };
    let request = MintRequest {
        audiences: vec![AUDIENCE.to_owned()],
        algorithm,
        duration: Duration::from_secs(3600),
        ..MintRequest::default()
    };
    let claims = issuer.claims(&identity, &request, SystemTime::now());
    issuer.sign(algorithm, &claims)
}

fn published_key(jwks: &Value, algorithm: Algorithm) -> Value {
    let kty = match algorithm {
        Algorithm::Rs256 => "RSA",
        Algorithm::Es384 => "EC",
    };
    let keys = jwks["keys"].as_array().unwrap();
    keys.iter().find(|key| key["kty"] == kty).unwrap().clone()
}

fn jsonwebtoken_verifier(
    issuer: &LocalIssuer,
    key: &Value,
    algorithm: Algorithm,
) -> (DecodingKey, Validation) {
    let text = |name: &str| key[name].as_str().unwrap();
    let (decoding_key, jwt_algorithm) = match algorithm {
        Algorithm::Rs256 => (
            DecodingKey::from_rsa_components(text("n"), text("e")).unwrap(),
            jsonwebtoken::Algorithm::RS256,
        ),
        Algorithm::Es384 => (
            DecodingKey::from_ec_components(text("x"), text("y")).unwrap(),
            jsonwebtoken::Algorithm::ES384,
        ),
    };
    let mut validation = Validation::new(jwt_algorithm);
    validation.set_issuer(&[issuer.url()]);
    validation.set_audience(&[AUDIENCE]);
    (decoding_key, validation)
}

/// The signature check alone with a key parsed once: what no verifier can go below.
fn bare_signature_check(key: &Value, algorithm: Algorithm) -> impl Fn(&str) {
    let bytes = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    let parsed = match algorithm {
        Algorithm::Rs256 => RsaPublicKeyComponents {
            n: bytes("n"),
            e: bytes("e"),
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .unwrap(),
        Algorithm::Es384 => {
            let mut point = vec![4];
            point.extend(bytes("x"));
            point.extend(bytes("y"));
            ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point).unwrap()
        }
    };
    move |token: &str| {
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        parsed.verify_sig(input.as_bytes(), &signature).unwrap();
    }
}

async fn time_async<F, Fut>(iterations: usize, mut call: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..iterations / 10 {
        call().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed());
    }
    samples
}

fn time_sync(iterations: usize, mut call: impl FnMut()) -> Vec<Duration> {
    for _ in 0..iterations / 10 {
        call();
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        call();
        samples.push(started.elapsed());
    }
    samples
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() - 1) as f64 * fraction).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    format!("median {:>7.1} µs   p90 {:>7.1} µs", at(0.5), at(0.9))
}
