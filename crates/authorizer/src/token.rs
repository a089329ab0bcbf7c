//! Finding the one bearer token of a request.
//!
//! The header must carry exactly `Bearer <jwt>`: the scheme in any case (RFC 9110 §11.1), one
//! space, and a token of JWS compact characters only. Several copies of the header with different
//! values, a comma-separated list (how HTTP APIs join repeated headers) or anything else is
//! refused: picking one of several tokens would let a proxy and this authorizer disagree about
//! who is calling.

use serde_json::Value;

/// Why no single bearer token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The header (or `authorizationToken`) is absent or empty.
    #[error("no bearer token")]
    Missing,
    /// The header does not use the `Bearer` scheme.
    #[error("authorization scheme is not bearer")]
    NotBearer,
    /// The value after `Bearer ` is empty or holds characters a JWS cannot contain.
    #[error("bearer token is malformed")]
    Malformed,
    /// Several different values, or a comma-separated list of them.
    #[error("more than one bearer token")]
    Multiple,
}

impl TokenError {
    /// A stable code for logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing_token",
            Self::NotBearer => "not_bearer",
            Self::Malformed => "malformed_token",
            Self::Multiple => "multiple_tokens",
        }
    }
}

/// The token of an `Authorization`-style value: `Bearer <jwt>`.
///
/// # Errors
///
/// A [`TokenError`] when the value is not exactly one bearer token.
pub fn bearer_token(value: &str) -> Result<&str, TokenError> {
    if value.is_empty() {
        return Err(TokenError::Missing);
    }
    if value.contains(',') {
        return Err(TokenError::Multiple);
    }
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            TokenError::Malformed
        } else {
            TokenError::NotBearer
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::NotBearer);
    }
    let jws_character = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    if token.is_empty() || !token.bytes().all(jws_character) {
        return Err(TokenError::Malformed);
    }
    Ok(token)
}

/// The single bearer token among every copy of header `name` in a proxy-style event.
///
/// Reads the event's `headers` and `multiValueHeaders` objects as JSON rather than as a typed
/// header map: a map keeps one value per name, but an event can hold case variants of the same
/// header as separate members, and each of them counts.
///
/// # Errors
///
/// A [`TokenError`] when there is no copy, copies disagree, or the value is not one bearer token.
pub fn token_from_event<'e>(event: &'e Value, name: &str) -> Result<&'e str, TokenError> {
    let mut found: Option<&str> = None;
    for field in ["headers", "multiValueHeaders"] {
        let Some(Value::Object(headers)) = event.get(field) else {
            continue;
        };
        for (key, value) in headers {
            if !key.eq_ignore_ascii_case(name) {
                continue;
            }
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Null => Vec::new(),
                other => vec![other],
            };
            for value in values {
                let Value::String(text) = value else {
                    return Err(TokenError::Malformed);
                };
                match found {
                    Some(seen) if seen != text => return Err(TokenError::Multiple),
                    _ => found = Some(text),
                }
            }
        }
    }
    bearer_token(found.ok_or(TokenError::Missing)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(bearer_token(&format!("{scheme} {JWT}")), Ok(JWT));
        }
    }

    #[test]
    fn values_that_are_not_one_bearer_token_are_refused() {
        let cases = [
            ("", TokenError::Missing),
            (JWT, TokenError::NotBearer),
            ("Basic dXNlcjpwYXNz", TokenError::NotBearer),
            ("Bearer", TokenError::Malformed),
            ("Bearer ", TokenError::Malformed),
            ("Bearer  abc", TokenError::Malformed),
            ("Bearer abc ", TokenError::Malformed),
            (" Bearer abc", TokenError::NotBearer),
            ("Bearer a b", TokenError::Malformed),
            ("Bearer\tabc", TokenError::NotBearer),
            ("Bearer abc=", TokenError::Malformed),
            ("Bearer ab\u{e9}c", TokenError::Malformed),
            ("Bearer ab\u{0}c", TokenError::Malformed),
            ("Bearer a, Bearer b", TokenError::Multiple),
            ("Bearer a,b", TokenError::Multiple),
        ];
        for (value, reason) in cases {
            assert_eq!(bearer_token(value), Err(reason), "{value:?}");
        }
    }

    #[test]
    fn header_name_is_matched_in_any_case() {
        let event = json!({"headers": {"AUTHORIZATION": format!("Bearer {JWT}")}});
        assert_eq!(token_from_event(&event, "authorization"), Ok(JWT));
        let event = json!({"headers": {"x-caller-token": format!("Bearer {JWT}")}});
        assert_eq!(token_from_event(&event, "X-Caller-Token"), Ok(JWT));
    }

    #[test]
    fn repeated_identical_copies_count_once() {
        let value = format!("Bearer {JWT}");
        let event = json!({
            "headers": {"Authorization": value},
            "multiValueHeaders": {"Authorization": [value]}
        });
        assert_eq!(token_from_event(&event, "authorization"), Ok(JWT));
    }

    #[test]
    fn differing_copies_are_refused() {
        let events = [
            json!({"headers": {"Authorization": "Bearer a", "authorization": "Bearer b"}}),
            json!({"multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]}}),
            json!({
                "headers": {"Authorization": "Bearer a"},
                "multiValueHeaders": {"authorization": ["Bearer b"]}
            }),
            json!({"headers": {"authorization": "Bearer a,Bearer b"}}),
        ];
        for event in events {
            assert_eq!(
                token_from_event(&event, "authorization"),
                Err(TokenError::Multiple),
                "{event}"
            );
        }
    }

    #[test]
    fn absent_or_mistyped_headers_are_refused() {
        let cases = [
            (json!({}), TokenError::Missing),
            (
                json!({"headers": null, "multiValueHeaders": null}),
                TokenError::Missing,
            ),
            (
                json!({"headers": {"Other": "Bearer a"}}),
                TokenError::Missing,
            ),
            (
                json!({"headers": {"Authorization": null}}),
                TokenError::Missing,
            ),
            (
                json!({"headers": {"Authorization": 7}}),
                TokenError::Malformed,
            ),
            (
                json!({"multiValueHeaders": {"Authorization": [["Bearer a"]]}}),
                TokenError::Malformed,
            ),
            (
                json!({"headers": {"Authorization": ""}}),
                TokenError::Missing,
            ),
        ];
        for (event, reason) in cases {
            assert_eq!(
                token_from_event(&event, "authorization"),
                Err(reason),
                "{event}"
            );
        }
    }

    #[test]
    fn huge_values_are_scanned_without_trouble() {
        let huge = format!("Bearer {}", "a".repeat(1 << 20));
        assert_eq!(bearer_token(&huge).map(str::len), Ok(1 << 20));
        let huge_garbage = format!("Bearer {}\u{1F600}", "a".repeat(1 << 20));
        assert_eq!(bearer_token(&huge_garbage), Err(TokenError::Malformed));
    }
}
