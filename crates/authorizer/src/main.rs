//! The authorizer Lambda function: configuration once at init, then one answer per event.

use authorizer::{Rules, Settings, handle};
use lambda_runtime::{LambdaEvent, service_fn, tracing};
use serde_json::Value;
use sts_verifier::{Verifier, VerifierConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_logging::init();

    let settings = Settings::from_env()?;
    let rules = Rules::from_env()?;
    let verifier = Verifier::new(VerifierConfig::from_env()?)?;
    if settings.prefetch_keys() {
        // A failure here is not fatal: the first request fetches again, and fails closed (500)
        // if the issuer is still unreachable.
        if let Err(problem) = verifier.prefetch().await {
            tracing::error!(reason = problem.reason(), error = %problem, "key prefetch failed");
        }
    }

    let (verifier, rules, settings) = (&verifier, &rules, &settings);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(verifier, rules, settings, event.payload).await
    }))
    .await
}
