//! The guided tour the README's run command prints: each step calls the protected API the way a
//! workload would and compares the answer with the one the rules call for.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::issuer::{Algorithm, MintRequest};
use crate::runtime::{LogLine, LogSink, StderrSink};
use crate::stack::Stack;
use crate::world::{self, Realm};

/// How many recent function log lines are kept for explaining outcomes.
const KEPT_LINES: usize = 2000;

/// A log sink that keeps the latest lines (to explain each step) and optionally echoes them.
#[derive(Clone, Default)]
pub struct RecentLogs {
    lines: Arc<Mutex<VecDeque<LogLine>>>,
    echo: bool,
}

impl std::fmt::Debug for RecentLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentLogs")
            .field("echo", &self.echo)
            .finish_non_exhaustive()
    }
}

impl RecentLogs {
    /// A sink that keeps lines, and also prints them to standard error when `echo` is set.
    pub fn new(echo: bool) -> Self {
        Self {
            lines: Arc::default(),
            echo,
        }
    }

    /// How many lines arrived so far (a mark to read from later).
    fn mark(&self) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The authorizer's decision fields logged since `mark`, as `key=value` text.
    fn decision_since(&self, mark: usize) -> Option<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .skip(mark)
            .filter(|line| line.function == "authorizer")
            .find_map(|line| {
                let record: Value = serde_json::from_str(&line.text).ok()?;
                let fields = record.get("fields").unwrap_or(&record);
                let outcome = fields.get("outcome")?.as_str()?;
                let mut text = format!("outcome={outcome}");
                for key in ["reason", "rule", "subject", "route"] {
                    if let Some(value) = fields.get(key).and_then(Value::as_str) {
                        let _ = write!(text, " {key}={value}");
                    }
                }
                Some(text)
            })
    }
}

impl LogSink for RecentLogs {
    fn line(&self, line: &LogLine) {
        if self.echo {
            StderrSink.line(line);
        }
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line.clone());
    }
}

/// What one step of the tour did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The step's title.
    pub title: String,
    /// The HTTP status the rules call for.
    pub expected: u16,
    /// The HTTP status the API answered, or why there was none.
    pub actual: Result<u16, String>,
    /// A short rendering of the answer's body.
    pub detail: String,
    /// The authorizer's decision, when it logged one.
    pub decision: Option<String>,
}

impl StepOutcome {
    /// Whether the API answered what the rules call for.
    pub fn passed(&self) -> bool {
        self.actual == Ok(self.expected)
    }
}

/// One call through a caller function: persona, API, method, path, body.
struct CallerStep {
    title: &'static str,
    persona: &'static str,
    api: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    expected: u16,
}

/// Runs every step of the tour against a running stack, printing each outcome as it comes.
pub async fn run(stack: &Stack, logs: &RecentLogs) -> Vec<StepOutcome> {
    let mut outcomes = Vec::new();
    for step in caller_steps() {
        let mark = logs.mark();
        let outcome = call_through_caller(stack, &step).await;
        outcomes.push(finish(logs, mark, step.title, step.expected, outcome).await);
    }

    let mark = logs.mark();
    let outcome = call_directly(
        &format!("{}/hello", stack.rest_url),
        Some(tampered_token(stack)),
    )
    .await;
    let title = "a tampered token (sub rewritten, signature kept) → REST GET /hello";
    outcomes.push(finish(logs, mark, title, 401, outcome).await);

    let mark = logs.mark();
    let outcome = call_directly(&format!("{}/hello", stack.rest_url), None).await;
    let title = "no token at all → REST GET /hello (API Gateway answers alone)";
    outcomes.push(finish(logs, mark, title, 401, outcome).await);
    outcomes
}

fn caller_steps() -> Vec<CallerStep> {
    vec![
        CallerStep {
            title: "orders-caller, RS256 → REST GET /hello (rule org-readers)",
            persona: "orders-caller",
            api: "rest",
            method: "GET",
            path: "/hello",
            body: None,
            expected: 200,
        },
        CallerStep {
            title: "orders-caller, ES384 → HTTP API GET /whoami (rule org-readers)",
            persona: "orders-caller-es384",
            api: "http",
            method: "GET",
            path: "/whoami",
            body: None,
            expected: 200,
        },
        CallerStep {
            title: "orders-caller, team payments → REST POST /orders (rule payments-orders)",
            persona: "orders-caller",
            api: "rest",
            method: "POST",
            path: "/orders",
            body: Some(json!({"item": "coffee beans", "quantity": 3})),
            expected: 201,
        },
        CallerStep {
            title: "reporting-batch, team analytics → REST POST /orders (no rule lets it)",
            persona: "reporting-batch",
            api: "rest",
            method: "POST",
            path: "/orders",
            body: Some(json!({"item": "paper", "quantity": 1})),
            expected: 403,
        },
        CallerStep {
            title: "reporting-batch → HTTP API GET /hello (rule org-readers)",
            persona: "reporting-batch",
            api: "http",
            method: "GET",
            path: "/hello",
            body: None,
            expected: 200,
        },
        CallerStep {
            title: "partner-caller, other account, ES384 → HTTP API GET /hello (rule partner-hello)",
            persona: "partner-caller",
            api: "http",
            method: "GET",
            path: "/hello",
            body: None,
            expected: 200,
        },
        CallerStep {
            title: "partner-caller → REST GET /whoami (only /hello is granted)",
            persona: "partner-caller",
            api: "rest",
            method: "GET",
            path: "/whoami",
            body: None,
            expected: 403,
        },
        CallerStep {
            title: "outsider, same organization but untrusted issuer → REST GET /hello",
            persona: "outsider",
            api: "rest",
            method: "GET",
            path: "/hello",
            body: None,
            expected: 401,
        },
    ]
}

/// What a call produced before it is judged: status and body, or why there was none.
type CallResult = Result<(u16, Value), String>;

async fn call_through_caller(stack: &Stack, step: &CallerStep) -> CallResult {
    let mut event = json!({"api": step.api, "method": step.method, "path": step.path});
    if let Some(body) = &step.body {
        event["body"] = body.clone();
    }
    let answer = stack
        .caller(step.persona)
        .invoke(event)
        .await
        .map_err(|e| e.to_string())?;
    let status = answer
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    let status = status.ok_or_else(|| format!("caller answered without a status: {answer}"))?;
    Ok((status, answer.get("body").cloned().unwrap_or(Value::Null)))
}

async fn call_directly(url: &str, token: Option<String>) -> CallResult {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// A genuine orders-caller token whose `sub` was rewritten to another role, signature untouched.
fn tampered_token(stack: &Stack) -> String {
    let persona = world::orders_caller();
    let request = MintRequest {
        audiences: vec![world::AUDIENCE.to_owned()],
        algorithm: Algorithm::Rs256,
        duration: Duration::from_secs(300),
        request_tags: Default::default(),
    };
    let minted = stack
        .account(Realm::Home)
        .issuer
        .mint(&persona.identity, &request);
    let mut parts: Vec<String> = minted.token.split('.').map(str::to_owned).collect();
    if let Some(payload) = parts.get_mut(1) {
        let claims = URL_SAFE_NO_PAD
            .decode(payload.as_bytes())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        if let Some(mut claims) = claims {
            claims["sub"] = json!(format!("arn:aws:iam::{}:role/admin", world::HOME_ACCOUNT));
            *payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        }
    }
    parts.join(".")
}

async fn finish(
    logs: &RecentLogs,
    mark: usize,
    title: &str,
    expected: u16,
    result: CallResult,
) -> StepOutcome {
    // Function logs arrive on their own reader tasks; give the decision line a moment to land.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (actual, detail) = match result {
        Ok((status, body)) => (Ok(status), summarize(&body)),
        Err(error) => (Err(error), String::new()),
    };
    let outcome = StepOutcome {
        title: title.to_owned(),
        expected,
        actual,
        detail,
        decision: logs.decision_since(mark),
    };
    print_outcome(&outcome);
    outcome
}

fn summarize(body: &Value) -> String {
    let text = match body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut short: String = text.chars().take(160).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn print_outcome(outcome: &StepOutcome) {
    let mark = if outcome.passed() { "✔" } else { "✘" };
    let actual = match &outcome.actual {
        Ok(status) => status.to_string(),
        Err(error) => format!("no answer ({error})"),
    };
    println!("{mark} {}", outcome.title);
    println!("    expected {}, got {actual}", outcome.expected);
    if !outcome.detail.is_empty() {
        println!("    body: {}", outcome.detail);
    }
    if let Some(decision) = &outcome.decision {
        println!("    authorizer: {decision}");
    }
}

/// The commands to try the running stack by hand, as one would on AWS.
pub fn manual_instructions(stack: &Stack) -> String {
    let persona = world::orders_caller();
    let sts = stack.home.sts.url();
    let audience = world::AUDIENCE;
    let region = world::REGION;
    format!(
        r#"
The stack keeps serving until Ctrl-C. Try it by hand from another terminal:

  # The orders-caller role's local credentials (they only work against this stack)
  export AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}
  export AWS_REGION={region} AWS_DEFAULT_REGION={region}

  # Mint a token with the AWS CLI, as on AWS …
  TOKEN=$(aws sts get-web-identity-token --endpoint-url {sts} \
      --audience {audience} --signing-algorithm RS256 \
      --query WebIdentityToken --output text)
  # … or with curl alone (it signs SigV4 itself)
  TOKEN=$(curl -s --aws-sigv4 "aws:amz:{region}:sts" \
      --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
      -d Action=GetWebIdentityToken -d Version=2011-06-15 \
      --data-urlencode Audience.member.1={audience} -d SigningAlgorithm=RS256 \
      {sts}/ | sed -n 's:.*<WebIdentityToken>\(.*\)</WebIdentityToken>.*:\1:p')

  # Call the protected APIs with it
  curl -i -H "Authorization: Bearer $TOKEN" {rest}/whoami
  curl -i -H "Authorization: Bearer $TOKEN" {http}/hello
  curl -i -X POST -H "Authorization: Bearer $TOKEN" -d '{{"item":"tea","quantity":2}}' {rest}/orders

  # Or invoke a caller function through the Lambda Invoke API
  curl -s -d '{{"api":"http","path":"/whoami"}}' \
      {lambda}/2015-03-31/functions/orders-caller/invocations

  Issuer discovery: {issuer}/.well-known/openid-configuration
  Caller functions: {callers}
"#,
        key = persona.access_key_id,
        secret = persona.secret_access_key,
        rest = stack.rest_url,
        http = stack.http_url,
        lambda = stack.lambda_url,
        issuer = stack.home.issuer.url(),
        callers = stack.callers.keys().copied().collect::<Vec<_>>().join(", "),
    )
}
