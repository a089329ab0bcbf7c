//! The cached, single-flight token source and its builder.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_sts::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::types::Tag;
use tokio::sync::OnceCell;
use tracing::{debug, error, warn};

use crate::config::{ConfigError, EnvSettings, SigningAlgorithm, TokenParameters};
use crate::error::{TokenError, classify};
use crate::token::Token;

/// Largest automatic refresh margin.
const MAX_AUTO_MARGIN: Duration = Duration::from_secs(60);
/// Default attempt limit, counting the first attempt.
const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default base of the exponential backoff between attempts.
const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Default cap on one backoff delay.
const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Default limit for one HTTP attempt, connection included.
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default limit for the whole call, every retry and backoff included.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Mints web identity tokens with STS `GetWebIdentityToken` and hands out a cached one while it
/// stays fresh.
///
/// Cloning is cheap and clones share one cache. A cached token is reused until a refresh margin
/// before its expiration: by default a fifth of the configured lifetime, at most 60 s (60 s for
/// the default 300 s tokens, 12 s for 60 s tokens), so a receiver with clock skew still accepts
/// it. Callers that arrive while a mint is in flight wait for that mint and share its outcome,
/// success or failure, so a burst of requests makes one STS call.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    client: aws_sdk_sts::Client,
    parameters: TokenParameters,
    refresh_margin: Duration,
    max_attempts: u32,
    flight: Mutex<Option<Arc<Flight>>>,
}

/// One mint: in flight while the cell is empty, then its outcome.
#[derive(Default)]
struct Flight {
    outcome: OnceCell<Result<Cached, TokenError>>,
}

struct Cached {
    token: Token,
    /// When to replace the token, on the monotonic clock.
    refresh_at: Instant,
    /// The same moment on the wall clock. Lambda freezes an idle execution environment, and
    /// whether the monotonic clock advances while frozen is not documented; the wall clock
    /// does, so a token is reused only while both clocks say so.
    refresh_at_wall: SystemTime,
}

impl Flight {
    fn is_reusable(&self, now: Instant, wall_now: SystemTime) -> bool {
        match self.outcome.get() {
            None => true,
            Some(Ok(cached)) => now < cached.refresh_at && wall_now < cached.refresh_at_wall,
            Some(Err(_)) => false,
        }
    }
}

impl TokenSource {
    /// Starts a builder that will use `sdk_config` for region, credentials and endpoint.
    pub fn builder(sdk_config: &SdkConfig) -> TokenSourceBuilder {
        TokenSourceBuilder::new(sdk_config)
    }

    /// Builds a token source from `TOKEN_AUDIENCE`, `SIGNING_ALGORITHM`,
    /// `TOKEN_DURATION_SECONDS` and `TOKEN_REQUEST_TAGS`, with default retries and timeouts.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable that is missing or invalid, or
    /// [`ConfigError::MissingRegion`] when `sdk_config` has no region.
    pub fn from_env(sdk_config: &SdkConfig) -> Result<Self, ConfigError> {
        Self::builder(sdk_config).from_env()?.build()
    }

    /// Returns a token that stays valid for at least the refresh margin, minting one if needed.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] when STS refuses or cannot be reached after the configured retries.
    /// Concurrent callers waiting on the same mint receive the same error; the next call tries
    /// again.
    pub async fn token(&self) -> Result<Token, TokenError> {
        let flight = self.current_flight();
        let outcome = flight.outcome.get_or_init(|| self.inner.mint()).await;
        match outcome {
            Ok(cached) => Ok(cached.token.clone()),
            Err(err) => Err(err.clone()),
        }
    }

    /// The audiences requested for every token.
    pub fn audiences(&self) -> &[String] {
        &self.inner.parameters.audiences
    }

    /// The signing algorithm requested for every token.
    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.inner.parameters.algorithm
    }

    /// The lifetime requested for every token.
    pub fn duration(&self) -> Duration {
        self.inner.parameters.duration
    }

    /// How long before its expiration a cached token is replaced.
    pub fn refresh_margin(&self) -> Duration {
        self.inner.refresh_margin
    }

    /// The flight to join: the cached or in-flight one if still usable, else a new one.
    fn current_flight(&self) -> Arc<Flight> {
        // The lock guards a pointer swap only and is never held across an await, so a poisoned
        // lock still holds a consistent value.
        let mut slot = self
            .inner
            .flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = slot.as_ref()
            && flight.is_reusable(Instant::now(), SystemTime::now())
        {
            return Arc::clone(flight);
        }
        let fresh = Arc::new(Flight::default());
        *slot = Some(Arc::clone(&fresh));
        fresh
    }
}

impl Inner {
    async fn mint(&self) -> Result<Cached, TokenError> {
        let parameters = &self.parameters;
        debug!(
            audiences = ?parameters.audiences,
            algorithm = parameters.algorithm.as_str(),
            duration_seconds = parameters.duration.as_secs(),
            tag_count = parameters.tags.len(),
            "minting web identity token"
        );

        let output = self
            .client
            .get_web_identity_token()
            .set_audience(Some(parameters.audiences.clone()))
            .signing_algorithm(parameters.algorithm.as_str())
            .duration_seconds(parameters.duration_seconds())
            .set_tags(sts_tags(parameters)?)
            .send()
            .await
            .map_err(|err| classify(err, parameters, self.max_attempts))
            .inspect_err(log_failure)?;

        let secret = output
            .web_identity_token()
            .filter(|token| !token.is_empty())
            .ok_or(TokenError::MalformedResponse {
                reason: "no WebIdentityToken in the response",
                source: None,
            })?;
        let expiration = output
            .expiration()
            .and_then(|at| SystemTime::try_from(*at).ok())
            .ok_or(TokenError::MalformedResponse {
                reason: "no usable Expiration in the response",
                source: None,
            })?;

        let remaining = expiration
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        debug!(
            expires_in_seconds = remaining.as_secs(),
            "minted web identity token"
        );
        Ok(Cached {
            token: Token::new(secret.to_owned(), expiration),
            refresh_at: Instant::now() + remaining.saturating_sub(self.refresh_margin),
            refresh_at_wall: expiration
                .checked_sub(self.refresh_margin)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }
}

fn sts_tags(parameters: &TokenParameters) -> Result<Option<Vec<Tag>>, TokenError> {
    if parameters.tags.is_empty() {
        return Ok(None);
    }
    let tags = parameters
        .tags
        .iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TokenError::Request {
            source: Arc::new(err),
        })?;
    Ok(Some(tags))
}

fn log_failure(err: &TokenError) {
    let code = err.code().unwrap_or("none");
    let request_id = err.request_id().unwrap_or("none");
    match err {
        TokenError::FederationDisabled { .. }
        | TokenError::AccessDenied { .. }
        | TokenError::SessionDurationEscalation { .. }
        | TokenError::PayloadTooLarge { .. }
        | TokenError::Request { .. } => {
            error!(code, request_id, error = %err, "cannot mint web identity token");
        }
        _ => warn!(code, request_id, error = %err, "minting web identity token failed"),
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("audiences", &self.inner.parameters.audiences)
            .field("algorithm", &self.inner.parameters.algorithm)
            .field("duration", &self.inner.parameters.duration)
            .field("tag_keys", &self.inner.parameters.tags.keys())
            .field("refresh_margin", &self.inner.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TokenSource`]; every STS limit is checked by [`TokenSourceBuilder::build`].
#[derive(Debug, Clone)]
pub struct TokenSourceBuilder {
    sdk_config: SdkConfig,
    audiences: Vec<String>,
    algorithm: SigningAlgorithm,
    duration: Duration,
    tags: Vec<(String, String)>,
    refresh_margin: Option<Duration>,
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    attempt_timeout: Duration,
    operation_timeout: Duration,
}

impl TokenSourceBuilder {
    fn new(sdk_config: &SdkConfig) -> Self {
        Self {
            sdk_config: sdk_config.clone(),
            audiences: Vec::new(),
            algorithm: SigningAlgorithm::default(),
            duration: crate::config::DEFAULT_DURATION,
            tags: Vec::new(),
            refresh_margin: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
        }
    }

    /// Replaces the token parameters with those in the process environment (see
    /// [`TokenSource::from_env`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable that is missing, not Unicode or malformed.
    pub fn from_env(self) -> Result<Self, ConfigError> {
        self.from_vars(|name| match std::env::var(name) {
            Ok(value) => Some(Ok(value)),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => Some(Err(())),
        })
    }

    /// Replaces the token parameters with variables read through `lookup`, which returns `None`
    /// for an unset variable and `Some(Err(()))` for a value that is not Unicode.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable that is missing, not Unicode or malformed.
    pub fn from_vars(
        mut self,
        lookup: impl Fn(&str) -> Option<Result<String, ()>>,
    ) -> Result<Self, ConfigError> {
        let settings = EnvSettings::read(&lookup)?;
        self.audiences = settings.audiences;
        self.algorithm = settings.algorithm;
        self.duration = settings.duration;
        self.tags = settings.tags;
        Ok(self)
    }

    /// Adds an audience (the token's `aud`); 1 to 10 are required, each 1 to 1000 characters.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets the signing algorithm; the default is RS256.
    pub fn signing_algorithm(mut self, algorithm: SigningAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the token lifetime, whole seconds from 60 to 3600; the default is 300 s.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Adds a request tag, which STS copies into the token's `request_tags` claim.
    ///
    /// Up to 50 tags, keys 1 to 128 and values up to 256 characters. The caller's policy must
    /// also allow `sts:TagGetWebIdentityToken`.
    pub fn request_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Sets how long before expiration a cached token is replaced; it must be shorter than the
    /// token lifetime. The default is a fifth of the lifetime, at most 60 s.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// Sets how many times one mint is attempted, first attempt included (1 to 10, default 3).
    ///
    /// Retries are the SDK's standard mode: throttling errors, HTTP 5xx answers and transient
    /// connection errors are retried with exponential backoff and full jitter.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the backoff base and its cap (defaults 200 ms and 2 s): before retry `n` the SDK
    /// sleeps a random time up to `min(initial * 2^(n-1), max)`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets the limit for one attempt, connection included (default 3 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets the limit for one whole mint, retries and backoff included (default 10 s).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Checks every setting and builds the source; no STS call is made yet.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a parameter outside the STS limits, an out-of-range retry, timeout
    /// or refresh setting, or [`ConfigError::MissingRegion`]: the global STS endpoint does not
    /// serve `GetWebIdentityToken`, and the SDK picks the regional one from the region.
    pub fn build(self) -> Result<TokenSource, ConfigError> {
        if self.sdk_config.region().is_none() {
            return Err(ConfigError::MissingRegion);
        }
        let parameters =
            TokenParameters::validate(self.audiences, self.algorithm, self.duration, self.tags)?;
        let refresh_margin = match self.refresh_margin {
            Some(margin) if margin >= parameters.duration => {
                return Err(ConfigError::OutOfRange {
                    setting: "refresh_margin",
                    allowed: "shorter than the token duration",
                });
            }
            Some(margin) => margin,
            None => (parameters.duration / 5).min(MAX_AUTO_MARGIN),
        };
        check_range("max_attempts", self.max_attempts, 1..=10, "1 to 10")?;
        check_range(
            "attempt_timeout",
            self.attempt_timeout,
            Duration::from_millis(1)..=Duration::from_secs(60),
            "1 ms to 60 s",
        )?;
        check_range(
            "operation_timeout",
            self.operation_timeout,
            Duration::from_millis(1)..=Duration::from_secs(300),
            "1 ms to 300 s",
        )?;
        if self.initial_backoff > self.max_backoff || self.max_backoff > Duration::from_secs(60) {
            return Err(ConfigError::OutOfRange {
                setting: "backoff",
                allowed: "initial at most max, max at most 60 s",
            });
        }

        let retry = RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(self.attempt_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build();
        let config = aws_sdk_sts::config::Builder::from(&self.sdk_config)
            .retry_config(retry)
            .timeout_config(timeouts)
            // A separate retry quota, so a struggling mint cannot drain the one that other STS
            // calls in the process (such as credential refreshes) rely on.
            .retry_partition(RetryPartition::new("token-source"))
            .build();

        Ok(TokenSource {
            inner: Arc::new(Inner {
                client: aws_sdk_sts::Client::from_conf(config),
                parameters,
                refresh_margin,
                max_attempts: self.max_attempts,
                flight: Mutex::new(None),
            }),
        })
    }
}

fn check_range<T: PartialOrd>(
    setting: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    allowed: &'static str,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange { setting, allowed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(refresh_at: Instant, refresh_at_wall: SystemTime) -> Flight {
        let token = Token::new("a.b.c".into(), refresh_at_wall);
        let cached = Cached {
            token,
            refresh_at,
            refresh_at_wall,
        };
        Flight {
            outcome: OnceCell::new_with(Some(Ok(cached))),
        }
    }

    #[test]
    fn token_is_reused_only_while_both_clocks_are_before_its_refresh() {
        let (now, wall_now) = (Instant::now(), SystemTime::now());
        let minute = Duration::from_secs(60);

        assert!(flight(now + minute, wall_now + minute).is_reusable(now, wall_now));
        // A thawed environment whose monotonic clock stood still while frozen.
        assert!(!flight(now + minute, wall_now - minute).is_reusable(now, wall_now));
        assert!(!flight(now - minute, wall_now + minute).is_reusable(now, wall_now));
    }

    #[test]
    fn mint_in_flight_is_joined_and_a_failed_one_is_not() {
        let (now, wall_now) = (Instant::now(), SystemTime::now());
        assert!(Flight::default().is_reusable(now, wall_now));
        let failed = Flight {
            outcome: OnceCell::new_with(Some(Err(TokenError::MalformedResponse {
                reason: "test",
                source: None,
            }))),
        };
        assert!(!failed.is_reusable(now, wall_now));
    }
}
