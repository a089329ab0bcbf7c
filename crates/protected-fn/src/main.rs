//! The protected Lambda function behind the authorizer.

use lambda_http::{service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing::init_default_subscriber();
    lambda_http::run(service_fn(protected_fn::handle)).await
}
