//! The IAM policy a Lambda authorizer returns, evaluated against a method or route ARN.
//!
//! API Gateway's rules: an explicit `Deny` whose action and resource match wins; otherwise an
//! `Allow` whose action (`execute-api:Invoke`, `execute-api:*`, `*`, any IAM wildcard) and
//! resource match is needed; otherwise the request is denied. Resources use IAM wildcards: `*`
//! matches any run of characters, `/` included, and `?` exactly one.

use serde_json::Value;

const INVOKE_ACTION: &str = "execute-api:Invoke";

/// Why a policy document was refused (API Gateway answers 500 for all of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PolicyError {
    #[error("policyDocument is not an object")]
    NotAnObject,
    #[error("policyDocument has no Statement")]
    NoStatement,
    #[error("statement is not an object")]
    StatementNotAnObject,
    #[error("statement Effect is not Allow or Deny")]
    BadEffect,
    #[error("statement has no usable {0}")]
    BadList(&'static str),
    #[error("statement uses {0}, which this emulator does not evaluate")]
    Unsupported(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// A parsed authorizer policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    statements: Vec<Statement>,
}

/// The outcome of evaluating a policy for one ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Policy {
    /// Parses `policyDocument`; `Statement` may be one object or an array.
    pub(crate) fn parse(document: &Value) -> Result<Self, PolicyError> {
        let document = document.as_object().ok_or(PolicyError::NotAnObject)?;
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items
                .iter()
                .map(parse_statement)
                .collect::<Result<_, _>>()?,
            Some(single @ Value::Object(_)) => vec![parse_statement(single)?],
            _ => return Err(PolicyError::NoStatement),
        };
        Ok(Self { statements })
    }

    /// Evaluates the policy for `arn`.
    pub(crate) fn evaluate(&self, arn: &str) -> Decision {
        let applies = |s: &Statement| {
            s.actions
                .iter()
                .any(|a| wildcard_match(a, INVOKE_ACTION, true))
                && s.resources.iter().any(|r| wildcard_match(r, arn, false))
        };
        if self
            .statements
            .iter()
            .any(|s| s.effect == Effect::Deny && applies(s))
        {
            Decision::ExplicitDeny
        } else if self
            .statements
            .iter()
            .any(|s| s.effect == Effect::Allow && applies(s))
        {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

fn parse_statement(statement: &Value) -> Result<Statement, PolicyError> {
    let statement = statement
        .as_object()
        .ok_or(PolicyError::StatementNotAnObject)?;
    // Ignoring these would widen what a statement grants, so they are refused instead.
    for key in ["Condition", "NotAction", "NotResource", "NotPrincipal"] {
        if statement.contains_key(key) {
            return Err(PolicyError::Unsupported(key));
        }
    }
    let effect = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(PolicyError::BadEffect),
    };
    Ok(Statement {
        effect,
        actions: string_list(statement.get("Action"), "Action")?,
        resources: string_list(statement.get("Resource"), "Resource")?,
    })
}

fn string_list(value: Option<&Value>, what: &'static str) -> Result<Vec<String>, PolicyError> {
    match value {
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or(PolicyError::BadList(what))
            })
            .collect(),
        _ => Err(PolicyError::BadList(what)),
    }
}

/// IAM wildcard matching: `*` any run (possibly empty), `?` one character.
///
/// Greedy with single backtracking, so hostile patterns (`*a*a*a...`) stay O(n·m) at worst.
pub(crate) fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |c: char| {
        if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let pattern: Vec<char> = pattern.chars().map(fold).collect();
    let text: Vec<char> = text.chars().map(fold).collect();
    let (mut p, mut t) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                resume = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match resume {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    resume = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/items/7";

    fn policy(statements: Value) -> Policy {
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
    }

    #[test]
    fn wildcards_follow_iam_rules() {
        assert!(wildcard_match("arn:aws:execute-api:*:*:api1/*", ARN, false));
        assert!(wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/items/?",
            ARN,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/items/??",
            ARN,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/*",
            ARN,
            false
        ));
        assert!(!wildcard_match("ARN:aws:execute-api:*", ARN, false));
        assert!(wildcard_match("EXECUTE-API:invoke", INVOKE_ACTION, true));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("", "x", false));
        let hostile = "*a".repeat(200) + "b";
        assert!(!wildcard_match(&hostile, &"a".repeat(2_000), false));
    }

    #[test]
    fn explicit_deny_beats_allow() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Deny", "Action": ["execute-api:*"], "Resource": [ARN]},
        ]));
        assert_eq!(p.evaluate(ARN), Decision::ExplicitDeny);
    }

    #[test]
    fn allow_needs_matching_action_and_resource() {
        let wrong_action =
            policy(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}));
        assert_eq!(wrong_action.evaluate(ARN), Decision::ImplicitDeny);
        let any_action = policy(json!({"Effect": "Allow", "Action": "*", "Resource": ARN}));
        assert_eq!(any_action.evaluate(ARN), Decision::Allow);
        assert_eq!(policy(json!([])).evaluate(ARN), Decision::ImplicitDeny);
    }

    #[test]
    fn malformed_documents_are_errors() {
        let cases = [
            (json!("nope"), PolicyError::NotAnObject),
            (json!({}), PolicyError::NoStatement),
            (json!({"Statement": [1]}), PolicyError::StatementNotAnObject),
            (
                json!({"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}),
                PolicyError::BadEffect,
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Resource": "*"}}),
                PolicyError::BadList("Action"),
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": []}}),
                PolicyError::BadList("Resource"),
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": [3]}}),
                PolicyError::BadList("Resource"),
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}}),
                PolicyError::Unsupported("Condition"),
            ),
        ];
        for (document, expected) in cases {
            assert_eq!(Policy::parse(&document), Err(expected), "{document}");
        }
    }
}
