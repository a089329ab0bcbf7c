//! The verification pipeline: from a compact JWS to a [`VerifiedCaller`], one check at a time.
//!
//! The order is fixed so that cheap, local checks come first and nothing the token says can make
//! the verifier reach the network before its issuer is known to be trusted: size, shape, header,
//! issuer, key, signature, then the claims. Header members that point elsewhere for keys (`jku`,
//! `x5u`, `jwk`, `x5c`) are never read.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::claims::{AWS_CLAIMS_KEY, AwsClaims};
use crate::config::{ConfigError, JWKS_FILE, VerifierConfig};
use crate::error::VerifyError;
use crate::identity::{RoleArn, SigningAlgorithm, VerifiedCaller};
use crate::keys::{CachePolicy, Fetcher, KeyCache, KeySet, truncate, valid_kid};

/// Largest `JWKS_FILE` read; a file of a few issuers' key sets is a few kilobytes.
const MAX_JWKS_FILE_BYTES: u64 = 1024 * 1024;

/// Verifies STS web identity tokens against the configured issuers and audiences.
///
/// Cheap to clone: clones share the key cache. Build one per process, at start-up.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    keys: KeyCache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.inner.config.issuers)
            .field("audiences", &self.inner.config.audiences)
            .field("algorithms", &self.inner.config.algorithms)
            .finish_non_exhaustive()
    }
}

/// What the checks learned so far, for the rejection log line (never the token itself).
#[derive(Default)]
struct Seen<'a> {
    issuer: Option<&'a str>,
    kid: Option<String>,
}

impl Verifier {
    /// Builds a verifier, reading `JWKS_FILE` if the configuration names one.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when a setting is out of bounds (see [`VerifierConfig::validate`]), or
    /// when the key file cannot be read, names an issuer that is not trusted, or gives an issuer
    /// no usable key.
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let pinned = match &config.jwks_file {
            Some(path) => read_jwks_file(path, &config)?,
            None => Vec::new(),
        };
        let fetcher = Fetcher::new(
            config.fetch_timeout,
            config.max_document_bytes,
            config.allow_loopback_issuers,
        )
        .map_err(|error| {
            ConfigError::new(
                "(http client)",
                format!("cannot build the http client: {error}"),
            )
        })?;
        let policy = CachePolicy {
            ttl: config.cache_ttl,
            cooldown: config.refetch_cooldown,
            max_stale: config.max_stale,
            fetch_timeout: config.fetch_timeout,
            algorithms: config.algorithms.clone(),
        };
        let keys = KeyCache::new(&config.issuers, pinned, fetcher, policy);
        Ok(Self {
            inner: Arc::new(Inner { config, keys }),
        })
    }

    /// Fetches the keys of every trusted issuer not pinned by `JWKS_FILE`, ahead of the first
    /// request (during the Lambda init phase, whose CPU is not throttled).
    ///
    /// A failure here counts as a fetch attempt: the refetch cool-down applies to the next one.
    ///
    /// # Errors
    ///
    /// [`VerifyError::KeysUnavailable`] for the first issuer whose keys could not be fetched.
    pub async fn prefetch(&self) -> Result<(), VerifyError> {
        self.inner.keys.prefetch().await
    }

    /// Verifies a compact JWS token and returns the caller it names.
    ///
    /// Checks, in order: length; three unpadded base64url segments with JSON object header and
    /// payload; `alg` allowed; `kid` present; no `crit`; `iss` trusted (before any key lookup);
    /// a key with that `kid` (refetching under the cache rules); `alg` equal to the key's; the
    /// signature; `aud`; `exp`; `iat` (not in the future, not older than the maximum age); `nbf`
    /// when present; `sub` an IAM role ARN; `aws_account` equal to the role's account. Every time
    /// check allows the configured leeway.
    ///
    /// # Errors
    ///
    /// The [`VerifyError`] of the first check that failed; only
    /// [`VerifyError::KeysUnavailable`] is not the token's fault.
    pub async fn verify(&self, token: &str) -> Result<VerifiedCaller, VerifyError> {
        let mut seen = Seen::default();
        let result = self.check(token, &mut seen).await;
        match &result {
            Ok(caller) => tracing::debug!(
                issuer = caller.issuer(),
                kid = caller.key_id(),
                role = %caller.role(),
                "token verified"
            ),
            Err(error) => tracing::debug!(
                reason = error.reason(),
                issuer = seen.issuer,
                kid = seen.kid.as_deref(),
                %error,
                "token rejected"
            ),
        }
        result
    }

    async fn check<'a>(
        &'a self,
        token: &str,
        seen: &mut Seen<'a>,
    ) -> Result<VerifiedCaller, VerifyError> {
        let config = &self.inner.config;
        if token.len() > config.max_token_bytes {
            return Err(VerifyError::TooLarge {
                limit: config.max_token_bytes,
            });
        }
        let jws = CompactJws::decode(token)?;
        let header = Header::parse(&jws.header)?;
        let claims = Claims::parse(&jws.payload)?;

        let algorithm = self.allowed_algorithm(header.alg.as_deref())?;
        let kid = header.key_id()?;
        seen.kid = Some(kid.clone());
        if header.crit {
            return Err(VerifyError::CriticalHeader);
        }
        let issuer = claims
            .iss
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|iss| self.inner.keys.trusted_issuer(iss))
            .ok_or(VerifyError::UntrustedIssuer)?;
        seen.issuer = Some(issuer);

        let key = self.inner.keys.key(issuer, &kid).await?;
        if key.algorithm() != algorithm {
            return Err(VerifyError::AlgorithmMismatch);
        }
        if !key.verifies(jws.signing_input.as_bytes(), &jws.signature) {
            return Err(VerifyError::BadSignature);
        }

        let audience = self.allowed_audience(claims.aud.as_ref())?;
        let times = self.check_times(&claims)?;
        let role = subject(claims.sub.as_ref())?;
        let (aws, request_tags) = aws_claims(claims.aws.as_ref(), &role)?;
        let token_id = match claims.jti {
            None => None,
            Some(Value::String(jti)) => Some(jti),
            Some(_) => return Err(VerifyError::InvalidClaim("jti")),
        };

        Ok(VerifiedCaller {
            role,
            issuer: issuer.to_owned(),
            audience,
            token_id,
            issued_at: times.issued_at,
            expires_at: times.expires_at,
            key_id: kid,
            algorithm,
            aws,
            request_tags,
        })
    }

    fn allowed_algorithm(&self, alg: Option<&str>) -> Result<SigningAlgorithm, VerifyError> {
        let alg = alg.ok_or(VerifyError::Malformed("header has no alg"))?;
        SigningAlgorithm::from_jose(alg)
            .filter(|algorithm| self.inner.config.algorithms.contains(algorithm))
            .ok_or_else(|| VerifyError::AlgorithmNotAllowed(truncate(alg, 32)))
    }

    /// The first of the token's audiences (in token order) that the configuration allows.
    fn allowed_audience(&self, aud: Option<&Value>) -> Result<String, VerifyError> {
        let invalid = VerifyError::InvalidClaim("aud");
        let audiences: Vec<&str> = match aud {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) if !many.is_empty() => many
                .iter()
                .map(Value::as_str)
                .collect::<Option<_>>()
                .ok_or(invalid)?,
            _ => return Err(invalid),
        };
        let allowed = &self.inner.config.audiences;
        audiences
            .into_iter()
            .find(|audience| allowed.iter().any(|allowed| allowed == audience))
            .map(str::to_owned)
            .ok_or(VerifyError::AudienceNotAllowed)
    }

    fn check_times(&self, claims: &Claims) -> Result<Times, VerifyError> {
        let config = &self.inner.config;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let leeway = config.leeway.as_secs();

        let expires_at =
            numeric_date(claims.exp.as_ref()).ok_or(VerifyError::InvalidClaim("exp"))?;
        // RFC 7519 §4.1.4: the token is valid only before `exp`.
        if now >= expires_at.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        let issued_at =
            numeric_date(claims.iat.as_ref()).ok_or(VerifyError::InvalidClaim("iat"))?;
        if issued_at > now.saturating_add(leeway) {
            return Err(VerifyError::IssuedInFuture);
        }
        if now.saturating_sub(issued_at) > config.max_token_age.as_secs().saturating_add(leeway) {
            return Err(VerifyError::TooOld);
        }
        if let Some(nbf) = &claims.nbf {
            let not_before = numeric_date(Some(nbf)).ok_or(VerifyError::InvalidClaim("nbf"))?;
            if not_before > now.saturating_add(leeway) {
                return Err(VerifyError::NotYetValid);
            }
        }
        Ok(Times {
            issued_at,
            expires_at,
        })
    }
}

struct Times {
    issued_at: u64,
    expires_at: u64,
}

/// A compact JWS split into its decoded parts (RFC 7515 §7.1).
struct CompactJws<'a> {
    signing_input: &'a str,
    header: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes; the base64url engine refuses padding, whitespace and non-canonical
    /// trailing bits, so each token has exactly one encoding.
    fn decode(token: &'a str) -> Result<Self, VerifyError> {
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(VerifyError::Malformed("not three dot-separated segments"));
        };
        if signature.is_empty() {
            return Err(VerifyError::Malformed("signature segment is empty"));
        }
        let decode = |segment: &str, what| {
            URL_SAFE_NO_PAD
                .decode(segment)
                .map_err(|_| VerifyError::Malformed(what))
        };
        Ok(Self {
            signing_input: &token[..header.len() + 1 + payload.len()],
            header: decode(header, "header is not base64url")?,
            payload: decode(payload, "payload is not base64url")?,
            signature: decode(signature, "signature is not base64url")?,
        })
    }
}

/// The header members this verifier reads; all others (including `jku`, `x5u`, `jwk`, `x5c`)
/// are ignored. A member named twice makes the header malformed.
#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        json_object(bytes, "header is not a json object with string alg and kid")
    }

    fn key_id(&self) -> Result<String, VerifyError> {
        match self.kid.as_deref() {
            None | Some("") => Err(VerifyError::MissingKeyId),
            Some(kid) if valid_kid(kid) => Ok(kid.to_owned()),
            Some(_) => Err(VerifyError::Malformed(
                "kid is too long or not printable ascii",
            )),
        }
    }
}

/// The claims this verifier checks, each kept as raw JSON so a wrong type gets its own reason.
/// A claim named twice makes the payload malformed.
#[derive(Deserialize)]
struct Claims {
    iss: Option<Value>,
    sub: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    jti: Option<Value>,
    #[serde(rename = "https://sts.amazonaws.com/")]
    aws: Option<Value>,
}

impl Claims {
    fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        json_object(bytes, "payload is not a json object")
    }
}

/// Parses a JSON object into `T`; serde would also take an array for a struct, so the first
/// byte is checked.
fn json_object<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, VerifyError> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(VerifyError::Malformed(what));
    }
    serde_json::from_slice(bytes).map_err(|_| VerifyError::Malformed(what))
}

/// Deserializes any value and reports that the member was there (even as `null`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A NumericDate (RFC 7519 §2): non-negative seconds, fractions dropped.
fn numeric_date(value: Option<&Value>) -> Option<u64> {
    let number = value?.as_number()?;
    if let Some(seconds) = number.as_u64() {
        return Some(seconds);
    }
    let seconds = number.as_f64()?;
    // Fractions truncate; the cast saturates, and no real date comes near either bound.
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds as u64)
}

fn subject(sub: Option<&Value>) -> Result<RoleArn, VerifyError> {
    let sub = sub
        .and_then(Value::as_str)
        .ok_or(VerifyError::InvalidClaim("sub"))?;
    RoleArn::parse(sub).map_err(VerifyError::SubjectNotARole)
}

fn aws_claims(
    namespace: Option<&Value>,
    role: &RoleArn,
) -> Result<(AwsClaims, crate::identity::CallerAssertedTags), VerifyError> {
    let Some(Value::Object(members)) = namespace else {
        return Err(VerifyError::InvalidClaim(AWS_CLAIMS_KEY));
    };
    let (aws, request_tags) = AwsClaims::parse(members);
    if aws.aws_account.as_deref() != Some(role.account().as_str()) {
        return Err(VerifyError::AccountMismatch);
    }
    Ok((aws, request_tags))
}

/// Reads `JWKS_FILE`: `{"<issuer>": <jwks>, …}`, every issuer trusted, every key set usable.
fn read_jwks_file(
    path: &Path,
    config: &VerifierConfig,
) -> Result<Vec<(String, KeySet)>, ConfigError> {
    let error = |message: String| ConfigError::new(JWKS_FILE, message);
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|source| error(format!("cannot read {shown}: {source}")))?
        .len();
    if size > MAX_JWKS_FILE_BYTES {
        return Err(error(format!(
            "{shown} is larger than {MAX_JWKS_FILE_BYTES} bytes"
        )));
    }
    let text =
        std::fs::read(path).map_err(|source| error(format!("cannot read {shown}: {source}")))?;
    let document: serde_json::Map<String, Value> = serde_json::from_slice(&text)
        .map_err(|source| error(format!("{shown} is not a json object: {source}")))?;

    let mut pinned = Vec::with_capacity(document.len());
    for (issuer, jwks) in &document {
        if !config.issuers.contains(issuer) {
            return Err(error(format!(
                "{shown} names {issuer:?}, which is not in TRUSTED_ISSUERS"
            )));
        }
        let keys = KeySet::from_value(jwks, &config.algorithms)
            .map_err(|source| error(format!("{shown}: key set of {issuer:?}: {source}")))?;
        tracing::debug!(issuer = %issuer, keys = keys.len(), "issuer keys pinned from file");
        pinned.push((issuer.clone(), keys));
    }
    Ok(pinned)
}
