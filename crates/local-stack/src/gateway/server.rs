//! The gateway itself: request capture, routing, the authorizer step and the integration call.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::authorizer::{self, Authorizer, Verdict};
use super::config::{Common, ConfigError, HttpApi, PayloadVersion, RestApi};
use super::counters::{Counters, GatewayCounters};
use super::events;
use super::exchange::{ApiInfo, Exchange, Flavor, RequestData};
use super::proxy;
use super::responses;
use super::routes::{RouteMatch, RouteTable};
use crate::runtime::InvokeError;

/// API Gateway's request payload limit.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Longest method ARN API Gateway authorizes; longer ones are answered 414.
const MAX_METHOD_ARN: usize = 1_600;

/// A local API Gateway serving one REST or HTTP API.
///
/// Build it with [`Gateway::rest`] or [`Gateway::http`], then [`serve`](Self::serve) it on a
/// loopback listener. Clones share routes, cache and counters.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    api: ApiInfo,
    routes: RouteTable,
    authorizer: Option<Authorizer>,
    counters: Counters,
}

impl Gateway {
    /// A REST API gateway; requests are served under `/{stage}`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for malformed route keys, identity sources, validation expression,
    /// TTL, names, or an authorized route without authorizer.
    pub fn rest(api: RestApi) -> Result<Self, ConfigError> {
        validate_name("stage", &api.stage, |b| {
            b.is_ascii_alphanumeric() || b"-_".contains(&b)
        })?;
        let authorizer = api
            .authorizer
            .as_ref()
            .map(Authorizer::from_rest)
            .transpose()?;
        Self::build(api.common, api.stage, Flavor::Rest, authorizer)
    }

    /// An HTTP API gateway on the `$default` stage (no path prefix).
    ///
    /// # Errors
    ///
    /// As [`Gateway::rest`], plus [`ConfigError::SimpleResponsesNeedV2`].
    pub fn http(api: HttpApi) -> Result<Self, ConfigError> {
        let authorizer = api
            .authorizer
            .as_ref()
            .map(Authorizer::from_http)
            .transpose()?;
        let flavor = Flavor::Http {
            integration_payload: api.integration_payload,
        };
        Self::build(api.common, "$default".to_owned(), flavor, authorizer)
    }

    fn build(
        common: Common,
        stage: String,
        flavor: Flavor,
        authorizer: Option<Authorizer>,
    ) -> Result<Self, ConfigError> {
        validate_name("api id", &common.api_id, |b| b.is_ascii_alphanumeric())?;
        validate_name("region", &common.region, |b| {
            b.is_ascii_alphanumeric() || b == b'-'
        })?;
        validate_name("account id", &common.account_id, |b| b.is_ascii_digit())?;
        let routes = RouteTable::parse(&common.routes, matches!(flavor, Flavor::Http { .. }))?;
        if authorizer.is_none()
            && let Some(key) = routes.any_authorized()
        {
            return Err(ConfigError::NoAuthorizer(key.to_owned()));
        }
        let api = ApiInfo {
            flavor,
            api_id: common.api_id,
            stage,
            region: common.region,
            account_id: common.account_id,
            stage_variables: common.stage_variables,
            authorizer_timeout: common.authorizer_timeout,
            integration_timeout: common.integration_timeout,
        };
        let inner = Inner {
            api,
            routes,
            authorizer,
            counters: Counters::default(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// A snapshot of the request, authorizer and integration counters.
    pub fn counters(&self) -> GatewayCounters {
        self.inner.counters.snapshot()
    }

    /// Empties the authorizer cache, as the console's "flush authorizer cache" does.
    pub fn flush_authorizer_cache(&self) {
        if let Some(authorizer) = &self.inner.authorizer {
            authorizer.clear_cache();
        }
    }

    /// The path prefix of the stage: `/prod` for a REST API, empty for an HTTP API.
    pub fn base_path(&self) -> String {
        match self.inner.api.flavor {
            Flavor::Rest => format!("/{}", self.inner.api.stage),
            Flavor::Http { .. } => String::new(),
        }
    }

    /// The routes as an axum router (every path goes through the gateway's own routing).
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&self.inner))
    }

    /// Serves the API on `listener` until the task is dropped.
    ///
    /// # Errors
    ///
    /// The I/O error that stopped the server.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let service = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).await
    }
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("api", &self.inner.api)
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

fn validate_name(
    what: &'static str,
    value: &str,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), ConfigError> {
    if value.is_empty() || value.len() > 128 || !value.bytes().all(allowed) {
        return Err(ConfigError::InvalidName {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

async fn handle(State(gateway): State<Arc<Inner>>, request: Request) -> Response {
    gateway.counters.request();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = match capture(&gateway.api, request, &request_id).await {
        Ok(data) => match gateway.api.flavor {
            Flavor::Rest => rest(&gateway, &data).await,
            Flavor::Http {
                integration_payload,
            } => http(&gateway, &data, integration_payload).await,
        },
        Err(response) => response,
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        let header = match gateway.api.flavor {
            Flavor::Rest => "x-amzn-RequestId",
            Flavor::Http { .. } => "apigw-requestid",
        };
        response.headers_mut().insert(header, value);
    }
    response
}

/// Reads the request once; answers directly when the stage is wrong or the body too large.
async fn capture(
    api: &ApiInfo,
    request: Request,
    request_id: &str,
) -> Result<RequestData, Response> {
    let (parts, body) = request.into_parts();
    let full_path = parts.uri.path().to_owned();
    let path = match api.flavor {
        Flavor::Rest => {
            let prefix = format!("/{}", api.stage);
            match full_path.strip_prefix(&prefix) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => return Err(responses::rest_forbidden()),
            }
        }
        Flavor::Http { .. } => full_path.clone(),
    };
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_owned(), |info| info.0.ip().to_string());
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| responses::payload_too_large())?;

    Ok(RequestData {
        method: parts.method.as_str().to_owned(),
        path,
        full_path,
        raw_query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
        source_ip,
        protocol: format!("{:?}", parts.version),
        request_id: request_id.to_owned(),
        time: SystemTime::now(),
    })
}

async fn rest(gateway: &Inner, data: &RequestData) -> Response {
    let Some(matched) = gateway.routes.find(&data.method, &data.path) else {
        debug!(method = %data.method, path = %data.path, "no resource matches");
        return responses::rest_missing_token();
    };
    let ex = Exchange::new(&gateway.api, data, &matched);

    let authorizer_context = if matched.route.authorized {
        if ex.arn.len() > MAX_METHOD_ARN {
            return responses::rest_uri_too_long();
        }
        match authorize(gateway, &ex).await {
            Verdict::Allow {
                principal_id,
                context,
                latency_ms,
            } => Some(authorizer::rest_context(
                principal_id.as_deref(),
                &context,
                latency_ms,
            )),
            Verdict::Unauthorized => return responses::rest_unauthorized(),
            Verdict::Denied { explicit } => return responses::rest_access_denied(explicit),
            Verdict::Failed => return responses::rest_authorizer_failure(),
        }
    } else {
        None
    };

    let event = events::v1_proxy(&ex, authorizer_context);
    match integrate(gateway, &matched, event).await {
        Ok(answer) => proxy::v1_response(&answer).unwrap_or_else(|error| {
            warn!(%error, route = %matched.route.key, reason = "integration_answer_malformed", "502");
            responses::rest_integration_failure()
        }),
        Err(IntegrationFailure::TimedOut) => responses::rest_integration_timeout(),
        Err(IntegrationFailure::Failed) => responses::rest_integration_failure(),
    }
}

async fn http(gateway: &Inner, data: &RequestData, payload: PayloadVersion) -> Response {
    let Some(matched) = gateway.routes.find(&data.method, &data.path) else {
        debug!(method = %data.method, path = %data.path, "no route matches");
        return responses::http_not_found();
    };
    let ex = Exchange::new(&gateway.api, data, &matched);

    let authorizer_context = if matched.route.authorized {
        match authorize(gateway, &ex).await {
            Verdict::Allow { context, .. } => Some(json!({"lambda": Value::Object(context)})),
            Verdict::Unauthorized => return responses::http_unauthorized(),
            Verdict::Denied { .. } => return responses::http_forbidden(),
            Verdict::Failed => return responses::http_internal_error(),
        }
    } else {
        None
    };

    let event = match payload {
        PayloadVersion::V1 => events::v1_proxy(&ex, authorizer_context),
        PayloadVersion::V2 => events::v2_proxy(&ex, authorizer_context),
    };
    let mapped = match integrate(gateway, &matched, event).await {
        Ok(answer) => match payload {
            PayloadVersion::V1 => proxy::v1_response(&answer),
            PayloadVersion::V2 => proxy::v2_response(&answer),
        },
        Err(IntegrationFailure::TimedOut) => return responses::http_unavailable(),
        Err(IntegrationFailure::Failed) => return responses::http_internal_error(),
    };
    mapped.unwrap_or_else(|error| {
        warn!(%error, route = %matched.route.key, reason = "integration_answer_malformed", "500");
        responses::http_internal_error()
    })
}

async fn authorize(gateway: &Inner, ex: &Exchange<'_>) -> Verdict {
    match &gateway.authorizer {
        Some(authorizer) => authorizer.authorize(ex, &gateway.counters).await,
        // Unreachable by construction: authorized routes need an authorizer at build time.
        None => Verdict::Failed,
    }
}

enum IntegrationFailure {
    TimedOut,
    Failed,
}

async fn integrate(
    gateway: &Inner,
    matched: &RouteMatch<'_>,
    event: Value,
) -> Result<Value, IntegrationFailure> {
    gateway.counters.integration_invocation();
    let integration = &matched.route.integration;
    let invoked = tokio::time::timeout(gateway.api.integration_timeout, integration.invoke(event));
    match invoked.await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => {
            let function = integration.name();
            warn!(function, %error, reason = integration_reason(&error), "integration failed");
            Err(IntegrationFailure::Failed)
        }
        Err(_) => {
            warn!(
                function = integration.name(),
                reason = "integration_timeout",
                "integration timed out"
            );
            Err(IntegrationFailure::TimedOut)
        }
    }
}

fn integration_reason(error: &InvokeError) -> &'static str {
    match error {
        InvokeError::Function { .. } => "integration_function_error",
        InvokeError::Timeout { .. } => "integration_function_timeout",
        _ => "integration_invoke_failed",
    }
}
