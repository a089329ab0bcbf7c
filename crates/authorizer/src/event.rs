//! Telling the four authorizer event shapes apart and reading what the decision needs.
//!
//! | shape | `type` | `version` | ARN field |
//! |---|---|---|---|
//! | REST TOKEN | `TOKEN` | absent | `methodArn` (token in `authorizationToken`) |
//! | REST REQUEST | `REQUEST` | absent | `methodArn` |
//! | HTTP API payload 1.0 | `REQUEST` | `"1.0"` | `methodArn` |
//! | HTTP API payload 2.0 | `REQUEST` | `"2.0"` | `routeArn` |

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde::Deserialize;
use serde_json::Value;

use crate::arn::{ArnError, ExecuteApiArn};
use crate::route::{METHODS, Route};
use crate::token::{TokenError, bearer_token, token_from_event};

/// Which authorizer event arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// REST API TOKEN authorizer.
    RestToken,
    /// REST API REQUEST authorizer.
    RestRequest,
    /// HTTP API authorizer, payload format 1.0.
    HttpV1,
    /// HTTP API authorizer, payload format 2.0.
    HttpV2,
}

impl EventKind {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestToken => "rest_token",
            Self::RestRequest => "rest_request",
            Self::HttpV1 => "http_v1",
            Self::HttpV2 => "http_v2",
        }
    }
}

/// Why an event is not an authorizer event this function can answer.
///
/// These point at the integration (a Lambda wired to the wrong source, an unsupported payload
/// version), never at the caller. Messages never quote event content: a header value could be a
/// token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The event is not a JSON object.
    #[error("event is not a json object")]
    NotAnObject,
    /// `type` is absent or is not `TOKEN` or `REQUEST`.
    #[error("event type is not TOKEN or REQUEST")]
    UnknownType,
    /// A REQUEST event's `version` is neither absent, `1.0` nor `2.0`.
    #[error("REQUEST event version is not 1.0 or 2.0")]
    UnsupportedVersion,
    /// The event does not fit the shape its type and version announce.
    #[error("{} event does not have the documented shape ({category})", kind.as_str())]
    Shape {
        /// The shape the event announced.
        kind: EventKind,
        /// The kind of mismatch (`data`, `syntax`…), without the offending text.
        category: &'static str,
    },
    /// The method or route ARN is absent.
    #[error("{} event has no {field}", kind.as_str())]
    MissingArn {
        /// The shape the event announced.
        kind: EventKind,
        /// `methodArn` or `routeArn`.
        field: &'static str,
    },
    /// The method or route ARN does not parse.
    #[error("{field} is unusable: {source}")]
    Arn {
        /// `methodArn` or `routeArn`.
        field: &'static str,
        /// Why.
        #[source]
        source: ArnError,
    },
    /// Neither the ARN nor the request names a routed method and path.
    #[error("event names no method and path to judge")]
    NoRoute,
}

impl EventError {
    /// A stable code for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotAnObject => "event_not_object",
            Self::UnknownType => "event_unknown_type",
            Self::UnsupportedVersion => "event_unsupported_version",
            Self::Shape { .. } => "event_shape",
            Self::MissingArn { .. } => "event_missing_arn",
            Self::Arn { .. } => "event_bad_arn",
            Self::NoRoute => "event_no_route",
        }
    }
}

/// What the decision needs from an authorizer event.
#[derive(Debug)]
pub struct AuthorizerRequest {
    /// Which event shape arrived.
    pub kind: EventKind,
    /// The method or route ARN; policies are built on its API and stage.
    pub arn: ExecuteApiArn,
    /// The route the rules judge: the ARN's, or the request's when the ARN names a route key.
    pub route: Route,
    /// The bearer token, or why there is none.
    pub token: Result<String, TokenError>,
    /// API Gateway's request id, when the event carries one.
    pub request_id: Option<String>,
}

impl AuthorizerRequest {
    /// Reads an authorizer event; `token_header` is the lower-case header carrying the token.
    ///
    /// # Errors
    ///
    /// An [`EventError`] when the event is not one of the four shapes or lacks a usable ARN.
    pub fn parse(event: &Value, token_header: &str) -> Result<Self, EventError> {
        let kind = classify(event)?;
        match kind {
            EventKind::RestToken => {
                let typed: ApiGatewayCustomAuthorizerRequest = typed(kind, event)?;
                let arn = parse_arn(kind, "methodArn", typed.method_arn.as_deref())?;
                let route = arn.route().cloned().ok_or(EventError::NoRoute)?;
                let token = match typed.authorization_token.as_deref() {
                    None => Err(TokenError::Missing),
                    Some(value) => bearer_token(value).map(str::to_owned),
                };
                Ok(Self {
                    kind,
                    arn,
                    route,
                    token,
                    request_id: None,
                })
            }
            EventKind::RestRequest => {
                let typed: ApiGatewayCustomAuthorizerRequestTypeRequest = typed(kind, event)?;
                let arn = parse_arn(kind, "methodArn", typed.method_arn.as_deref())?;
                let fallback = || {
                    let method = typed.http_method.as_ref()?.as_str().to_owned();
                    request_route(method, typed.path.as_deref()?, None)
                };
                let route = arn
                    .route()
                    .cloned()
                    .or_else(fallback)
                    .ok_or(EventError::NoRoute)?;
                let request_id = typed.request_context.request_id.clone();
                Ok(Self {
                    kind,
                    arn,
                    route,
                    token: header_token(event, token_header),
                    request_id,
                })
            }
            EventKind::HttpV1 => {
                let typed: ApiGatewayV2CustomAuthorizerV1Request = typed(kind, event)?;
                let arn = parse_arn(kind, "methodArn", typed.method_arn.as_deref())?;
                let stage = typed.request_context.stage.as_deref();
                let fallback = || {
                    request_route(
                        typed.http_method.as_str().to_owned(),
                        typed.path.as_deref()?,
                        stage,
                    )
                };
                let route = arn
                    .route()
                    .cloned()
                    .or_else(fallback)
                    .ok_or(EventError::NoRoute)?;
                let request_id = typed.request_context.request_id.clone();
                Ok(Self {
                    kind,
                    arn,
                    route,
                    token: header_token(event, token_header),
                    request_id,
                })
            }
            EventKind::HttpV2 => {
                let typed: ApiGatewayV2CustomAuthorizerV2Request = typed(kind, event)?;
                let arn = parse_arn(kind, "routeArn", typed.route_arn.as_deref())?;
                let context = &typed.request_context;
                let fallback = || {
                    let method = context.http.method.as_str().to_owned();
                    request_route(method, typed.raw_path.as_deref()?, context.stage.as_deref())
                };
                let route = arn
                    .route()
                    .cloned()
                    .or_else(fallback)
                    .ok_or(EventError::NoRoute)?;
                let request_id = context.request_id.clone();
                Ok(Self {
                    kind,
                    arn,
                    route,
                    token: header_token(event, token_header),
                    request_id,
                })
            }
        }
    }
}

fn classify(event: &Value) -> Result<EventKind, EventError> {
    let Value::Object(object) = event else {
        return Err(EventError::NotAnObject);
    };
    match (
        object.get("type").and_then(Value::as_str),
        object.get("version"),
    ) {
        (Some("TOKEN"), _) => Ok(EventKind::RestToken),
        (Some("REQUEST"), None | Some(Value::Null)) => Ok(EventKind::RestRequest),
        (Some("REQUEST"), Some(version)) => match version.as_str() {
            Some("1.0") => Ok(EventKind::HttpV1),
            Some("2.0") => Ok(EventKind::HttpV2),
            _ => Err(EventError::UnsupportedVersion),
        },
        _ => Err(EventError::UnknownType),
    }
}

fn typed<'e, T: Deserialize<'e>>(kind: EventKind, event: &'e Value) -> Result<T, EventError> {
    T::deserialize(event).map_err(|error| EventError::Shape {
        kind,
        category: match error.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        },
    })
}

fn parse_arn(
    kind: EventKind,
    field: &'static str,
    text: Option<&str>,
) -> Result<ExecuteApiArn, EventError> {
    let text = text.filter(|text| !text.is_empty());
    let text = text.ok_or(EventError::MissingArn { kind, field })?;
    ExecuteApiArn::parse(text).map_err(|source| EventError::Arn { field, source })
}

fn header_token(event: &Value, header: &str) -> Result<String, TokenError> {
    token_from_event(event, header).map(str::to_owned)
}

/// The route of the request itself, for ARNs that carry a route key instead of a method and
/// path. HTTP API paths start with the stage name unless the stage is `$default`.
fn request_route(method: String, path: &str, http_stage: Option<&str>) -> Option<Route> {
    if !METHODS.contains(&method.as_str()) || !path.starts_with('/') {
        return None;
    }
    let path = match http_stage.filter(|stage| *stage != "$default") {
        Some(stage) => match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => path,
        },
        None => path,
    };
    Some(Route::new(method, path))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/hello";

    #[test]
    fn shapes_are_told_apart_by_type_and_version() {
        let cases = [
            (
                json!({"type": "TOKEN", "methodArn": ARN}),
                EventKind::RestToken,
            ),
            (
                json!({"type": "REQUEST", "methodArn": ARN}),
                EventKind::RestRequest,
            ),
            (
                json!({"type": "REQUEST", "version": "1.0", "methodArn": ARN}),
                EventKind::HttpV1,
            ),
            (
                json!({"type": "REQUEST", "version": "2.0", "routeArn": ARN}),
                EventKind::HttpV2,
            ),
        ];
        for (event, kind) in cases {
            assert_eq!(classify(&event), Ok(kind), "{event}");
        }
    }

    #[test]
    fn unknown_shapes_are_named() {
        let cases = [
            (json!([]), EventError::NotAnObject),
            (json!("TOKEN"), EventError::NotAnObject),
            (json!({}), EventError::UnknownType),
            (json!({"type": "token"}), EventError::UnknownType),
            (json!({"type": 1}), EventError::UnknownType),
            (
                json!({"type": "REQUEST", "version": "3.0"}),
                EventError::UnsupportedVersion,
            ),
            (
                json!({"type": "REQUEST", "version": 2}),
                EventError::UnsupportedVersion,
            ),
        ];
        for (event, error) in cases {
            assert_eq!(classify(&event), Err(error), "{event}");
        }
    }

    #[test]
    fn token_event_without_arn_is_refused() {
        let event = json!({"type": "TOKEN", "authorizationToken": "Bearer a"});
        let error = AuthorizerRequest::parse(&event, "authorization").unwrap_err();
        assert_eq!(
            error,
            EventError::MissingArn {
                kind: EventKind::RestToken,
                field: "methodArn"
            }
        );
        assert_eq!(error.to_string(), "rest_token event has no methodArn");
    }

    #[test]
    fn mistyped_fields_are_a_shape_error_that_does_not_quote_the_event() {
        let event =
            json!({"type": "TOKEN", "methodArn": ARN, "authorizationToken": ["Bearer secret"]});
        let error = AuthorizerRequest::parse(&event, "authorization").unwrap_err();
        assert_eq!(
            error,
            EventError::Shape {
                kind: EventKind::RestToken,
                category: "data"
            }
        );
        assert!(!error.to_string().contains("secret"));
    }

    #[test]
    fn stage_prefix_is_removed_from_http_api_paths() {
        let route = |path, stage| request_route("GET".into(), path, stage).map(|r| r.path);
        assert_eq!(
            route("/prod/hello", Some("prod")).as_deref(),
            Some("/hello")
        );
        assert_eq!(route("/prod", Some("prod")).as_deref(), Some("/"));
        assert_eq!(
            route("/production/x", Some("prod")).as_deref(),
            Some("/production/x")
        );
        assert_eq!(route("/hello", Some("$default")).as_deref(), Some("/hello"));
        assert_eq!(route("/hello", None).as_deref(), Some("/hello"));
        assert_eq!(request_route("TRACE".into(), "/x", None), None);
        assert_eq!(request_route("GET".into(), "x", None), None);
    }
}
