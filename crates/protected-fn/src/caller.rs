//! Reading the caller from the authorizer context.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;
use sts_verifier::context::{Caller, CallerContext, ContextError};

/// Why a request has no usable caller identity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The event is not an API Gateway proxy event, or it carries no authorizer context (the
    /// route is not behind the authorizer).
    #[error("request has no authorizer context")]
    NoContext,
    /// The context does not describe a caller.
    #[error("authorizer context is unusable: {0}")]
    Context(#[from] ContextError),
}

impl IdentityError {
    /// A stable code for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NoContext => "no_authorizer_context",
            Self::Context(_) => "bad_authorizer_context",
        }
    }
}

/// The caller the authorizer let through, from the request's authorizer context.
///
/// # Errors
///
/// [`IdentityError::NoContext`] when there is no context, [`IdentityError::Context`] when it
/// does not hold a caller written by the authorizer.
pub fn caller_of(request: &Request) -> Result<Caller, IdentityError> {
    let fields = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => &context.authorizer.fields,
        Some(RequestContext::ApiGatewayV2(context)) => {
            &context
                .authorizer
                .as_ref()
                .ok_or(IdentityError::NoContext)?
                .fields
        }
        _ => return Err(IdentityError::NoContext),
    };
    if fields.is_empty() {
        return Err(IdentityError::NoContext);
    }
    // HTTP APIs nest a Lambda authorizer's context under `lambda` in payload 1.0 events too,
    // which lambda_http reads as REST-shaped. A REST context cannot hold an object, so an object
    // there can only be that nesting.
    if let Some(Value::Object(nested)) = fields.get("lambda") {
        return Ok(CallerContext::from_authorizer_context(nested)?);
    }
    Ok(CallerContext::from_authorizer_context(fields)?)
}
