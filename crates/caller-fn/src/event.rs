//! The invocation event and the checks that keep the token on the configured APIs.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Largest accepted request body, serialized, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Which protected API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The REST API (`PROTECTED_API_URL`), the default.
    Rest,
    /// The HTTP API (`PROTECTED_HTTP_API_URL`).
    Http,
}

impl Api {
    /// The event's name for it: `rest` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Http => "http",
        }
    }
}

/// A validated call: which API, method, path under its base URL, and optional JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    /// The API to call.
    pub api: Api,
    /// The HTTP method.
    pub method: Method,
    /// The path, starting with `/`, appended to the API's base URL.
    pub path: String,
    /// The JSON body, for methods that carry one.
    pub body: Option<Value>,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The event is not a JSON object of the expected shape.
    #[error("the event does not have the expected shape: {0}")]
    Shape(String),
    /// `api` is neither `rest` nor `http`.
    #[error("api must be \"rest\" or \"http\"")]
    UnknownApi,
    /// `method` is not one this function sends.
    #[error("method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")]
    UnsupportedMethod,
    /// `path` does not start with `/` (so it could name another host).
    #[error("path must start with \"/\"")]
    PathNotAbsolute,
    /// `path` is longer than allowed.
    #[error("path is {bytes} bytes long; at most {MAX_PATH_BYTES} are allowed")]
    PathTooLong {
        /// Its length.
        bytes: usize,
    },
    /// `path` holds a character outside the RFC 3986 path characters, or a query or fragment.
    #[error("path has a character that is not allowed at byte {position}")]
    PathCharacter {
        /// Zero-based byte offset.
        position: usize,
    },
    /// `path` has an empty, `.` or `..` segment, or an encoded dot, slash or backslash.
    #[error("path must not contain empty, \".\" or \"..\" segments or encoded dots and slashes")]
    PathTraversal,
    /// A body was given for a method that carries none.
    #[error("a body is not allowed with {method}")]
    BodyNotAllowed {
        /// The method.
        method: String,
    },
    /// The body is larger than allowed.
    #[error("the body is {bytes} bytes as JSON; at most {MAX_BODY_BYTES} are allowed")]
    BodyTooLarge {
        /// Its serialized size.
        bytes: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    api: Option<String>,
    method: Option<String>,
    path: Option<String>,
    body: Option<Value>,
}

impl CallRequest {
    /// Reads and checks an invocation event; absent fields take their defaults (`rest`, `GET`,
    /// `/hello`, no body).
    ///
    /// # Errors
    ///
    /// An [`EventError`] for the first problem found.
    pub fn from_event(event: Value) -> Result<Self, EventError> {
        let raw: RawEvent =
            serde_json::from_value(event).map_err(|err| EventError::Shape(err.to_string()))?;

        let api = match raw.api.as_deref() {
            None | Some("rest") => Api::Rest,
            Some("http") => Api::Http,
            Some(_) => return Err(EventError::UnknownApi),
        };
        let method = parse_method(raw.method.as_deref().unwrap_or("GET"))?;
        let path = raw.path.unwrap_or_else(|| "/hello".to_owned());
        check_path(&path)?;
        let body = check_body(&method, raw.body)?;

        Ok(Self {
            api,
            method,
            path,
            body,
        })
    }
}

fn parse_method(name: &str) -> Result<Method, EventError> {
    const ALLOWED: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    ALLOWED
        .into_iter()
        .find(|method| method.as_str().eq_ignore_ascii_case(name))
        .ok_or(EventError::UnsupportedMethod)
}

/// Accepts only an origin-relative path of RFC 3986 `pchar`s, so that appending it to a base URL
/// can neither change the host nor climb out of the base path.
fn check_path(path: &str) -> Result<(), EventError> {
    if path.len() > MAX_PATH_BYTES {
        return Err(EventError::PathTooLong { bytes: path.len() });
    }
    if !path.starts_with('/') {
        return Err(EventError::PathNotAbsolute);
    }
    let bytes = path.as_bytes();
    for (position, &byte) in bytes.iter().enumerate() {
        let allowed = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&byte);
        if !allowed {
            return Err(EventError::PathCharacter { position });
        }
        if byte == b'%' {
            let escape = path.get(position + 1..position + 3).unwrap_or("");
            if escape.len() != 2 || !escape.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(EventError::PathCharacter { position });
            }
            // An encoded dot, slash or backslash would become traversal after decoding.
            if ["2e", "2f", "5c"]
                .iter()
                .any(|bad| escape.eq_ignore_ascii_case(bad))
            {
                return Err(EventError::PathTraversal);
            }
        }
    }
    let segments = path[1..].split('/');
    if path != "/"
        && segments
            .clone()
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(EventError::PathTraversal);
    }
    Ok(())
}

fn check_body(method: &Method, body: Option<Value>) -> Result<Option<Value>, EventError> {
    let Some(body) = body else {
        return Ok(None);
    };
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Err(EventError::BodyNotAllowed {
            method: method.to_string(),
        });
    }
    let bytes = serde_json::to_vec(&body).map_or(usize::MAX, |json| json.len());
    if bytes > MAX_BODY_BYTES {
        return Err(EventError::BodyTooLarge { bytes });
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_event_means_get_hello_on_the_rest_api() {
        assert_eq!(
            CallRequest::from_event(json!({})),
            Ok(CallRequest {
                api: Api::Rest,
                method: Method::GET,
                path: "/hello".into(),
                body: None,
            })
        );
    }

    #[test]
    fn every_field_is_read() {
        let request = CallRequest::from_event(json!({
            "api": "http", "method": "post", "path": "/orders/o-1:x@y", "body": {"item": "book"}
        }))
        .unwrap();
        assert_eq!(request.api, Api::Http);
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/orders/o-1:x@y");
        assert_eq!(request.body, Some(json!({"item": "book"})));
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for event in [
            json!(null),
            json!("GET /hello"),
            json!([1, 2]),
            json!({"path": 5}),
            json!({"method": ["GET"]}),
            json!({"api": {"rest": true}}),
            json!({"url": "https://evil.example.com"}),
            json!({"headers": {"Authorization": "x"}}),
        ] {
            assert!(
                matches!(
                    CallRequest::from_event(event.clone()),
                    Err(EventError::Shape(_))
                ),
                "{event}"
            );
        }
    }

    #[test]
    fn unknown_api_and_methods_are_refused() {
        assert_eq!(
            CallRequest::from_event(json!({"api": "REST "})),
            Err(EventError::UnknownApi)
        );
        for method in ["TRACE", "CONNECT", "GET /", "", "PROPFIND", "G\u{0}ET"] {
            assert_eq!(
                CallRequest::from_event(json!({"method": method})),
                Err(EventError::UnsupportedMethod),
                "{method:?}"
            );
        }
    }

    #[test]
    fn hostile_paths_are_refused() {
        let cases: Vec<(String, EventError)> = vec![
            (
                "https://evil.example.com/x".into(),
                EventError::PathNotAbsolute,
            ),
            ("evil.example.com".into(), EventError::PathNotAbsolute),
            ("".into(), EventError::PathNotAbsolute),
            ("@evil.example.com/x".into(), EventError::PathNotAbsolute),
            ("//evil.example.com/x".into(), EventError::PathTraversal),
            ("/a//b".into(), EventError::PathTraversal),
            ("/../admin".into(), EventError::PathTraversal),
            ("/a/./b".into(), EventError::PathTraversal),
            ("/a/..".into(), EventError::PathTraversal),
            ("/a/%2e%2E/b".into(), EventError::PathTraversal),
            ("/a%2Fb".into(), EventError::PathTraversal),
            ("/a%5cb".into(), EventError::PathTraversal),
            ("/a\\b".into(), EventError::PathCharacter { position: 2 }),
            (
                "/a?next=https://evil".into(),
                EventError::PathCharacter { position: 2 },
            ),
            ("/a#frag".into(), EventError::PathCharacter { position: 2 }),
            ("/a b".into(), EventError::PathCharacter { position: 2 }),
            (
                "/a\r\nHost: evil".into(),
                EventError::PathCharacter { position: 2 },
            ),
            ("/é".into(), EventError::PathCharacter { position: 1 }),
            ("/%zz".into(), EventError::PathCharacter { position: 1 }),
            ("/%4".into(), EventError::PathCharacter { position: 1 }),
            (
                format!("/{}", "a".repeat(1024)),
                EventError::PathTooLong { bytes: 1025 },
            ),
        ];
        for (path, expected) in cases {
            assert_eq!(
                CallRequest::from_event(json!({ "path": path })),
                Err(expected),
                "{path:?}"
            );
        }
        for fine in ["/", "/hello", "/a/b.c/d~e", "/a%20b", "/x..y"] {
            assert!(
                CallRequest::from_event(json!({ "path": fine })).is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn bodies_only_where_they_belong_and_bounded() {
        assert_eq!(
            CallRequest::from_event(json!({"body": {"a": 1}})),
            Err(EventError::BodyNotAllowed {
                method: "GET".into()
            })
        );
        let big = "x".repeat(MAX_BODY_BYTES);
        assert_eq!(
            CallRequest::from_event(json!({"method": "POST", "body": big})),
            Err(EventError::BodyTooLarge {
                bytes: MAX_BODY_BYTES + 2
            })
        );
        let nested = (0..100).fold(json!(1), |inner, _| json!([inner]));
        let request = CallRequest::from_event(json!({"method": "PUT", "body": nested})).unwrap();
        assert!(request.body.is_some());
        let null_body = CallRequest::from_event(json!({"body": null})).unwrap();
        assert_eq!(null_body.body, None);
    }
}
