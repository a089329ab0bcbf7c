//! Telling the four authorizer event shapes apart and reading what the decision needs.
//!
//! | shape | `type` | `version` | ARN field |
//! |---|---|---|---|
//! | REST TOKEN | `TOKEN` | absent | `methodArn` (token in `authorizationToken`) |
//! | REST REQUEST | `REQUEST` | absent | `methodArn` |
//! | HTTP API payload 1.0 | `REQUEST` | `"1.0"` | `methodArn` |
//! | HTTP API payload 2.0 | `REQUEST` | `"2.0"` | `routeArn` |

use std::fmt;

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
    /// The method or route ARN is absent.
    #[error("{} event has no {field}", kind.as_str())]
    MissingArn {
        /// The shape the event announced.
        kind: EventKind,
        /// `methodArn` or `routeArn`.
        field: &'static str,
    },
    /// A REST API event whose ARN names no method and path (a WebSocket route such as
    /// `$connect`, say).
    #[error("event names no method and path to judge")]
    NoRoute,
    /// The method or route ARN does not parse.
    #[error("{field} is unusable: {source}")]
    Arn {
        /// `methodArn` or `routeArn`.
        field: &'static str,
        /// Why.
        #[source]
        source: ArnError,
    },
}

impl EventError {
    /// A stable code for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotAnObject => "event_not_object",
            Self::UnknownType => "event_unknown_type",
            Self::UnsupportedVersion => "event_unsupported_version",
            Self::MissingArn { .. } => "event_missing_arn",
            Self::Arn { .. } => "event_bad_arn",
            Self::NoRoute => "event_no_route",
        }
    }
}

/// What the decision needs from an authorizer event.
pub struct AuthorizerRequest {
    /// Which event shape arrived.
    pub kind: EventKind,
    /// The method or route ARN; policies are built on its API and stage.
    pub arn: ExecuteApiArn,
    /// The route the rules judge: the ARN's, or the request's when the ARN names a route key.
    /// `None` only for an HTTP API `$default` route reached with a method the rules cannot name:
    /// no rule matches such a request.
    pub route: Option<Route>,
    /// The request's method and path as the event gives them, for the decision log.
    pub route_label: String,
    /// The bearer token, or why there is none.
    pub token: Result<String, TokenError>,
    /// API Gateway's request id, when the event carries one.
    pub request_id: Option<String>,
}

/// Leaves the token out: a `Debug` of the request must be safe to log.
impl fmt::Debug for AuthorizerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = match &self.token {
            Ok(token) => Ok(format!("<{} bytes>", token.len())),
            Err(problem) => Err(*problem),
        };
        f.debug_struct("AuthorizerRequest")
            .field("kind", &self.kind)
            .field("arn", &self.arn)
            .field("route", &self.route)
            .field("route_label", &self.route_label)
            .field("token", &token)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// Where each shape keeps the fields the decision reads: the ARN as a top-level member name,
/// the rest as JSON pointers.
struct Layout {
    arn: &'static str,
    method: &'static str,
    path: &'static str,
    /// The stage prefix of HTTP API paths; REST paths have none.
    stage: Option<&'static str>,
}

impl Layout {
    fn of(kind: EventKind) -> Self {
        match kind {
            EventKind::RestToken | EventKind::RestRequest => Self {
                arn: "methodArn",
                method: "/httpMethod",
                path: "/path",
                stage: None,
            },
            EventKind::HttpV1 => Self {
                arn: "methodArn",
                method: "/httpMethod",
                path: "/path",
                stage: Some("/requestContext/stage"),
            },
            EventKind::HttpV2 => Self {
                arn: "routeArn",
                method: "/requestContext/http/method",
                path: "/rawPath",
                stage: Some("/requestContext/stage"),
            },
        }
    }
}

/// Longest method and path the decision log repeats; the rest of a hostile path is cut.
const MAX_LABEL_CHARS: usize = 256;

impl AuthorizerRequest {
    /// Reads an authorizer event; `token_header` is the lower-case header carrying the token.
    ///
    /// Only the fields the decision needs are read, each one leniently: a member that is absent,
    /// `null` or of another type counts as absent, so an unusual header, cookie or identity
    /// block never turns a refusal into a function error. A TOKEN event's token comes from
    /// `authorizationToken`, every other shape's from the header `token_header`.
    ///
    /// # Errors
    ///
    /// An [`EventError`] when the event is not one of the four shapes or lacks a usable ARN.
    pub fn parse(event: &Value, token_header: &str) -> Result<Self, EventError> {
        let kind = classify(event)?;
        let layout = Layout::of(kind);
        let arn_text = event.get(layout.arn).and_then(Value::as_str);
        let arn = parse_arn(kind, layout.arn, arn_text)?;

        let method = text_at(event, layout.method);
        let path = text_at(event, layout.path);
        let stage = layout.stage.and_then(|pointer| text_at(event, pointer));
        let request = match (method, path) {
            (Some(method), Some(path)) => request_route(method, path, stage),
            _ => None,
        };
        let route = arn.route().cloned().or(request);
        // REST method ARNs always name the method and path; one that does not comes from
        // another kind of API.
        if route.is_none() && matches!(kind, EventKind::RestToken | EventKind::RestRequest) {
            return Err(EventError::NoRoute);
        }
        let route_label = match (&route, method, path) {
            (Some(route), _, _) => route.to_string(),
            (None, Some(method), Some(path)) => format!("{method} {path}"),
            (None, _, _) => "-".to_owned(),
        };

        let token = match kind {
            EventKind::RestToken => match event.get("authorizationToken") {
                None | Some(Value::Null) => Err(TokenError::Missing),
                Some(Value::String(value)) => bearer_token(value).map(str::to_owned),
                Some(_) => Err(TokenError::Malformed),
            },
            _ => token_from_event(event, token_header).map(str::to_owned),
        };
        Ok(Self {
            kind,
            arn,
            route,
            route_label: route_label.chars().take(MAX_LABEL_CHARS).collect(),
            token,
            request_id: text_at(event, "/requestContext/requestId").map(str::to_owned),
        })
    }
}

fn text_at<'e>(event: &'e Value, pointer: &str) -> Option<&'e str> {
    event.pointer(pointer).and_then(Value::as_str)
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

fn parse_arn(
    kind: EventKind,
    field: &'static str,
    text: Option<&str>,
) -> Result<ExecuteApiArn, EventError> {
    let text = text.filter(|text| !text.is_empty());
    let text = text.ok_or(EventError::MissingArn { kind, field })?;
    ExecuteApiArn::parse(text).map_err(|source| EventError::Arn { field, source })
}

/// The route of the request itself, for ARNs that carry a route key instead of a method and
/// path. HTTP API paths start with the stage name unless the stage is `$default`.
fn request_route(method: &str, path: &str, http_stage: Option<&str>) -> Option<Route> {
    if !METHODS.contains(&method) || !path.starts_with('/') {
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
    fn mistyped_token_is_malformed_and_kept_out_of_debug() {
        let event =
            json!({"type": "TOKEN", "methodArn": ARN, "authorizationToken": ["Bearer secret"]});
        let request = AuthorizerRequest::parse(&event, "authorization").unwrap();
        assert_eq!(request.token, Err(TokenError::Malformed));

        let event =
            json!({"type": "TOKEN", "methodArn": ARN, "authorizationToken": "Bearer secret"});
        let request = AuthorizerRequest::parse(&event, "authorization").unwrap();
        assert_eq!(request.token.as_deref(), Ok("secret"));
        let debug = format!("{request:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("<6 bytes>"), "{debug}");
    }

    #[test]
    fn fields_the_decision_does_not_read_may_hold_anything() {
        let event = json!({
            "type": "REQUEST", "version": "2.0", "routeArn": ARN,
            "headers": null, "cookies": null, "identitySource": null,
            "queryStringParameters": [1, 2], "requestContext": {"http": null, "authentication": 7}
        });
        let request = AuthorizerRequest::parse(&event, "authorization").unwrap();
        assert_eq!(request.route, Some(Route::new("GET", "/hello")));
        assert_eq!(request.token, Err(TokenError::Missing));
        assert_eq!(request.request_id, None);
    }

    #[test]
    fn default_route_with_an_unknown_method_has_no_route() {
        let event = json!({
            "type": "REQUEST", "version": "2.0",
            "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/$default",
            "rawPath": "/x", "requestContext": {"http": {"method": "PROPFIND"}, "stage": "$default"}
        });
        let request = AuthorizerRequest::parse(&event, "authorization").unwrap();
        assert_eq!(request.route, None);
        assert_eq!(request.route_label, "PROPFIND /x");
    }

    #[test]
    fn stage_prefix_is_removed_from_http_api_paths() {
        let route = |path, stage| request_route("GET", path, stage).map(|r| r.path);
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
        assert_eq!(request_route("TRACE", "/x", None), None);
        assert_eq!(request_route("GET", "x", None), None);
    }
}
