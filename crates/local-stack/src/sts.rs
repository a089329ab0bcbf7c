//! A local STS endpoint that speaks the real Query protocol for `GetWebIdentityToken`.
//!
//! Requests are `POST` form bodies signed with SigV4, exactly as the unmodified AWS SDK sends them
//! when its STS endpoint is overridden (`AWS_ENDPOINT_URL_STS` or the config loader's
//! `endpoint_url`). The access key id in the signature's `Credential` selects a configured
//! [`Principal`]; the signature is verified with that principal's secret key. Tokens are minted by
//! a [`LocalIssuer`], so they verify against its JWKS. An identity with an empty `source_region`
//! gets the region the request was signed for, as STS records the region that was called.
//!
//! Answers use STS's XML documents and error codes: `ValidationError` (400) for parameters outside
//! the model's limits, `AccessDenied` (403) when the principal's [`MintPolicy`] refuses,
//! `OutboundWebIdentityFederationDisabledException` (403) when the principal's account has the
//! feature switched off, `SessionDurationEscalationException` (403),
//! `JWTPayloadSizeExceededException` (400), `InvalidClientTokenId` (403, unknown access key),
//! `SignatureDoesNotMatch` (403), `InvalidAction` (400) and, on demand, `Throttling` (400) or
//! `InternalFailure` (500).

mod clock;
mod error;
mod params;
mod sigv4;
mod xml;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use aws_sdk_sts::config::Credentials;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use self::error::StsError;
use self::params::{Form, TokenParams};
use self::sigv4::{Authorization, SignedRequest};
use crate::issuer::{Algorithm, Identity, LocalIssuer, MintRequest};

/// The only API version STS speaks.
const API_VERSION: &str = "2011-06-15";
/// Largest request body accepted; a maximal legitimate request (10 audiences of 1000 and 50 tags of
/// 128 + 256 four-byte characters, percent-encoded) stays below it.
const MAX_BODY_BYTES: usize = 512 * 1024;
/// Default limit on the request tags' JSON size before STS would refuse the token as too large.
const DEFAULT_MAX_REQUEST_TAG_BYTES: usize = 4096;

/// An access key the local STS recognises and who signing with it is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// The access key id, sent in the SigV4 `Credential`.
    pub access_key_id: String,
    /// The secret key the SigV4 signature is checked with.
    pub secret_access_key: String,
    /// Who the tokens are for.
    pub identity: Identity,
    /// What this principal's IAM policy allows; the default allows everything.
    #[serde(default)]
    pub policy: MintPolicy,
    /// When the principal's own session ends; a token must not outlive it.
    #[serde(skip)]
    pub session_expiration: Option<SystemTime>,
}

impl Principal {
    /// A principal with an unrestricted policy and no session end.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        identity: Identity,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            identity,
            policy: MintPolicy::default(),
            session_expiration: None,
        }
    }
}

/// The conditions an identity policy puts on `sts:GetWebIdentityToken`, as IAM condition keys.
///
/// Every `None` leaves that key unconstrained.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MintPolicy {
    /// Whether any policy allows `sts:GetWebIdentityToken` at all.
    pub allow: bool,
    /// `ForAllValues:StringEquals` on `sts:IdentityTokenAudience`: every requested audience must
    /// be listed.
    pub audiences: Option<Vec<String>>,
    /// `StringEquals` on `sts:SigningAlgorithm`.
    pub algorithms: Option<Vec<Algorithm>>,
    /// `NumericLessThanEquals` on `sts:DurationSeconds`.
    pub max_duration_seconds: Option<u64>,
    /// Whether `sts:TagGetWebIdentityToken` is allowed, which request tags need.
    pub allow_tags: bool,
    /// `ForAllValues:StringEquals` on `aws:TagKeys`.
    pub tag_keys: Option<Vec<String>>,
}

impl Default for MintPolicy {
    fn default() -> Self {
        Self {
            allow: true,
            audiences: None,
            algorithms: None,
            max_duration_seconds: None,
            allow_tags: true,
            tag_keys: None,
        }
    }
}

impl MintPolicy {
    /// The IAM action that would be denied, or `None` if the policy allows the request.
    fn denied_action(&self, params: &TokenParams) -> Option<&'static str> {
        let audiences_ok = self.audiences.as_ref().is_none_or(|allowed| {
            params
                .audiences
                .iter()
                .all(|audience| allowed.contains(audience))
        });
        let algorithm_ok = self
            .algorithms
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&params.algorithm));
        let duration_ok = self
            .max_duration_seconds
            .is_none_or(|max| params.duration.as_secs() <= max);
        if !(self.allow && audiences_ok && algorithm_ok && duration_ok) {
            debug!(
                allow = self.allow,
                audiences_ok, algorithm_ok, duration_ok, "local sts policy denies the token"
            );
            return Some("sts:GetWebIdentityToken");
        }
        let keys_ok = self
            .tag_keys
            .as_ref()
            .is_none_or(|allowed| params.tags.keys().all(|key| allowed.contains(key)));
        let tags_ok = params.tags.is_empty() || (self.allow_tags && keys_ok);
        if !tags_ok {
            debug!(
                allow_tags = self.allow_tags,
                keys_ok, "local sts policy denies the tags"
            );
            return Some("sts:TagGetWebIdentityToken");
        }
        None
    }
}

/// The principals and limits of a local STS.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StsConfig {
    /// The recognised access keys.
    pub principals: Vec<Principal>,
    /// Largest JSON size of the request tags before `JWTPayloadSizeExceededException`.
    pub max_request_tag_bytes: usize,
}

impl Default for StsConfig {
    fn default() -> Self {
        Self {
            principals: Vec::new(),
            max_request_tag_bytes: DEFAULT_MAX_REQUEST_TAG_BYTES,
        }
    }
}

impl StsConfig {
    /// A configuration recognising `principals`, with default limits.
    pub fn new(principals: Vec<Principal>) -> Self {
        Self {
            principals,
            ..Self::default()
        }
    }
}

/// A fault to inject into the next request, before it is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Answer `Throttling` (400), as STS does when a rate limit is hit.
    Throttle,
    /// Answer `InternalFailure` (500).
    Internal,
    /// Answer `ServiceUnavailable` (503).
    Unavailable,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
}

/// What the local STS has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StsCounters {
    /// Every HTTP request received.
    pub requests: u64,
    /// Tokens minted.
    pub tokens_issued: u64,
    /// Requests answered with an error, injected ones included.
    pub errors: u64,
}

/// A running local STS; clones share one server, which stops with the last clone.
#[derive(Clone)]
pub struct LocalSts {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Shared {
    url: String,
    issuer: LocalIssuer,
    principals: BTreeMap<String, Principal>,
    max_request_tag_bytes: usize,
    disabled_accounts: Mutex<HashSet<String>>,
    failures: Mutex<VecDeque<Failure>>,
    requests: AtomicU64,
    tokens_issued: AtomicU64,
    errors: AtomicU64,
}

impl LocalSts {
    /// Starts a local STS on a fresh loopback port, minting with `issuer`.
    ///
    /// # Errors
    ///
    /// The I/O error when the port cannot be bound.
    pub async fn start(issuer: LocalIssuer, config: StsConfig) -> std::io::Result<LocalSts> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        Self::start_on(listener, issuer, config).await
    }

    /// Starts a local STS serving on `listener`.
    ///
    /// # Errors
    ///
    /// The I/O error when the listener's address cannot be read.
    pub async fn start_on(
        listener: TcpListener,
        issuer: LocalIssuer,
        config: StsConfig,
    ) -> std::io::Result<LocalSts> {
        let mut address = listener.local_addr()?;
        if address.ip().is_unspecified() {
            address.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        let principals = config
            .principals
            .into_iter()
            .map(|principal| (principal.access_key_id.clone(), principal))
            .collect();
        let shared = Arc::new(Shared {
            url: format!("http://{address}"),
            issuer,
            principals,
            max_request_tag_bytes: config.max_request_tag_bytes,
            disabled_accounts: Mutex::new(HashSet::new()),
            failures: Mutex::new(VecDeque::new()),
            requests: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "local sts stopped serving");
            }
        });
        debug!(url = %shared.url, "local sts started");
        Ok(LocalSts {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_STS`.
    pub fn url(&self) -> &str {
        &self.inner.shared.url
    }

    /// An AWS SDK configuration loader that reaches this STS through the SDK's own endpoint
    /// setting, signing with the given key pair in `region`.
    ///
    /// See [`sdk_config_loader`]; the loader is not loaded yet, so retries and timeouts can still
    /// be set on it.
    pub fn sdk_config_loader(
        &self,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> aws_config::ConfigLoader {
        sdk_config_loader(self.url(), region, access_key_id, secret_access_key)
    }

    /// Switches outbound identity federation on or off for `account` (on by default).
    pub fn set_federation_enabled(&self, account: &str, enabled: bool) {
        let mut disabled = lock(&self.inner.shared.disabled_accounts);
        if enabled {
            disabled.remove(account);
        } else {
            disabled.insert(account.to_owned());
        }
    }

    /// Queues `failure` for each of the next `times` requests, after any already queued.
    pub fn fail_next(&self, times: usize, failure: Failure) {
        lock(&self.inner.shared.failures).extend(std::iter::repeat_n(failure, times));
    }

    /// The counts of requests, tokens and errors so far.
    pub fn counters(&self) -> StsCounters {
        let shared = &self.inner.shared;
        StsCounters {
            requests: shared.requests.load(Ordering::Relaxed),
            tokens_issued: shared.tokens_issued.load(Ordering::Relaxed),
            errors: shared.errors.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for LocalSts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSts")
            .field("url", &self.url())
            .field("principals", &self.inner.shared.principals.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = uuid::Uuid::new_v4().to_string();
    let (status, body) = match answer(&shared, request).await {
        Ok(minted) => (
            StatusCode::OK,
            xml::get_web_identity_token_response(&minted.token, &minted.expiration, &request_id),
        ),
        Err(err) => {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            warn!(
                code = err.code,
                status = err.status.as_u16(),
                "local sts rejected a request"
            );
            (err.status, err.to_xml(&request_id))
        }
    };
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// A minted token and its `Expiration` in ISO 8601.
struct Minted {
    token: String,
    expiration: String,
}

async fn answer(shared: &Shared, request: Request) -> Result<Minted, StsError> {
    inject_failure(shared).await?;

    let (parts, body) = request.into_parts();
    let body = read_body(body).await?;
    if parts.method != http::Method::POST {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "send the Query protocol as a POST with a form-urlencoded body",
        ));
    }
    let form = Form::parse(&body);
    let action = form.get("Action").unwrap_or_default();
    let version = form.get("Version").unwrap_or_default();
    if action != "GetWebIdentityToken" || version != API_VERSION {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!(
                "Could not find operation {} for version {}",
                excerpt(action),
                excerpt(version)
            ),
        ));
    }

    let signed = SignedRequest {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let (principal, region) = authenticate(shared, &signed)?;
    get_web_identity_token(shared, principal, region, &form)
}

async fn inject_failure(shared: &Shared) -> Result<(), StsError> {
    let failure = lock(&shared.failures).pop_front();
    match failure {
        None => Ok(()),
        Some(Failure::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(())
        }
        Some(Failure::Throttle) => Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "Throttling",
            "Rate exceeded",
        )),
        Some(Failure::Internal) => Err(StsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )),
        Some(Failure::Unavailable) => Err(StsError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service is unavailable. Please try again later.",
        )),
    }
}

async fn read_body(body: Body) -> Result<Bytes, StsError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            StsError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("Request body must be at most {MAX_BODY_BYTES} bytes"),
            )
        })
}

/// The principal whose secret key produced the request's SigV4 signature, and the signing region.
fn authenticate<'s>(
    shared: &'s Shared,
    request: &SignedRequest<'_>,
) -> Result<(&'s Principal, String), StsError> {
    let authorization = Authorization::from_headers(request.headers)?;
    let principal = shared
        .principals
        .get(authorization.access_key_id)
        .ok_or_else(|| {
            StsError::new(
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        })?;
    authorization.verify(&principal.secret_access_key, request, SystemTime::now())?;
    Ok((principal, authorization.region.to_owned()))
}

fn get_web_identity_token(
    shared: &Shared,
    principal: &Principal,
    region: String,
    form: &Form,
) -> Result<Minted, StsError> {
    let params = TokenParams::from_form(form)?;
    let identity = &principal.identity;

    if let Some(action) = principal.policy.denied_action(&params) {
        return Err(StsError::access_denied(&identity.role_arn, action));
    }
    if lock(&shared.disabled_accounts).contains(&identity.account) {
        return Err(StsError::new(
            StatusCode::FORBIDDEN,
            "OutboundWebIdentityFederationDisabledException",
            "Outbound web identity federation is disabled for this account. Enable it with \
             EnableOutboundWebIdentityFederation before calling GetWebIdentityToken.",
        ));
    }
    if let Some(session_end) = principal.session_expiration
        && SystemTime::now() + params.duration > session_end
    {
        return Err(StsError::new(
            StatusCode::FORBIDDEN,
            "SessionDurationEscalationException",
            "The requested DurationSeconds exceeds the remaining duration of the calling session.",
        ));
    }
    let tag_bytes = serde_json::to_vec(&params.tags).map_or(usize::MAX, |json| json.len());
    if !params.tags.is_empty() && tag_bytes > shared.max_request_tag_bytes {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "JWTPayloadSizeExceededException",
            "The JWT payload size exceeds the maximum allowed size. Reduce the number or size of \
             request tags.",
        ));
    }

    let identity = with_region(identity, region);
    let minted = shared.issuer.mint(
        &identity,
        &MintRequest {
            audiences: params.audiences,
            algorithm: params.algorithm,
            duration: params.duration,
            request_tags: params.tags,
        },
    );
    shared.tokens_issued.fetch_add(1, Ordering::Relaxed);
    debug!(
        role_arn = %identity.role_arn,
        algorithm = params.algorithm.as_str(),
        duration_seconds = params.duration.as_secs(),
        "local sts minted a token"
    );
    Ok(Minted {
        token: minted.token,
        expiration: clock::iso8601(minted.expiration),
    })
}

/// STS records the region that was called as `source_region` unless the test fixed one.
fn with_region(identity: &Identity, region: String) -> Identity {
    let mut identity = identity.clone();
    if identity.source_region.is_empty() {
        identity.source_region = region;
    }
    identity
}

fn excerpt(text: &str) -> String {
    text.chars().take(64).collect()
}

/// An AWS SDK configuration loader for the STS at `endpoint`, through the loader's
/// `endpoint_url` (what `AWS_ENDPOINT_URL_STS` sets), with a static key pair in `region`.
///
/// This is how a program points the unmodified SDK at the local stack; nothing else about the
/// client changes.
pub fn sdk_config_loader(
    endpoint: &str,
    region: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> aws_config::ConfigLoader {
    let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "local-stack");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
}
