//! The caller Lambda: wiring only; the behaviour lives in the library.

use aws_config::BehaviorVersion;
use caller_fn::Deps;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_logging::init();

    let sdk_config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let deps = Deps::from_env(&sdk_config)
        .inspect_err(|err| tracing::error!(error = %err, "caller-fn cannot start"))?;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let deps = deps.clone();
        async move { caller_fn::handle(event.payload, &deps).await }
    }))
    .await
}
