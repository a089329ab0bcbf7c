//! The API behind the authorizer: three routes that answer with who called.
//!
//! The caller's identity comes only from the authorizer context API Gateway attaches to the
//! event (`requestContext.authorizer` on REST APIs, `requestContext.authorizer.lambda` on HTTP
//! APIs), read back through [`sts_verifier::context`], the same code the authorizer wrote it
//! with. Headers are never consulted for identity: a client can set any header it likes.

mod caller;
mod orders;
mod reply;
mod routes;

pub use caller::{IdentityError, caller_of};
pub use orders::{OrderError, OrderRequest};
pub use routes::{Endpoint, Resolved, resolve, route_path};

use std::convert::Infallible;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use tracing::{debug, error};

/// Answers one proxy request.
///
/// Order of checks: the caller first (401 without an authorizer context, so unknown routes are
/// not revealed to requests that skipped the authorizer), then the route (404, or 405 with an
/// `Allow` header), then the body for `POST /orders` (400).
///
/// # Errors
///
/// None: every outcome is an HTTP answer.
pub async fn handle(request: Request) -> Result<Response<Body>, Infallible> {
    let caller = match caller_of(&request) {
        Ok(caller) => caller,
        Err(problem) => {
            error!(
                reason = problem.reason(),
                error = %problem,
                "request without a usable authorizer context; is the route behind the authorizer?"
            );
            return Ok(reply::unauthorized());
        }
    };

    let path = route_path(&request);
    let response = match resolve(request.method().as_str(), &path) {
        Resolved::NotFound => reply::error(404, "not_found", "no such route"),
        Resolved::MethodNotAllowed(allowed) => reply::method_not_allowed(allowed),
        Resolved::Found(Endpoint::Hello) => {
            let greeting = format!(
                "Hello, {} of account {}!",
                caller.role_name(),
                caller.account()
            );
            reply::json(
                200,
                &json!({"message": greeting, "roleArn": caller.role_arn()}),
            )
        }
        Resolved::Found(Endpoint::WhoAmI) => reply::json(200, &caller),
        Resolved::Found(Endpoint::Orders) => match OrderRequest::from_body(request.body()) {
            Ok(order) => reply::json(201, &order.accepted_for(&caller)),
            Err(problem) => reply::error(400, problem.reason(), &problem.to_string()),
        },
    };
    debug!(
        status = response.status().as_u16(),
        method = %request.method(),
        path = %path,
        subject = caller.role_arn().as_str(),
        rule = caller.rule(),
        "request answered"
    );
    Ok(response)
}
