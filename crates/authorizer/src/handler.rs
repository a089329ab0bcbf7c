//! The authorizer: one event in, one answer (or function error) out, one log line.

use std::time::Instant;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Map, Value};
use sts_verifier::context::CallerContext;
use sts_verifier::{VerifiedCaller, Verifier, VerifyError};
use tracing::{Level, debug, error, info, warn};

use crate::event::{AuthorizerRequest, EventError, EventKind};
use crate::policy::{self, PolicyScope};
use crate::rules::{CallerFacts, Grants, Rules};
use crate::settings::{HttpApiResponse, Settings};

/// The `principalId` of HTTP API answers for requests without a valid token.
pub const UNAUTHENTICATED_PRINCIPAL: &str = "unauthenticated";

/// A function error: API Gateway answers it without calling the backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No valid token on a REST API: API Gateway answers 401 for the message `Unauthorized`.
    #[error("the request carries no valid token")]
    Unauthorized,
    /// The issuer's keys could not be had: API Gateway answers 500 and caches nothing, so the
    /// caller can retry once the issuer is back.
    #[error("issuer keys are unavailable")]
    KeysUnavailable,
    /// The event is not an authorizer event this function answers; API Gateway answers 500.
    #[error("the event is not an api gateway authorizer event: {0}")]
    InvalidEvent(#[from] EventError),
}

impl Rejection {
    /// The `errorMessage` API Gateway reads; exactly `Unauthorized` makes REST APIs answer 401.
    pub fn error_message(&self) -> &'static str {
        match self {
            Self::Unauthorized => "Unauthorized",
            Self::KeysUnavailable => "KeysUnavailable",
            Self::InvalidEvent(_) => "InvalidEvent",
        }
    }
}

impl From<Rejection> for Diagnostic {
    fn from(rejection: Rejection) -> Self {
        let message = rejection.error_message();
        Diagnostic {
            error_type: message.to_owned(),
            error_message: message.to_owned(),
        }
    }
}

/// Answers one authorizer event.
///
/// Reads the event's shape, the token and the route, verifies the token, applies the rules and
/// builds the answer in the form the event calls for. Logs one line per decision with the
/// outcome, a reason code and who called (never the token).
///
/// # Errors
///
/// A [`Rejection`]: `Unauthorized` for a missing or invalid token on a REST API,
/// `KeysUnavailable` when the issuer's keys cannot be had, `InvalidEvent` for an event of an
/// unknown shape.
pub async fn handle(
    verifier: &Verifier,
    rules: &Rules,
    settings: &Settings,
    event: Value,
) -> Result<Value, Rejection> {
    let started = Instant::now();
    let request = match AuthorizerRequest::parse(&event, settings.token_header()) {
        Ok(request) => request,
        Err(problem) => {
            error!(
                outcome = "invalid_event",
                reason = problem.reason(),
                error = %problem,
                elapsed_ms = elapsed_ms(started),
                "authorizer event rejected; check the integration"
            );
            return Err(Rejection::InvalidEvent(problem));
        }
    };
    let mut log = DecisionLog::new(&request, started);

    let token = match &request.token {
        Ok(token) => token,
        Err(problem) => return unauthorized(&request, settings, log.reason(problem.reason())),
    };
    let caller = match verifier.verify(token).await {
        Ok(caller) => caller,
        Err(problem) => return refused(&request, settings, log, &problem),
    };

    let grants = rules.grants(&CallerFacts::from(&caller));
    let rule = request
        .route
        .as_ref()
        .and_then(|route| grants.rule_for(route));
    log = log
        .caller(&caller, &grants)
        .rule(rule.map(|rule| rule.name()));
    Ok(verified(
        &request,
        settings,
        &caller,
        &grants,
        rule.is_some(),
        log,
    ))
}

fn refused(
    request: &AuthorizerRequest,
    settings: &Settings,
    log: DecisionLog<'_>,
    problem: &VerifyError,
) -> Result<Value, Rejection> {
    if problem.is_operational() {
        let issuer = match problem {
            VerifyError::KeysUnavailable { issuer, .. } => Some(issuer.clone()),
            _ => None,
        };
        DecisionLog { issuer, ..log }
            .outcome("keys_unavailable")
            .reason(problem.reason())
            .emit(Level::ERROR);
        return Err(Rejection::KeysUnavailable);
    }
    unauthorized(request, settings, log.reason(problem.reason()))
}

fn unauthorized(
    request: &AuthorizerRequest,
    settings: &Settings,
    log: DecisionLog<'_>,
) -> Result<Value, Rejection> {
    let log = log.outcome("unauthorized");
    if matches!(request.kind, EventKind::RestToken | EventKind::RestRequest) {
        log.emit(Level::WARN);
        return Err(Rejection::Unauthorized);
    }
    // HTTP APIs turn every function error into a 500, so a refusal must be an answer; a bad
    // token is bad for every route, so denying the whole stage is safe to cache.
    let answer = match Form::of(request.kind, settings) {
        Form::Simple => simple_answer(false, Map::new()),
        form => {
            let document = policy::deny_everything(&request.arn).document;
            policy_answer(form, UNAUTHENTICATED_PRINCIPAL, document, Map::new())
        }
    };
    log.scope(Some(PolicyScope::WholeApi)).emit(Level::WARN);
    Ok(answer)
}

fn verified(
    request: &AuthorizerRequest,
    settings: &Settings,
    caller: &VerifiedCaller,
    grants: &Grants<'_>,
    allowed: bool,
    log: DecisionLog<'_>,
) -> Value {
    let context = CallerContext::from_verified(caller, &grants.names());
    let (answer, scope) = match Form::of(request.kind, settings) {
        // A refused request gets no identity: nothing downstream should read one.
        Form::Simple if allowed => (simple_answer(true, context.into_entries()), None),
        Form::Simple => (simple_answer(false, Map::new()), None),
        form => {
            let policy = policy::for_caller(grants, &request.arn, allowed);
            let principal = context.principal_id().to_owned();
            let answer = policy_answer(form, &principal, policy.document, context.into_entries());
            (answer, Some(policy.scope))
        }
    };

    let (outcome, reason) = if allowed {
        ("allow", "rule_matched")
    } else {
        ("deny", "no_rule_matched")
    };
    log.outcome(outcome)
        .reason(reason)
        .scope(scope)
        .emit(Level::INFO);
    answer
}

/// The form of answer an event calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// REST APIs and HTTP API payload 1.0: `principalId`, `policyDocument`, `context`.
    Policy,
    /// HTTP API payload 2.0 with policy answers: the same, without `usageIdentifierKey`.
    HttpPolicy,
    /// HTTP API payload 2.0 with simple answers: `isAuthorized`, `context`.
    Simple,
}

impl Form {
    fn of(kind: EventKind, settings: &Settings) -> Self {
        match (kind, settings.http_api_response()) {
            (EventKind::HttpV2, HttpApiResponse::Simple) => Self::Simple,
            (EventKind::HttpV2, HttpApiResponse::Policy) => Self::HttpPolicy,
            _ => Self::Policy,
        }
    }
}

fn simple_answer(allowed: bool, context: Map<String, Value>) -> Value {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
    response.is_authorized = allowed;
    response.context = Value::Object(context);
    to_json(&response)
}

fn policy_answer(
    form: Form,
    principal: &str,
    document: ApiGatewayCustomAuthorizerPolicy,
    context: Map<String, Value>,
) -> Value {
    if form == Form::HttpPolicy {
        let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Value>::default();
        response.principal_id = Some(principal.to_owned());
        response.policy_document = document;
        response.context = Value::Object(context);
        return to_json(&response);
    }
    let mut response = ApiGatewayCustomAuthorizerResponse::<Value>::default();
    response.principal_id = Some(principal.to_owned());
    response.policy_document = document;
    response.context = Value::Object(context);
    without_usage_key(to_json(&response))
}

fn to_json<T: Serialize>(response: &T) -> Value {
    // These response types hold only strings, booleans and string-keyed maps, which always
    // serialize; `null` would make API Gateway answer 500, the fail-closed outcome.
    serde_json::to_value(response).unwrap_or(Value::Null)
}

/// Drops `"usageIdentifierKey": null`: the key only matters for API keys sourced from the
/// authorizer, and AWS documents it as a string, never as null.
fn without_usage_key(mut answer: Value) -> Value {
    if let Value::Object(members) = &mut answer
        && members
            .get("usageIdentifierKey")
            .is_some_and(Value::is_null)
    {
        members.remove("usageIdentifierKey");
    }
    answer
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// The fields of the one log line a decision writes.
struct DecisionLog<'a> {
    started: Instant,
    event: &'static str,
    request_id: Option<&'a str>,
    route: String,
    outcome: &'static str,
    reason: &'static str,
    issuer: Option<String>,
    kid: Option<String>,
    subject: Option<String>,
    account: Option<String>,
    rule: Option<String>,
    granted: Option<String>,
    scope: Option<PolicyScope>,
}

impl<'a> DecisionLog<'a> {
    fn new(request: &'a AuthorizerRequest, started: Instant) -> Self {
        Self {
            started,
            event: request.kind.as_str(),
            request_id: request.request_id.as_deref(),
            route: request.route_label.clone(),
            outcome: "",
            reason: "",
            issuer: None,
            kid: None,
            subject: None,
            account: None,
            rule: None,
            granted: None,
            scope: None,
        }
    }

    fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }

    fn reason(mut self, reason: &'static str) -> Self {
        self.reason = reason;
        self
    }

    fn caller(mut self, caller: &VerifiedCaller, grants: &Grants<'_>) -> Self {
        self.issuer = Some(caller.issuer().to_owned());
        self.kid = Some(caller.key_id().to_owned());
        self.subject = Some(caller.role().as_str().to_owned());
        self.account = Some(caller.account().as_str().to_owned());
        self.granted = Some(grants.names());
        self
    }

    fn rule(mut self, rule: Option<&str>) -> Self {
        self.rule = rule.map(str::to_owned);
        self
    }

    fn scope(mut self, scope: Option<PolicyScope>) -> Self {
        self.scope = scope;
        self
    }

    fn emit(self, level: Level) {
        macro_rules! line {
            ($macro:ident) => {
                $macro!(
                    outcome = self.outcome,
                    reason = self.reason,
                    event = self.event,
                    request_id = self.request_id,
                    route = %self.route,
                    issuer = self.issuer.as_deref(),
                    kid = self.kid.as_deref(),
                    subject = self.subject.as_deref(),
                    account = self.account.as_deref(),
                    rule = self.rule.as_deref(),
                    granted = self.granted.as_deref(),
                    policy_scope = self.scope.map(PolicyScope::as_str),
                    elapsed_ms = elapsed_ms(self.started),
                    "authorization decision"
                )
            };
        }
        match level {
            Level::ERROR => line!(error),
            Level::WARN => line!(warn),
            Level::INFO => line!(info),
            _ => line!(debug),
        }
    }
}
