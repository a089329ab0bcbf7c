//! A local outbound identity federation issuer: the offline twin of an account's
//! `https://<uuid>.tokens.sts.global.api.aws` issuer.
//!
//! It holds an RSA-2048 key (`RSA_<n>`) and a P-384 key (`EC384_<n>`), serves the same minimal OIDC
//! discovery document and key set STS serves, and mints STS-shaped tokens. Switches let tests take
//! it down, slow it, rotate its keys or serve a hostile key set.

mod keys;
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use self::keys::SigningKey;

/// The key under which STS places its own claims; the trailing slash is part of it.
const AWS_CLAIMS_KEY: &str = "https://sts.amazonaws.com/";

/// Who asks for a token: the role and the context STS would add to its claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Identity {
    /// The IAM role ARN, put in `sub` and `principal_id`.
    pub role_arn: String,
    /// The role's account, put in `aws_account`.
    pub account: String,
    /// The AWS Organizations id, put in `org_id` when present.
    pub org_id: Option<String>,
    /// Organizational unit paths, put in `ou_path` as an array (as real tokens carry it).
    pub ou_paths: Vec<String>,
    /// Tags of the role or session, put in `principal_tags`.
    pub principal_tags: BTreeMap<String, String>,
    /// The region the token is requested in, put in `source_region`.
    pub source_region: String,
    /// The Lambda function asking, put in `lambda_source_function_arn` when present.
    pub lambda_source_function_arn: Option<String>,
    /// The EC2 instance asking, put in `ec2_source_instance_arn` when present.
    pub ec2_source_instance_arn: Option<String>,
    /// The VPC of that instance, put in `ec2_instance_source_vpc` when present.
    pub ec2_instance_source_vpc: Option<String>,
}

/// A signing algorithm STS offers for these tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, the default.
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA over P-384 with SHA-384.
    #[serde(rename = "ES384")]
    Es384,
}

impl Algorithm {
    /// The JOSE name: `RS256` or `ES384`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es384 => "ES384",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signing algorithm name other than `RS256` or `ES384`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm {0:?}: expected RS256 or ES384")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses `RS256` or `ES384`, case-sensitively as STS does.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "RS256" => Ok(Self::Rs256),
            "ES384" => Ok(Self::Es384),
            other => Err(UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// What a token is asked for: the `GetWebIdentityToken` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    /// The audiences; one becomes a string `aud`, several an array.
    pub audiences: Vec<String>,
    /// The signing algorithm.
    pub algorithm: Algorithm,
    /// How long the token lives (`exp - iat`); STS allows 60 s to 3600 s, default 300 s.
    pub duration: Duration,
    /// Caller-chosen tags, put in `request_tags` when there are any.
    pub request_tags: BTreeMap<String, String>,
}

impl Default for MintRequest {
    fn default() -> Self {
        Self {
            audiences: Vec::new(),
            algorithm: Algorithm::Rs256,
            duration: Duration::from_secs(300),
            request_tags: BTreeMap::new(),
        }
    }
}

/// A signed token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: String,
    /// The token's `exp`.
    pub expiration: SystemTime,
}

impl fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedToken")
            .field("token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// A running local issuer; clones share the same keys and server, which stops with the last one.
#[derive(Clone)]
pub struct LocalIssuer {
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

/// State the HTTP handlers and the handle share.
struct Shared {
    url: String,
    ring: Mutex<KeyRing>,
    switches: Mutex<Switches>,
    available: AtomicBool,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
}

/// Settings tests flip to make the issuer misbehave.
struct Switches {
    delay: Duration,
    jwks_override: Option<String>,
    discovery_override: Option<String>,
    discovery_published: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            jwks_override: None,
            discovery_override: None,
            discovery_published: true,
        }
    }
}

/// Every published key, oldest first; the last key of each algorithm signs.
struct KeyRing {
    generation: u32,
    keys: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    fn new() -> Self {
        Self {
            generation: 1,
            keys: vec![
                Arc::new(SigningKey::generate(Algorithm::Rs256, 1)),
                Arc::new(SigningKey::generate(Algorithm::Es384, 1)),
            ],
        }
    }

    fn current(&self, algorithm: Algorithm) -> Arc<SigningKey> {
        let key = self
            .keys
            .iter()
            .rev()
            .find(|key| matches_algorithm(key, algorithm));
        Arc::clone(key.expect("the key ring always holds a key of each algorithm"))
    }
}

fn matches_algorithm(key: &SigningKey, algorithm: Algorithm) -> bool {
    matches!(
        (key, algorithm),
        (SigningKey::Rsa { .. }, Algorithm::Rs256) | (SigningKey::Ec { .. }, Algorithm::Es384)
    )
}

impl Shared {
    fn lock_ring(&self) -> MutexGuard<'_, KeyRing> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_switches(&self) -> MutexGuard<'_, Switches> {
        self.switches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The discovery document, with only the members STS's has.
    fn discovery_document(&self) -> Value {
        json!({
            "issuer": self.url,
            "jwks_uri": format!("{}{}", self.url, server::JWKS_PATH),
            "claims_supported": ["aud", "exp", "iat", "iss", "jti", "sub", AWS_CLAIMS_KEY],
            "id_token_signing_alg_values_supported": ["RS256", "ES384"],
            "subject_types_supported": ["public"],
        })
    }

    /// The key set: RSA keys first, then EC keys, as STS lists them.
    fn published_jwks(&self) -> Value {
        let ring = self.lock_ring();
        let rsa = ring
            .keys
            .iter()
            .filter(|key| matches_algorithm(key, Algorithm::Rs256));
        let ec = ring
            .keys
            .iter()
            .filter(|key| matches_algorithm(key, Algorithm::Es384));
        let keys: Vec<Value> = rsa.chain(ec).map(|key| key.public_jwk()).collect();
        json!({ "keys": keys })
    }
}

impl LocalIssuer {
    /// Starts an issuer on a fresh loopback port (`127.0.0.1:0`).
    ///
    /// # Errors
    ///
    /// The I/O error when the port cannot be bound.
    pub async fn start() -> std::io::Result<LocalIssuer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        Self::start_on(listener).await
    }

    /// Starts an issuer serving on `listener`; its URL is `http://<listener address>`.
    ///
    /// # Errors
    ///
    /// The I/O error when the listener's address cannot be read or the keys cannot be generated.
    pub async fn start_on(listener: TcpListener) -> std::io::Result<LocalIssuer> {
        let mut address = listener.local_addr()?;
        if address.ip().is_unspecified() {
            address.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        // RSA key generation takes tens of milliseconds: keep it off the async workers.
        let ring = tokio::task::spawn_blocking(KeyRing::new)
            .await
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            url: format!("http://{address}"),
            ring: Mutex::new(ring),
            switches: Mutex::new(Switches::default()),
            available: AtomicBool::new(true),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
        });
        let app = server::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "local issuer stopped serving");
            }
        });
        tracing::debug!(issuer = %shared.url, "local issuer started");
        Ok(LocalIssuer {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash), as tokens carry it.
    pub fn url(&self) -> &str {
        &self.shared().url
    }

    /// The claims STS would put in a token for `identity` and `request`, issued at `now`.
    ///
    /// `aud` is a string for one audience and an array for several, `ou_path` is an array, and
    /// there is no `nbf`, as in real tokens.
    pub fn claims(&self, identity: &Identity, request: &MintRequest, now: SystemTime) -> Value {
        let issued_at = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let audience = match request.audiences.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        json!({
            "aud": audience,
            "sub": identity.role_arn,
            AWS_CLAIMS_KEY: aws_claims(identity, request),
            "iss": self.url(),
            "exp": issued_at.saturating_add(request.duration.as_secs()),
            "iat": issued_at,
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Mints a token for `identity`, signed with the current key of the requested algorithm.
    pub fn mint(&self, identity: &Identity, request: &MintRequest) -> MintedToken {
        let claims = self.claims(identity, request, SystemTime::now());
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .unwrap_or_default();
        MintedToken {
            token: self.sign(request.algorithm, &claims),
            expiration: UNIX_EPOCH + Duration::from_secs(exp),
        }
    }

    /// Signs `claims` with the current key of `algorithm`, under the header STS writes:
    /// `{"kid":…,"typ":"JWT","alg":…}`.
    pub fn sign(&self, algorithm: Algorithm, claims: &Value) -> String {
        let key = self.shared().lock_ring().current(algorithm);
        let header = format!(
            r#"{{"kid":{},"typ":"JWT","alg":"{}"}}"#,
            Value::from(key.kid()),
            algorithm.as_str()
        );
        sign_parts(&key, header.as_bytes(), claims.to_string().as_bytes())
    }

    /// Signs `claims` under `header` exactly as given (no `kid` or `alg` added), with the current
    /// key of `algorithm`: for tokens whose header lies.
    pub fn sign_with_header(&self, algorithm: Algorithm, header: &Value, claims: &Value) -> String {
        self.sign_bytes(
            algorithm,
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
        )
    }

    /// Signs raw header and payload bytes with the current key of `algorithm`: for tokens whose
    /// JSON no serializer would write (duplicate members, odd whitespace, invalid UTF-8).
    pub fn sign_bytes(&self, algorithm: Algorithm, header: &[u8], payload: &[u8]) -> String {
        let key = self.shared().lock_ring().current(algorithm);
        sign_parts(&key, header, payload)
    }

    /// Makes new keys `RSA_<n+1>` and `EC384_<n+1>` current; the older keys stay published.
    pub fn rotate(&self) {
        let generation = self.shared().lock_ring().generation + 1;
        let rsa = Arc::new(SigningKey::generate(Algorithm::Rs256, generation));
        let ec = Arc::new(SigningKey::generate(Algorithm::Es384, generation));
        let mut ring = self.shared().lock_ring();
        ring.generation = ring.generation.max(generation);
        ring.keys.extend([rsa, ec]);
    }

    /// Stops publishing every key but the current one of each algorithm.
    pub fn retire_previous(&self) {
        let mut ring = self.shared().lock_ring();
        let current = [
            ring.current(Algorithm::Rs256),
            ring.current(Algorithm::Es384),
        ];
        ring.keys
            .retain(|key| current.iter().any(|kept| Arc::ptr_eq(kept, key)));
    }

    /// The key ids that sign now: `(RSA_<n>, EC384_<n>)`.
    pub fn current_key_ids(&self) -> (String, String) {
        let ring = self.shared().lock_ring();
        (
            ring.current(Algorithm::Rs256).kid().to_owned(),
            ring.current(Algorithm::Es384).kid().to_owned(),
        )
    }

    /// Takes the issuer down (`false`: discovery and key set answer 503) or brings it back.
    pub fn set_available(&self, up: bool) {
        self.shared().available.store(up, Ordering::SeqCst);
    }

    /// Delays every response by `delay` (zero for none), to play a slow issuer.
    pub fn set_delay(&self, delay: Duration) {
        self.shared().lock_switches().delay = delay;
    }

    /// Serves `body` verbatim as the key set instead of the real keys (`None` restores them).
    pub fn set_jwks_override(&self, body: Option<String>) {
        self.shared().lock_switches().jwks_override = body;
    }

    /// Serves `body` verbatim as the discovery document instead of the real one (`None` restores
    /// it), e.g. to point `jwks_uri` elsewhere.
    pub fn set_discovery_override(&self, body: Option<String>) {
        self.shared().lock_switches().discovery_override = body;
    }

    /// Stops serving the discovery document (`false`: 404) or serves it again, like an issuer
    /// that publishes only its key set.
    pub fn set_discovery_published(&self, published: bool) {
        self.shared().lock_switches().discovery_published = published;
    }

    /// How many key set requests reached the issuer, answered or not.
    pub fn jwks_fetches(&self) -> usize {
        self.shared().jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many discovery requests reached the issuer, answered or not.
    pub fn discovery_fetches(&self) -> usize {
        self.shared().discovery_fetches.load(Ordering::SeqCst)
    }

    /// The real published key set (ignoring any override), e.g. to write a `JWKS_FILE`.
    pub fn jwks(&self) -> Value {
        self.shared().published_jwks()
    }

    /// Checks `token` as an independent relying party would, with jsonwebtoken against this
    /// issuer's published key set, for `iss` this issuer and `aud` including `audience`, and
    /// returns its claims.
    ///
    /// This is a cross-check of what the local issuer mints, written apart from the product's
    /// verifier so that a mistake in one is not hidden by the same mistake in the other.
    ///
    /// # Errors
    ///
    /// jsonwebtoken's error when the header names no published key (`InvalidKeyFormat` for a
    /// missing `kid`, `InvalidSignature` for an unknown one) or the token fails its checks.
    pub fn claims_of(&self, token: &str, audience: &str) -> jsonwebtoken::errors::Result<Value> {
        use jsonwebtoken::errors::ErrorKind;

        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.ok_or(ErrorKind::InvalidKeyFormat)?;
        let key_set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(self.jwks())?;
        let jwk = key_set.find(&kid).ok_or(ErrorKind::InvalidSignature)?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[self.url()]);
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
    }

    /// The real discovery document (ignoring any override).
    pub fn discovery_document(&self) -> Value {
        self.shared().discovery_document()
    }
}

impl fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rsa, ec) = self.current_key_ids();
        f.debug_struct("LocalIssuer")
            .field("url", &self.url())
            .field("current_keys", &[rsa, ec])
            .finish_non_exhaustive()
    }
}

/// The object STS adds under `https://sts.amazonaws.com/`; optional members only when they apply.
fn aws_claims(identity: &Identity, request: &MintRequest) -> Value {
    let mut claims = Map::new();
    let mut put = |key: &str, value: Value| {
        claims.insert(key.to_owned(), value);
    };
    put("aws_account", json!(identity.account));
    put("source_region", json!(identity.source_region));
    put("principal_id", json!(identity.role_arn));
    if let Some(org_id) = &identity.org_id {
        put("org_id", json!(org_id));
    }
    if !identity.ou_paths.is_empty() {
        put("ou_path", json!(identity.ou_paths));
    }
    if !identity.principal_tags.is_empty() {
        put("principal_tags", json!(identity.principal_tags));
    }
    let optional = [
        (
            "lambda_source_function_arn",
            &identity.lambda_source_function_arn,
        ),
        ("ec2_source_instance_arn", &identity.ec2_source_instance_arn),
        ("ec2_instance_source_vpc", &identity.ec2_instance_source_vpc),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            put(key, json!(value));
        }
    }
    if !request.request_tags.is_empty() {
        put("request_tags", json!(request.request_tags));
    }
    Value::Object(claims)
}

/// Joins the base64url header and payload and appends the signature (RFC 7515 §7.1).
fn sign_parts(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}
