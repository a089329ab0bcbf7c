//! The protected Lambda function behind the authorizer.

use lambda_http::service_fn;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_logging::init();
    lambda_http::run(service_fn(protected_fn::handle)).await
}
