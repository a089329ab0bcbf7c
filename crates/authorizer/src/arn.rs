//! `execute-api` ARNs: the `methodArn` / `routeArn` of an authorizer event, and the resources of
//! the policy built from it.

use std::fmt;

use crate::route::{METHODS, Route};

/// Why a method or route ARN cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArnError {
    /// Not `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/...`.
    #[error("not an execute-api arn")]
    Shape,
    /// The API, stage, region or account part holds a wildcard, so resources built on it would
    /// reach other APIs or stages.
    #[error("arn names a wildcard api, stage, region or account")]
    Wildcard,
}

/// A parsed `execute-api` ARN of the request being authorized.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecuteApiArn {
    full: String,
    /// `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>`
    base_len: usize,
    route: Option<Route>,
}

impl ExecuteApiArn {
    /// Parses a method or route ARN.
    ///
    /// The part after the stage is a method and path (`GET/orders/1`), or for HTTP API routes
    /// without a method (the `$default` route) a route key; [`Self::route`] is then `None`.
    ///
    /// # Errors
    ///
    /// [`ArnError::Shape`] when the text is not an `execute-api` ARN with API id and stage;
    /// [`ArnError::Wildcard`] when those fixed parts hold `*` or `?`.
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        let mut parts = text.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("execute-api"),
            Some(region),
            Some(account),
            Some(res),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::Shape);
        };
        let mut resource = res.splitn(3, '/');
        let (Some(api), Some(stage), Some(after)) =
            (resource.next(), resource.next(), resource.next())
        else {
            return Err(ArnError::Shape);
        };
        let fixed = [partition, region, account, api, stage];
        if fixed.iter().any(|part| part.is_empty()) || after.is_empty() {
            return Err(ArnError::Shape);
        }
        if fixed.iter().any(|part| part.contains(['*', '?'])) {
            return Err(ArnError::Wildcard);
        }

        let base_len = text.len() - after.len() - 1;
        let (method, path) = after.split_once('/').unwrap_or((after, ""));
        let route = METHODS
            .contains(&method)
            .then(|| Route::new(method, format!("/{path}")));
        Ok(Self {
            full: text.to_owned(),
            base_len,
            route,
        })
    }

    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The ARN up to and including the stage: `arn:...:<api>/<stage>`.
    pub fn base(&self) -> &str {
        &self.full[..self.base_len]
    }

    /// The method and path the ARN names, when it names one.
    pub fn route(&self) -> Option<&Route> {
        self.route.as_ref()
    }

    /// The resource for every route of this API stage.
    pub fn everything(&self) -> String {
        format!("{}/*", self.base())
    }

    /// The resource for one method and a path glob starting with `/`.
    pub fn resource(&self, method: &str, path_glob: &str) -> String {
        format!("{}/{method}{path_glob}", self.base())
    }

    /// Whether the ARN can stand in a policy for itself alone: it holds no IAM wildcard.
    pub fn is_literal(&self) -> bool {
        !self.full.contains(['*', '?'])
    }
}

impl fmt::Debug for ExecuteApiArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.full, f)
    }
}

impl fmt::Display for ExecuteApiArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_arn_splits_into_base_and_route() {
        let arn = ExecuteApiArn::parse(
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/orders/1",
        )
        .unwrap();
        assert_eq!(
            arn.base(),
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod"
        );
        assert_eq!(arn.route(), Some(&Route::new("GET", "/orders/1")));
        assert_eq!(
            arn.resource("POST", "/x/*"),
            format!("{}/POST/x/*", arn.base())
        );
        assert_eq!(arn.everything(), format!("{}/*", arn.base()));
        assert!(arn.is_literal());
    }

    #[test]
    fn root_path_and_trailing_slash_keep_their_shape() {
        let arn =
            ExecuteApiArn::parse("arn:aws:execute-api:eu-west-1:123456789012:a/prod/GET/").unwrap();
        assert_eq!(arn.route(), Some(&Route::new("GET", "/")));
        let arn =
            ExecuteApiArn::parse("arn:aws:execute-api:eu-west-1:123456789012:a/prod/GET").unwrap();
        assert_eq!(arn.route(), Some(&Route::new("GET", "/")));
    }

    #[test]
    fn http_api_default_route_has_no_method() {
        let arn = ExecuteApiArn::parse(
            "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/$default",
        )
        .unwrap();
        assert_eq!(arn.route(), None);
        assert_eq!(
            arn.base(),
            "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default"
        );
    }

    #[test]
    fn wildcard_stage_or_api_is_refused() {
        for text in [
            "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/",
            "arn:aws:execute-api:us-west-2:123456789012:*/prod/GET/",
            "arn:aws:execute-api:*:123456789012:a/prod/GET/",
        ] {
            assert_eq!(
                ExecuteApiArn::parse(text),
                Err(ArnError::Wildcard),
                "{text}"
            );
        }
    }

    #[test]
    fn other_arns_are_refused() {
        for text in [
            "",
            "arn:aws:lambda:us-east-1:123456789012:function:x",
            "arn:aws:execute-api:us-east-1:123456789012:a/prod",
            "arn:aws:execute-api:us-east-1:123456789012:a/prod/",
            "arn:aws:execute-api:us-east-1:123456789012",
            "arn:aws:execute-api::123456789012:a/prod/GET/x",
        ] {
            assert_eq!(ExecuteApiArn::parse(text), Err(ArnError::Shape), "{text}");
        }
    }

    #[test]
    fn path_wildcards_are_noticed() {
        let arn = ExecuteApiArn::parse("arn:aws:execute-api:us-east-1:123456789012:a/prod/GET/x/*")
            .unwrap();
        assert!(!arn.is_literal());
        assert_eq!(arn.route(), Some(&Route::new("GET", "/x/*")));
    }
}
