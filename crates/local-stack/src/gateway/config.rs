//! How an API is described: its routes, stage, authorizer and integrations.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Invoke;

/// API Gateway's maximum authorizer result TTL.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(3_600);
/// REST API authorizers cache for 300 s unless told otherwise.
const REST_DEFAULT_TTL: Duration = Duration::from_secs(300);
/// API Gateway stops waiting for a Lambda authorizer after 10 s.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);
/// REST API integration timeout (29 s, the long-standing default and maximum).
const REST_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// HTTP API integration timeout (30 s).
const HTTP_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A payload format version of HTTP API authorizers and integrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadVersion {
    /// `1.0`: the REST-compatible shape.
    V1,
    /// `2.0`: the HTTP API shape (`routeKey`, `rawPath`, `cookies`, ...).
    V2,
}

/// Why an API description was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A route key is not `METHOD /path` (or `$default` for HTTP APIs).
    #[error("invalid route key {key:?}: {reason}")]
    InvalidRouteKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same route key is configured twice.
    #[error("duplicate route {0:?}")]
    DuplicateRoute(String),
    /// An authorized route was configured on an API without authorizer.
    #[error("route {0:?} needs an authorizer but the api has none")]
    NoAuthorizer(String),
    /// An identity source is not one of the documented selection expressions.
    #[error("invalid identity source {0:?}")]
    InvalidIdentitySource(String),
    /// A TOKEN authorizer's validation expression is not a valid regular expression.
    #[error("invalid token validation expression")]
    InvalidValidationExpression(#[source] regex_lite::Error),
    /// The result TTL is above API Gateway's 3600 s maximum.
    #[error("authorizer result ttl {0:?} exceeds 3600 s")]
    TtlTooLong(Duration),
    /// Caching needs at least one identity source to build its key.
    #[error("authorizer caching needs at least one identity source")]
    CacheWithoutIdentitySource,
    /// Simple responses exist only for HTTP API authorizers with payload format 2.0.
    #[error("simple responses need authorizer payload format 2.0")]
    SimpleResponsesNeedV2,
    /// An id, stage, region or account is empty or holds characters that break ARNs.
    #[error("invalid {what} {value:?}")]
    InvalidName {
        /// Which setting.
        what: &'static str,
        /// The value as given.
        value: String,
    },
}

/// One configured route and where it goes.
#[derive(Clone)]
pub(crate) struct RouteSpec {
    pub(crate) key: String,
    pub(crate) integration: Arc<dyn Invoke>,
    pub(crate) authorized: bool,
}

impl fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteSpec")
            .field("key", &self.key)
            .field("integration", &self.integration.name())
            .field("authorized", &self.authorized)
            .finish()
    }
}

/// The settings both API kinds share.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub(crate) api_id: String,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) stage_variables: BTreeMap<String, String>,
    pub(crate) routes: Vec<RouteSpec>,
    pub(crate) authorizer_timeout: Duration,
    pub(crate) integration_timeout: Duration,
}

impl Common {
    fn new(api_id: String, integration_timeout: Duration) -> Self {
        Self {
            api_id,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            stage_variables: BTreeMap::new(),
            routes: Vec::new(),
            authorizer_timeout: AUTHORIZER_TIMEOUT,
            integration_timeout,
        }
    }
}

/// A Lambda authorizer function shared by the two authorizer kinds.
#[derive(Clone)]
pub(crate) struct AuthorizerFunction(pub(crate) Arc<dyn Invoke>);

impl fmt::Debug for AuthorizerFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A REST API (API Gateway v1) with Lambda proxy integrations, served under `/{stage}`.
///
/// Defaults: region `us-east-1`, account `123456789012`, authorizer timeout 10 s, integration
/// timeout 29 s.
#[derive(Clone, Debug)]
pub struct RestApi {
    pub(crate) common: Common,
    pub(crate) stage: String,
    pub(crate) authorizer: Option<RestAuthorizer>,
}

/// An HTTP API (API Gateway v2) on its `$default` stage.
///
/// Defaults: region `us-east-1`, account `123456789012`, integration payload format 2.0,
/// authorizer timeout 10 s, integration timeout 30 s.
#[derive(Clone, Debug)]
pub struct HttpApi {
    pub(crate) common: Common,
    pub(crate) authorizer: Option<HttpAuthorizer>,
    pub(crate) integration_payload: PayloadVersion,
}

macro_rules! common_setters {
    () => {
        /// Sets the region used in ARNs and the domain name.
        #[must_use]
        pub fn region(mut self, region: impl Into<String>) -> Self {
            self.common.region = region.into();
            self
        }

        /// Sets the account id used in ARNs.
        #[must_use]
        pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
            self.common.account_id = account_id.into();
            self
        }

        /// Adds a stage variable (visible to events and usable as identity source).
        #[must_use]
        pub fn stage_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.common
                .stage_variables
                .insert(name.into(), value.into());
            self
        }

        /// Adds a route guarded by the API's authorizer.
        #[must_use]
        pub fn route(mut self, key: impl Into<String>, integration: Arc<dyn Invoke>) -> Self {
            self.common.routes.push(RouteSpec {
                key: key.into(),
                integration,
                authorized: true,
            });
            self
        }

        /// Adds a route without authorization.
        #[must_use]
        pub fn open_route(mut self, key: impl Into<String>, integration: Arc<dyn Invoke>) -> Self {
            self.common.routes.push(RouteSpec {
                key: key.into(),
                integration,
                authorized: false,
            });
            self
        }

        /// Sets how long the gateway waits for the authorizer before answering 500.
        #[must_use]
        pub fn authorizer_timeout(mut self, timeout: Duration) -> Self {
            self.common.authorizer_timeout = timeout;
            self
        }

        /// Sets how long the gateway waits for an integration.
        #[must_use]
        pub fn integration_timeout(mut self, timeout: Duration) -> Self {
            self.common.integration_timeout = timeout;
            self
        }
    };
}

impl RestApi {
    /// A REST API `api_id` deployed to `stage` (e.g. `prod`).
    pub fn new(api_id: impl Into<String>, stage: impl Into<String>) -> Self {
        Self {
            common: Common::new(api_id.into(), REST_INTEGRATION_TIMEOUT),
            stage: stage.into(),
            authorizer: None,
        }
    }

    common_setters!();

    /// Attaches the Lambda authorizer used by [`route`](Self::route)s.
    #[must_use]
    pub fn authorizer(mut self, authorizer: RestAuthorizer) -> Self {
        self.authorizer = Some(authorizer);
        self
    }
}

impl HttpApi {
    /// An HTTP API `api_id` on its `$default` stage.
    pub fn new(api_id: impl Into<String>) -> Self {
        Self {
            common: Common::new(api_id.into(), HTTP_INTEGRATION_TIMEOUT),
            authorizer: None,
            integration_payload: PayloadVersion::V2,
        }
    }

    common_setters!();

    /// Attaches the Lambda authorizer used by [`route`](Self::route)s.
    #[must_use]
    pub fn authorizer(mut self, authorizer: HttpAuthorizer) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// Sets the payload format of the Lambda integrations (2.0 by default).
    #[must_use]
    pub fn integration_payload(mut self, version: PayloadVersion) -> Self {
        self.integration_payload = version;
        self
    }
}

/// What a REST authorizer reads from the request.
#[derive(Clone, Debug)]
pub(crate) enum RestAuthorizerKind {
    Token {
        header: String,
        validation: Option<String>,
    },
    Request {
        identity_sources: Vec<String>,
    },
}

/// A REST API Lambda authorizer: `TOKEN` or `REQUEST`.
///
/// The result TTL defaults to 300 s, as in API Gateway; zero disables caching.
#[derive(Clone, Debug)]
pub struct RestAuthorizer {
    pub(crate) function: AuthorizerFunction,
    pub(crate) kind: RestAuthorizerKind,
    pub(crate) ttl: Duration,
}

impl RestAuthorizer {
    /// A `TOKEN` authorizer reading the token from `header` (a header name, or
    /// `method.request.header.<name>`).
    pub fn token(function: Arc<dyn Invoke>, header: impl Into<String>) -> Self {
        Self {
            function: AuthorizerFunction(function),
            kind: RestAuthorizerKind::Token {
                header: header.into(),
                validation: None,
            },
            ttl: REST_DEFAULT_TTL,
        }
    }

    /// A `REQUEST` authorizer with identity sources such as `method.request.header.Authorization`,
    /// `method.request.querystring.x`, `stageVariables.x` or `context.x` (the HTTP API `$...`
    /// spellings are accepted too).
    pub fn request<I, S>(function: Arc<dyn Invoke>, identity_sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let identity_sources = identity_sources.into_iter().map(Into::into).collect();
        Self {
            function: AuthorizerFunction(function),
            kind: RestAuthorizerKind::Request { identity_sources },
            ttl: REST_DEFAULT_TTL,
        }
    }

    /// Sets a `TOKEN` validation expression: a token that does not match it in full is answered
    /// 401 without invoking the function. Ignored for `REQUEST` authorizers, as in API Gateway.
    #[must_use]
    pub fn validation_expression(mut self, regex: impl Into<String>) -> Self {
        if let RestAuthorizerKind::Token { validation, .. } = &mut self.kind {
            *validation = Some(regex.into());
        }
        self
    }

    /// Sets the result TTL (zero disables caching; at most 3600 s).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

/// An HTTP API Lambda authorizer.
///
/// Defaults: no identity sources, TTL zero (no caching), IAM policy answers.
#[derive(Clone, Debug)]
pub struct HttpAuthorizer {
    pub(crate) function: AuthorizerFunction,
    pub(crate) payload: PayloadVersion,
    pub(crate) simple_responses: bool,
    pub(crate) identity_sources: Vec<String>,
    pub(crate) ttl: Duration,
}

impl HttpAuthorizer {
    /// An authorizer invoked with payload format `payload`.
    pub fn new(function: Arc<dyn Invoke>, payload: PayloadVersion) -> Self {
        Self {
            function: AuthorizerFunction(function),
            payload,
            simple_responses: false,
            identity_sources: Vec::new(),
            ttl: Duration::ZERO,
        }
    }

    /// Chooses `{"isAuthorized": bool}` answers instead of IAM policies (format 2.0 only).
    #[must_use]
    pub fn simple_responses(mut self, enabled: bool) -> Self {
        self.simple_responses = enabled;
        self
    }

    /// Adds an identity source such as `$request.header.Authorization`,
    /// `$request.querystring.x`, `$stageVariables.x` or `$context.routeKey`.
    #[must_use]
    pub fn identity_source(mut self, source: impl Into<String>) -> Self {
        self.identity_sources.push(source.into());
        self
    }

    /// Sets the result TTL (zero disables caching; at most 3600 s).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}
