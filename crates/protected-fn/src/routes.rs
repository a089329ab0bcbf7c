//! The API's routes and how a request's path is found under either payload format.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// One of the API's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /hello`
    Hello,
    /// `GET /whoami`
    WhoAmI,
    /// `POST /orders`
    Orders,
}

/// What a method and path lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// A route of the API.
    Found(Endpoint),
    /// The path exists, with other methods (listed for the `Allow` header).
    MethodNotAllowed(&'static str),
    /// No such path.
    NotFound,
}

/// Finds the operation for a method and a path below the stage.
pub fn resolve(method: &str, path: &str) -> Resolved {
    let (endpoint, allowed) = match path {
        "/hello" => (Endpoint::Hello, "GET"),
        "/whoami" => (Endpoint::WhoAmI, "GET"),
        "/orders" => (Endpoint::Orders, "POST"),
        _ => return Resolved::NotFound,
    };
    if method == allowed {
        Resolved::Found(endpoint)
    } else {
        Resolved::MethodNotAllowed(allowed)
    }
}

/// The request's path below the stage.
///
/// REST APIs: the resource path API Gateway matched (`/hello`), which also holds behind a custom
/// domain's base path; for a templated resource (`/{proxy+}`) the request path (`path`, which has
/// no stage). HTTP APIs: the raw path, whose first segment is the stage name unless the stage is
/// `$default`.
pub fn route_path(request: &Request) -> String {
    let raw = request.raw_http_path();
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => match context.resource_path.as_deref() {
            Some(resource) if !resource.contains('{') && resource.starts_with('/') => {
                resource.to_owned()
            }
            _ => raw.to_owned(),
        },
        Some(RequestContext::ApiGatewayV2(context)) => {
            without_stage(raw, context.stage.as_deref()).to_owned()
        }
        _ => raw.to_owned(),
    }
}

fn without_stage<'p>(path: &'p str, stage: Option<&str>) -> &'p str {
    let Some(stage) = stage.filter(|stage| *stage != "$default") else {
        return path;
    };
    match path
        .strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(stage))
    {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_resolve_by_method() {
        assert_eq!(resolve("GET", "/hello"), Resolved::Found(Endpoint::Hello));
        assert_eq!(resolve("GET", "/whoami"), Resolved::Found(Endpoint::WhoAmI));
        assert_eq!(
            resolve("POST", "/orders"),
            Resolved::Found(Endpoint::Orders)
        );
        assert_eq!(resolve("POST", "/hello"), Resolved::MethodNotAllowed("GET"));
        assert_eq!(
            resolve("GET", "/orders"),
            Resolved::MethodNotAllowed("POST")
        );
    }

    #[test]
    fn other_paths_are_not_found() {
        for path in [
            "/",
            "/hello/",
            "/Hello",
            "/prod/hello",
            "/hello/admin",
            "",
            "/orders/1",
        ] {
            assert_eq!(resolve("GET", path), Resolved::NotFound, "{path}");
        }
    }

    #[test]
    fn stage_prefix_is_dropped_for_named_stages_only() {
        assert_eq!(without_stage("/prod/hello", Some("prod")), "/hello");
        assert_eq!(without_stage("/prod", Some("prod")), "/");
        assert_eq!(
            without_stage("/production/hello", Some("prod")),
            "/production/hello"
        );
        assert_eq!(without_stage("/hello", Some("$default")), "/hello");
        assert_eq!(without_stage("/hello", None), "/hello");
    }
}
