//! Lambda binary for the `Custom::OutboundIssuer` resource; see the `issuer_lookup` library.

use aws_config::BehaviorVersion;
use issuer_lookup::{Dependencies, handle, response_client, sdk_retries, sdk_timeouts};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_logging::init();

    let config = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries())
        .load()
        .await;
    let deps = Dependencies {
        iam: aws_sdk_iam::Client::new(&config),
        http: response_client().expect("the TLS client for CloudFormation responses must build"),
    };

    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(event, &deps))).await
}
