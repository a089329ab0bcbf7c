//! Identity sources: the request values an authorizer needs, and its cache key.
//!
//! API Gateway answers 401 without invoking the authorizer when an identity source is missing,
//! null or empty, and builds the cache key from all identity source values.

use super::config::ConfigError;
use super::exchange::{Exchange, Flavor};

/// Where one identity value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdentitySource {
    Header(String),
    QueryString(String),
    StageVariable(String),
    Context(String),
}

impl IdentitySource {
    /// Parses a REST (`method.request.header.X`) or HTTP API (`$request.header.X`) selection
    /// expression, or a bare header name when `bare_header` (TOKEN authorizers).
    pub(crate) fn parse(text: &str, bare_header: bool) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidIdentitySource(text.to_owned());
        type Build = fn(String) -> IdentitySource;
        let prefixes: [(&str, Build); 8] = [
            ("method.request.header.", Self::Header),
            ("$request.header.", Self::Header),
            ("method.request.querystring.", Self::QueryString),
            ("$request.querystring.", Self::QueryString),
            ("stageVariables.", Self::StageVariable),
            ("$stageVariables.", Self::StageVariable),
            ("context.", Self::Context),
            ("$context.", Self::Context),
        ];
        let valid_name = |name: &str| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b',')
        };
        for (prefix, build) in prefixes {
            if let Some(name) = text.strip_prefix(prefix) {
                return if valid_name(name) {
                    Ok(build(name.to_owned()))
                } else {
                    Err(invalid())
                };
            }
        }
        let header_name = |n: &str| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if bare_header && header_name(text) {
            return Ok(Self::Header(text.to_owned()));
        }
        Err(invalid())
    }

    /// The value for this request; `None` when missing or empty.
    pub(crate) fn resolve(&self, exchange: &Exchange<'_>) -> Option<String> {
        let request = exchange.request;
        let http = matches!(exchange.api.flavor, Flavor::Http { .. });
        let value = match self {
            Self::Header(name) if http => request.header_joined(name),
            Self::Header(name) => request.header_last(name).map(str::to_owned),
            Self::QueryString(name) if http => request.query_joined(name),
            Self::QueryString(name) => request.query_last(name),
            Self::StageVariable(name) => exchange.api.stage_variables.get(name).cloned(),
            Self::Context(name) => exchange.context_variable(name),
        };
        value.filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_selection_expression_styles_parse() {
        let header = IdentitySource::Header("Authorization".to_owned());
        assert_eq!(
            IdentitySource::parse("method.request.header.Authorization", false).unwrap(),
            header
        );
        assert_eq!(
            IdentitySource::parse("$request.header.Authorization", false).unwrap(),
            header
        );
        assert_eq!(
            IdentitySource::parse("Authorization", true).unwrap(),
            header
        );
        assert_eq!(
            IdentitySource::parse("$context.routeKey", false).unwrap(),
            IdentitySource::Context("routeKey".to_owned())
        );
        assert_eq!(
            IdentitySource::parse("stageVariables.tier", false).unwrap(),
            IdentitySource::StageVariable("tier".to_owned())
        );
        for bad in [
            "Authorization",
            "$request.header.",
            "$request.body.x",
            "header.x",
            "$request.header.a b",
        ] {
            assert!(IdentitySource::parse(bad, false).is_err(), "{bad}");
        }
    }
}
