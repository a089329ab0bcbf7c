//! Verifier configuration, read once at start-up from the environment or built in code.
//!
//! Every setting has the environment variable named in the project's contract; a bad value is a
//! [`ConfigError`] naming that variable, so a misconfigured authorizer fails its cold start instead
//! of rejecting or, worse, accepting tokens at run time.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::identity::SigningAlgorithm;

/// `TRUSTED_ISSUERS`: comma-separated issuer URLs, exactly as tokens carry them in `iss`.
pub const TRUSTED_ISSUERS: &str = "TRUSTED_ISSUERS";
/// `ALLOWED_AUDIENCES`: comma-separated audiences, one of which a token's `aud` must hold.
pub const ALLOWED_AUDIENCES: &str = "ALLOWED_AUDIENCES";
/// `ALLOWED_ALGORITHMS`: comma-separated JOSE names, default `RS256,ES384`.
pub const ALLOWED_ALGORITHMS: &str = "ALLOWED_ALGORITHMS";
/// `CLOCK_LEEWAY_SECONDS`: tolerated clock skew, default 30, at most 300.
pub const CLOCK_LEEWAY_SECONDS: &str = "CLOCK_LEEWAY_SECONDS";
/// `MAX_TOKEN_AGE_SECONDS`: oldest accepted `iat`, default 3600.
pub const MAX_TOKEN_AGE_SECONDS: &str = "MAX_TOKEN_AGE_SECONDS";
/// `JWKS_CACHE_TTL_SECONDS`: how long fetched keys count as fresh, default 900.
pub const JWKS_CACHE_TTL_SECONDS: &str = "JWKS_CACHE_TTL_SECONDS";
/// `JWKS_FETCH_TIMEOUT_MS`: budget for discovery plus key set fetch, default 2000.
pub const JWKS_FETCH_TIMEOUT_MS: &str = "JWKS_FETCH_TIMEOUT_MS";
/// `JWKS_REFETCH_COOLDOWN_SECONDS`: least time between two fetches for one issuer, default 30.
pub const JWKS_REFETCH_COOLDOWN_SECONDS: &str = "JWKS_REFETCH_COOLDOWN_SECONDS";
/// `JWKS_MAX_STALE_SECONDS`: how long past the TTL keys serve while the issuer is down, default
/// 21600.
pub const JWKS_MAX_STALE_SECONDS: &str = "JWKS_MAX_STALE_SECONDS";
/// `JWKS_FILE`: optional path to `{"<issuer>": <jwks>, …}` for functions with no egress.
pub const JWKS_FILE: &str = "JWKS_FILE";
/// `ALLOW_LOOPBACK_ISSUERS`: accept `http://` loopback issuers (local stack only), default false.
pub const ALLOW_LOOPBACK_ISSUERS: &str = "ALLOW_LOOPBACK_ISSUERS";

/// The largest clock leeway accepted: more would let expired tokens live on for minutes.
pub const MAX_CLOCK_LEEWAY: Duration = Duration::from_secs(300);
/// Default limit on a token's length; real STS tokens are about 1.4 KB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default limit on a discovery document or key set body; STS's key set is under 2 KB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// How a [`crate::Verifier`] decides which tokens to accept and how it fetches keys.
///
/// Build it with [`VerifierConfig::from_env`] in a Lambda function, or with
/// [`VerifierConfig::new`] and the public fields in code and tests. [`crate::Verifier::new`]
/// validates it again, so a value set in code gets the same checks as one read from the
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// Issuers whose tokens are accepted, compared byte for byte with `iss`. Each must be an
    /// `https` URL without user info, query, fragment or trailing slash.
    pub issuers: Vec<String>,
    /// Audiences of which a token's `aud` must hold at least one.
    pub audiences: Vec<String>,
    /// Algorithms a token may be signed with; default RS256 and ES384.
    pub algorithms: Vec<SigningAlgorithm>,
    /// Clock skew tolerated on `exp`, `iat` and `nbf`; default 30 s, at most 300 s.
    pub leeway: Duration,
    /// Oldest `iat` accepted, independent of `exp`; default one hour.
    pub max_token_age: Duration,
    /// How long fetched keys count as fresh; default 15 minutes.
    pub cache_ttl: Duration,
    /// Budget for one key fetch (discovery and key set together); default 2 s.
    pub fetch_timeout: Duration,
    /// Least time between two fetch attempts for one issuer, whatever triggers them (an unknown
    /// `kid`, expired keys, an earlier failure); default 30 s.
    pub refetch_cooldown: Duration,
    /// How long past the TTL cached keys still serve while fetches fail; default 6 hours.
    pub max_stale: Duration,
    /// A file of pinned key sets, `{"<issuer>": <jwks>, …}`: those issuers are never fetched.
    pub jwks_file: Option<PathBuf>,
    /// Accept `http://` issuers on loopback hosts (`127.0.0.0/8`, `localhost`, `[::1]`); default
    /// false, for the local stack only.
    pub allow_loopback_issuers: bool,
    /// Longest token accepted, checked before anything else; default 8 KiB.
    pub max_token_bytes: usize,
    /// Largest discovery document or key set body read; default 64 KiB.
    pub max_document_bytes: usize,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

impl VerifierConfig {
    /// A configuration trusting `issuers` for `audiences`, every other setting at its default.
    ///
    /// Nothing is checked until [`crate::Verifier::new`].
    pub fn new<I, A>(issuers: I, audiences: A) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
        A: IntoIterator,
        A::Item: Into<String>,
    {
        Self {
            issuers: issuers.into_iter().map(Into::into).collect(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            algorithms: vec![SigningAlgorithm::Rs256, SigningAlgorithm::Es384],
            leeway: Duration::from_secs(30),
            max_token_age: Duration::from_secs(3600),
            cache_ttl: Duration::from_secs(900),
            fetch_timeout: Duration::from_millis(2000),
            refetch_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(21_600),
            jwks_file: None,
            allow_loopback_issuers: false,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }

    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable that is missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which maps a variable name to its value.
    ///
    /// Required: `TRUSTED_ISSUERS`, `ALLOWED_AUDIENCES`. Empty values count as unset for the
    /// optional variables. The result is validated as [`crate::Verifier::new`] would.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable that is missing or invalid.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let required = |name: &'static str| {
            get(name).ok_or_else(|| ConfigError::new(name, "is required but not set"))
        };

        let mut config = Self::new(
            comma_list(&required(TRUSTED_ISSUERS)?),
            comma_list(&required(ALLOWED_AUDIENCES)?),
        );
        if let Some(text) = get(ALLOWED_ALGORITHMS) {
            config.algorithms = parse_algorithms(&text)?;
        }
        let seconds = |name: &'static str, default: Duration| match get(name) {
            Some(text) => parse_number(name, &text).map(Duration::from_secs),
            None => Ok(default),
        };
        config.leeway = seconds(CLOCK_LEEWAY_SECONDS, config.leeway)?;
        config.max_token_age = seconds(MAX_TOKEN_AGE_SECONDS, config.max_token_age)?;
        config.cache_ttl = seconds(JWKS_CACHE_TTL_SECONDS, config.cache_ttl)?;
        config.refetch_cooldown = seconds(JWKS_REFETCH_COOLDOWN_SECONDS, config.refetch_cooldown)?;
        config.max_stale = seconds(JWKS_MAX_STALE_SECONDS, config.max_stale)?;
        if let Some(text) = get(JWKS_FETCH_TIMEOUT_MS) {
            config.fetch_timeout =
                Duration::from_millis(parse_number(JWKS_FETCH_TIMEOUT_MS, &text)?);
        }
        config.jwks_file = get(JWKS_FILE).map(|path| PathBuf::from(path.trim()));
        if let Some(text) = get(ALLOW_LOOPBACK_ISSUERS) {
            config.allow_loopback_issuers = parse_flag(ALLOW_LOOPBACK_ISSUERS, &text)?;
        }

        config.validate()?;
        Ok(config)
    }

    /// Checks every setting against its limits.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable of the first setting that is out of bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.issuers.is_empty() {
            return Err(ConfigError::new(TRUSTED_ISSUERS, "lists no issuer"));
        }
        for issuer in &self.issuers {
            check_issuer(issuer, self.allow_loopback_issuers)
                .map_err(|message| ConfigError::new(TRUSTED_ISSUERS, message))?;
        }
        if self.audiences.is_empty() {
            return Err(ConfigError::new(ALLOWED_AUDIENCES, "lists no audience"));
        }
        if let Some(audience) = self
            .audiences
            .iter()
            .find(|audience| !valid_audience(audience))
        {
            return Err(ConfigError::new(
                ALLOWED_AUDIENCES,
                format!("audience {audience:?} is not 1 to 1000 bytes long"),
            ));
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::new(ALLOWED_ALGORITHMS, "lists no algorithm"));
        }
        if self.leeway > MAX_CLOCK_LEEWAY {
            return Err(ConfigError::new(
                CLOCK_LEEWAY_SECONDS,
                format!("{} s is above the limit of 300 s", self.leeway.as_secs()),
            ));
        }
        let positive = [
            (MAX_TOKEN_AGE_SECONDS, self.max_token_age),
            (JWKS_CACHE_TTL_SECONDS, self.cache_ttl),
            (JWKS_FETCH_TIMEOUT_MS, self.fetch_timeout),
        ];
        if let Some((variable, _)) = positive.iter().find(|(_, value)| value.is_zero()) {
            return Err(ConfigError::new(variable, "must be greater than zero"));
        }
        if self.max_token_bytes == 0 {
            return Err(ConfigError::new(
                "max_token_bytes",
                "must be greater than zero",
            ));
        }
        if self.max_document_bytes == 0 {
            return Err(ConfigError::new(
                "max_document_bytes",
                "must be greater than zero",
            ));
        }
        Ok(())
    }
}

/// Splits a comma-separated list, trimming blanks and dropping empty items.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_algorithms(text: &str) -> Result<Vec<SigningAlgorithm>, ConfigError> {
    let mut algorithms = Vec::new();
    for name in comma_list(text) {
        let algorithm = SigningAlgorithm::from_jose(&name).ok_or_else(|| {
            ConfigError::new(
                ALLOWED_ALGORITHMS,
                format!("{name:?} is not a supported algorithm (RS256, ES384)"),
            )
        })?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    Ok(algorithms)
}

fn parse_number(variable: &'static str, text: &str) -> Result<u64, ConfigError> {
    text.trim().parse().map_err(|_| {
        ConfigError::new(
            variable,
            format!("{text:?} is not a whole non-negative number"),
        )
    })
}

fn parse_flag(variable: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError::new(
            variable,
            format!("{text:?} is not true or false"),
        )),
    }
}

/// STS accepts audiences of 1 to 1000 characters.
fn valid_audience(audience: &str) -> bool {
    (1..=1000).contains(&audience.len())
}

/// Checks that `issuer` is a canonical issuer URL: tokens are matched on its exact bytes, and its
/// keys are fetched below it.
fn check_issuer(issuer: &str, allow_loopback: bool) -> Result<(), String> {
    let url = Url::parse(issuer).map_err(|error| format!("{issuer:?} is not a url: {error}"))?;
    if issuer.ends_with('/') {
        return Err(format!(
            "{issuer:?} ends with a slash; STS issuers have none"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{issuer:?} has user info"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{issuer:?} has a query or fragment"));
    }
    if url.host().is_none() {
        return Err(format!("{issuer:?} has no host"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) && allow_loopback => {}
        "http" if is_loopback(&url) => {
            return Err(format!(
                "{issuer:?} is a plain-http loopback issuer; set {ALLOW_LOOPBACK_ISSUERS}=true to \
                 accept it"
            ));
        }
        _ => return Err(format!("{issuer:?} is not an https url")),
    }
    // The parser normalises case, default ports and dot segments; an issuer that changes shape
    // would never equal the `iss` STS writes.
    let canonical = url.as_str();
    if canonical != issuer && canonical != format!("{issuer}/") {
        return Err(format!(
            "{issuer:?} is not in canonical form ({canonical:?})"
        ));
    }
    Ok(())
}

/// Whether the URL's host is a loopback name or address.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}
