//! The Lambda authorizer step: identity sources, cache, invocation, answer parsing and the
//! policy decision for the current method or route ARN.

use std::sync::Arc;
use std::time::Instant;

use regex_lite::Regex;
use serde_json::{Map, Value};
use tracing::{debug, warn};

use super::cache::AuthorizerCache;
use super::config::{
    ConfigError, HttpAuthorizer, MAX_TTL, PayloadVersion, RestAuthorizer, RestAuthorizerKind,
};
use super::counters::Counters;
use super::events;
use super::exchange::Exchange;
use super::identity::IdentitySource;
use super::policy::{Decision, Policy, PolicyError};
use crate::runtime::{Invoke, InvokeError};

/// The authorizer flavours, each with its event shape and answer rules.
enum Mode {
    Token { validation: Option<Regex> },
    Request,
    HttpV1,
    HttpV2 { simple: bool },
}

/// A parsed authorizer answer, as cached.
#[derive(Debug)]
pub(crate) enum Answer {
    Policy {
        principal_id: String,
        policy: Policy,
        context: Map<String, Value>,
    },
    Simple {
        authorized: bool,
        context: Map<String, Value>,
    },
}

/// What the gateway does with the request after the authorizer step.
#[derive(Debug)]
pub(crate) enum Verdict {
    Allow {
        principal_id: Option<String>,
        context: Map<String, Value>,
        latency_ms: u64,
    },
    /// 401: identity source missing or invalid, or (REST) the function failed with `Unauthorized`.
    Unauthorized,
    /// 403: the answer does not allow this ARN.
    Denied { explicit: bool },
    /// 500: the authorizer failed, timed out or answered something unusable.
    Failed,
}

/// Why an authorizer answer was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum AnswerError {
    #[error("answer is not an object")]
    NotAnObject,
    #[error("principalId is missing or not a string")]
    NoPrincipalId,
    #[error("policyDocument is missing")]
    NoPolicy,
    #[error("invalid policyDocument")]
    Policy(#[from] PolicyError),
    #[error("context is not an object")]
    ContextNotAnObject,
    #[error("isAuthorized is missing or not a boolean")]
    NoIsAuthorized,
}

/// A configured authorizer with its result cache.
pub(crate) struct Authorizer {
    function: Arc<dyn Invoke>,
    mode: Mode,
    sources: Vec<IdentitySource>,
    cache: AuthorizerCache,
}

impl Authorizer {
    pub(crate) fn from_rest(config: &RestAuthorizer) -> Result<Self, ConfigError> {
        let (mode, sources) = match &config.kind {
            RestAuthorizerKind::Token { header, validation } => {
                let validation = validation
                    .as_deref()
                    // API Gateway requires the whole token to match, not a part of it.
                    .map(|re| Regex::new(&format!("^(?:{re})$")))
                    .transpose()
                    .map_err(ConfigError::InvalidValidationExpression)?;
                (
                    Mode::Token { validation },
                    vec![IdentitySource::parse(header, true)?],
                )
            }
            RestAuthorizerKind::Request { identity_sources } => {
                (Mode::Request, parse_sources(identity_sources)?)
            }
        };
        Self::build(Arc::clone(&config.function.0), mode, sources, config.ttl)
    }

    pub(crate) fn from_http(config: &HttpAuthorizer) -> Result<Self, ConfigError> {
        let mode = match config.payload {
            PayloadVersion::V1 if config.simple_responses => {
                return Err(ConfigError::SimpleResponsesNeedV2);
            }
            PayloadVersion::V1 => Mode::HttpV1,
            PayloadVersion::V2 => Mode::HttpV2 {
                simple: config.simple_responses,
            },
        };
        let sources = parse_sources(&config.identity_sources)?;
        Self::build(Arc::clone(&config.function.0), mode, sources, config.ttl)
    }

    fn build(
        function: Arc<dyn Invoke>,
        mode: Mode,
        sources: Vec<IdentitySource>,
        ttl: std::time::Duration,
    ) -> Result<Self, ConfigError> {
        if ttl > MAX_TTL {
            return Err(ConfigError::TtlTooLong(ttl));
        }
        if !ttl.is_zero() && sources.is_empty() {
            return Err(ConfigError::CacheWithoutIdentitySource);
        }
        Ok(Self {
            function,
            mode,
            sources,
            cache: AuthorizerCache::new(ttl),
        })
    }

    pub(crate) fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Runs the authorizer step for one request.
    pub(crate) async fn authorize(&self, ex: &Exchange<'_>, counters: &Counters) -> Verdict {
        let authorizer = self.function.name();
        let Some(identity) = self.identity(ex) else {
            debug!(authorizer, arn = %ex.arn, reason = "identity_source_missing", "unauthorized");
            return Verdict::Unauthorized;
        };

        let started = Instant::now();
        let cached = if self.cache.enabled() {
            self.cache.get(&identity)
        } else {
            None
        };
        let answer = match cached {
            Some(answer) => {
                counters.cache_hit();
                debug!(authorizer, arn = %ex.arn, "authorizer answer from cache");
                answer
            }
            None => match self.call(ex, &identity, counters).await {
                Ok(answer) => {
                    let answer = Arc::new(answer);
                    self.cache.insert(identity, Arc::clone(&answer));
                    answer
                }
                Err(verdict) => return verdict,
            },
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let verdict = self.judge(&answer, &ex.arn, latency_ms);
        debug!(authorizer, arn = %ex.arn, verdict = verdict_name(&verdict), "authorizer decision");
        verdict
    }

    /// The identity source values, or `None` when one is missing, empty or fails validation.
    fn identity(&self, ex: &Exchange<'_>) -> Option<Vec<String>> {
        let values = self
            .sources
            .iter()
            .map(|s| s.resolve(ex))
            .collect::<Option<Vec<_>>>()?;
        if let Mode::Token {
            validation: Some(pattern),
        } = &self.mode
            && !values.first().is_some_and(|token| pattern.is_match(token))
        {
            return None;
        }
        Some(values)
    }

    async fn call(
        &self,
        ex: &Exchange<'_>,
        identity: &[String],
        counters: &Counters,
    ) -> Result<Answer, Verdict> {
        let event = match &self.mode {
            Mode::Token { .. } => {
                events::token_authorizer(identity.first().map_or("", String::as_str), &ex.arn)
            }
            Mode::Request => events::request_authorizer(ex),
            Mode::HttpV1 => events::http_v1_authorizer(ex, identity),
            Mode::HttpV2 { .. } => events::http_v2_authorizer(ex, identity),
        };
        counters.authorizer_invocation();
        let authorizer = self.function.name();
        let invoked = tokio::time::timeout(ex.api.authorizer_timeout, self.function.invoke(event));
        let answer = match invoked.await {
            Ok(Ok(answer)) => answer,
            // REST APIs turn exactly this message into 401; HTTP APIs document only 500 for a
            // failing authorizer.
            Ok(Err(InvokeError::Function { error_message, .. }))
                if error_message == "Unauthorized" && self.is_rest() =>
            {
                debug!(
                    authorizer,
                    reason = "authorizer_unauthorized",
                    "unauthorized"
                );
                return Err(Verdict::Unauthorized);
            }
            Ok(Err(error)) => {
                warn!(authorizer, %error, reason = "authorizer_error", "authorizer failed");
                return Err(Verdict::Failed);
            }
            Err(_) => {
                warn!(
                    authorizer,
                    reason = "authorizer_timeout",
                    "authorizer timed out"
                );
                return Err(Verdict::Failed);
            }
        };
        self.parse(&answer).map_err(|error| {
            warn!(authorizer, %error, reason = "authorizer_answer_malformed", "authorizer answer refused");
            Verdict::Failed
        })
    }

    fn is_rest(&self) -> bool {
        matches!(self.mode, Mode::Token { .. } | Mode::Request)
    }

    fn parse(&self, answer: &Value) -> Result<Answer, AnswerError> {
        let fields = answer.as_object().ok_or(AnswerError::NotAnObject)?;
        let context = match fields.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(context)) => context.clone(),
            Some(_) => return Err(AnswerError::ContextNotAnObject),
        };
        if let Mode::HttpV2 { simple: true } = self.mode {
            let authorized = fields
                .get("isAuthorized")
                .and_then(Value::as_bool)
                .ok_or(AnswerError::NoIsAuthorized)?;
            return Ok(Answer::Simple {
                authorized,
                context,
            });
        }
        let principal_id = fields
            .get("principalId")
            .and_then(Value::as_str)
            .ok_or(AnswerError::NoPrincipalId)?
            .to_owned();
        let policy = Policy::parse(fields.get("policyDocument").ok_or(AnswerError::NoPolicy)?)?;
        Ok(Answer::Policy {
            principal_id,
            policy,
            context,
        })
    }

    fn judge(&self, answer: &Answer, arn: &str, latency_ms: u64) -> Verdict {
        match answer {
            Answer::Simple {
                authorized: true,
                context,
            } => Verdict::Allow {
                principal_id: None,
                context: context.clone(),
                latency_ms,
            },
            Answer::Simple {
                authorized: false, ..
            } => Verdict::Denied { explicit: false },
            Answer::Policy {
                principal_id,
                policy,
                context,
            } => match policy.evaluate(arn) {
                // REST context values must be strings, numbers or booleans; anything else makes
                // the integration request fail with 500 after the policy allowed it.
                Decision::Allow if self.is_rest() && !context.values().all(is_scalar) => {
                    warn!(
                        reason = "authorizer_context_not_scalar",
                        "authorizer context refused"
                    );
                    Verdict::Failed
                }
                Decision::Allow => Verdict::Allow {
                    principal_id: Some(principal_id.clone()),
                    context: context.clone(),
                    latency_ms,
                },
                Decision::ExplicitDeny => Verdict::Denied { explicit: true },
                Decision::ImplicitDeny => Verdict::Denied { explicit: false },
            },
        }
    }
}

fn parse_sources(sources: &[String]) -> Result<Vec<IdentitySource>, ConfigError> {
    sources
        .iter()
        .map(|s| IdentitySource::parse(s, false))
        .collect()
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Allow { .. } => "allow",
        Verdict::Unauthorized => "unauthorized",
        Verdict::Denied { explicit: true } => "explicit_deny",
        Verdict::Denied { explicit: false } => "deny",
        Verdict::Failed => "failed",
    }
}

/// The REST `requestContext.authorizer`: `principalId`, `integrationLatency` and the context
/// values stringified, as API Gateway passes them to a proxy integration.
pub(crate) fn rest_context(
    principal_id: Option<&str>,
    context: &Map<String, Value>,
    latency_ms: u64,
) -> Value {
    let mut map: Map<String, Value> = context
        .iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), Value::String(text))
        })
        .collect();
    if let Some(principal_id) = principal_id {
        map.insert(
            "principalId".to_owned(),
            Value::String(principal_id.to_owned()),
        );
    }
    map.insert("integrationLatency".to_owned(), Value::from(latency_ms));
    Value::Object(map)
}
