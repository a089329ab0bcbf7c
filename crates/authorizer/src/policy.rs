//! The IAM policy returned to API Gateway.
//!
//! API Gateway caches the whole answer (per token for TOKEN authorizers, per identity sources
//! for REQUEST ones) and evaluates the cached policy for every later route the caller calls. So
//! the policy must give, for every route of the API, the answer the rules give: it allows every
//! route pattern the caller is granted, and denies again what a one-segment wildcard lets the
//! resource glob allow beyond the pattern (see [`crate::route`]).
//!
//! When such a deny would also take away a path another granted pattern allows, no exact policy
//! exists with IAM wildcards; the policy then names only the requested method ARN and
//! [`PolicyScope::ThisRequest`] tells the caller of this module to say so in the log.

use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerPolicy;
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};

use crate::arn::ExecuteApiArn;
use crate::rules::{Grants, Rules};

/// The IAM policy language version API Gateway expects.
const POLICY_VERSION: &str = "2012-10-17";
/// The only action an authorizer policy grants or denies.
const INVOKE: &str = "execute-api:Invoke";

/// Which requests a policy answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    /// Every route of the API stage: safe to cache and reuse for other routes.
    WholeApi,
    /// Only the method ARN of this request: a cached copy answers other routes wrongly (deny
    /// where the rules allow), so caching must be keyed per route.
    ThisRequest,
}

impl PolicyScope {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WholeApi => "whole_api",
            Self::ThisRequest => "this_request",
        }
    }
}

/// A policy document and the requests it answers for.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The document for the authorizer response.
    pub document: ApiGatewayCustomAuthorizerPolicy,
    /// Which requests it answers for.
    pub scope: PolicyScope,
}

/// Resources to allow and to deny.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    allow: Vec<String>,
    deny: Vec<String>,
}

/// The policy for a verified caller with these grants, on the API stage of `arn`.
///
/// `allowed_here` is the rules' answer for the requested route; it is added as an explicit deny
/// when the rules refuse it, so the answer for this request reads as a Deny.
pub fn for_caller(grants: &Grants<'_>, arn: &ExecuteApiArn, allowed_here: bool) -> Policy {
    let exact = arn
        .route()
        .and_then(|_| whole_api_plan(grants.rules(), &grants.pattern_ids(), arn));
    let Some(mut plan) = exact else {
        return this_request(arn, allowed_here);
    };

    if plan.allow.is_empty() {
        return deny_everything(arn);
    }
    if !allowed_here && arn.is_literal() {
        plan.deny.push(arn.as_str().to_owned());
    }
    Policy {
        document: document(plan),
        scope: PolicyScope::WholeApi,
    }
}

/// A policy that denies every route of the API stage of `arn`.
pub fn deny_everything(arn: &ExecuteApiArn) -> Policy {
    let plan = Plan {
        allow: Vec::new(),
        deny: vec![arn.everything()],
    };
    Policy {
        document: document(plan),
        scope: PolicyScope::WholeApi,
    }
}

/// A policy naming only this request's ARN.
///
/// An ARN with `*` or `?` in its path cannot name itself alone (it would act as a wildcard), so
/// such a request is denied: refusing one odd path beats allowing others by accident.
fn this_request(arn: &ExecuteApiArn, allowed_here: bool) -> Policy {
    let plan = match (allowed_here, arn.is_literal()) {
        (true, true) => Plan {
            allow: vec![arn.as_str().to_owned()],
            deny: Vec::new(),
        },
        (false, true) => Plan {
            allow: Vec::new(),
            deny: vec![arn.as_str().to_owned()],
        },
        (_, false) => Plan {
            allow: Vec::new(),
            deny: vec![arn.everything()],
        },
    };
    Policy {
        document: document(plan),
        scope: PolicyScope::ThisRequest,
    }
}

/// Resources that give the rules' answer on every route, or `None` when IAM wildcards cannot.
fn whole_api_plan(rules: &Rules, ids: &[usize], arn: &ExecuteApiArn) -> Option<Plan> {
    if ids.iter().any(|&id| rules.pattern(id).is_everything()) {
        return Some(Plan {
            allow: vec![arn.everything()],
            deny: Vec::new(),
        });
    }

    // A pattern inside a wider `/prefix*` one adds nothing, and its overflow denies could only
    // clash with the wider one.
    let kept: Vec<usize> = ids
        .iter()
        .copied()
        .filter(|&id| {
            let pattern = rules.pattern(id);
            !ids.iter().any(|&other| {
                other != id
                    && pattern.covered_by(rules.pattern(other))
                    && !(rules.pattern(other).covered_by(pattern) && other > id)
            })
        })
        .collect();

    for &a in &kept {
        for &b in &kept {
            if rules
                .pattern(a)
                .method()
                .overlaps(rules.pattern(b).method())
                && rules.conflict(a, b)
            {
                return None;
            }
        }
    }

    let mut plan = Plan::default();
    for &id in &kept {
        let pattern = rules.pattern(id);
        for method in pattern.method().expand() {
            plan.allow
                .push(arn.resource(method, &pattern.path().glob()));
            for overflow in pattern.path().overflow_globs() {
                plan.deny.push(arn.resource(method, &overflow));
            }
        }
    }
    Some(plan)
}

fn document(mut plan: Plan) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statements = Vec::new();
    for (effect, mut resources) in [
        (IamPolicyEffect::Allow, std::mem::take(&mut plan.allow)),
        (IamPolicyEffect::Deny, std::mem::take(&mut plan.deny)),
    ] {
        if resources.is_empty() {
            continue;
        }
        resources.sort_unstable();
        resources.dedup();
        let mut statement = IamPolicyStatement::default();
        statement.action = vec![INVOKE.to_owned()];
        // Set on purpose: the type's default effect is Allow.
        statement.effect = effect;
        statement.resource = resources;
        statements.push(statement);
    }
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some(POLICY_VERSION.to_owned());
    document.statement = statements;
    document
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::rules::CallerFacts;

    const BASE: &str = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod";

    fn arn(route: &str) -> ExecuteApiArn {
        ExecuteApiArn::parse(&format!("{BASE}/{route}")).unwrap()
    }

    fn policy_json(routes: Value, at: &str, allowed_here: bool) -> (Value, PolicyScope) {
        let document = json!({"rules": [{"name": "r", "routes": routes, "callers": {}}]});
        let rules = Rules::parse(&document.to_string(), "test").unwrap();
        let tags = BTreeMap::new();
        let facts = CallerFacts {
            role_arn: "arn:aws:iam::111122223333:role/x",
            account: "111122223333",
            org_id: None,
            ou_paths: &[],
            principal_tags: &tags,
            source_function_arn: None,
            request_tags: &tags,
        };
        let policy = for_caller(&rules.grants(&facts), &arn(at), allowed_here);
        (
            serde_json::to_value(&policy.document).unwrap(),
            policy.scope,
        )
    }

    fn statement(effect: &str, resources: &[&str]) -> Value {
        let resources: Vec<String> = resources.iter().map(|r| format!("{BASE}/{r}")).collect();
        json!({"Action": ["execute-api:Invoke"], "Effect": effect, "Resource": resources})
    }

    #[test]
    fn literal_routes_become_literal_resources() {
        let (policy, scope) = policy_json(json!(["GET /hello", "POST /orders"]), "GET/hello", true);
        assert_eq!(scope, PolicyScope::WholeApi);
        let allow = statement("Allow", &["GET/hello", "POST/orders"]);
        assert_eq!(
            policy,
            json!({"Version": "2012-10-17", "Statement": [allow]})
        );
    }

    #[test]
    fn denied_route_gets_an_explicit_deny_beside_the_grants() {
        let (policy, _) = policy_json(json!(["GET /hello"]), "POST/orders", false);
        assert_eq!(
            policy["Statement"],
            json!([
                statement("Allow", &["GET/hello"]),
                statement("Deny", &["POST/orders"])
            ])
        );
    }

    #[test]
    fn segment_wildcard_is_allowed_with_its_overflow_denied() {
        let (policy, scope) =
            policy_json(json!(["GET /orders/*/items"]), "GET/orders/1/items", true);
        assert_eq!(scope, PolicyScope::WholeApi);
        assert_eq!(
            policy["Statement"],
            json!([
                statement("Allow", &["GET/orders/*/items"]),
                statement("Deny", &["GET/orders/*/*/items"])
            ])
        );
    }

    #[test]
    fn any_method_is_spelled_out_per_method() {
        let (policy, _) = policy_json(json!(["ANY /hello"]), "GET/hello", true);
        let expected: Vec<String> = crate::route::METHODS
            .iter()
            .map(|m| format!("{BASE}/{m}/hello"))
            .collect();
        assert_eq!(policy["Statement"][0]["Resource"], json!(expected));
    }

    #[test]
    fn everything_route_allows_the_whole_stage() {
        let (policy, _) = policy_json(json!(["GET /hello", "*"]), "GET/hello", true);
        assert_eq!(policy["Statement"], json!([statement("Allow", &["*"])]));
    }

    #[test]
    fn covered_patterns_are_dropped() {
        let (policy, scope) = policy_json(
            json!(["GET /orders/*/items", "GET /orders/*"]),
            "GET/orders/1",
            true,
        );
        assert_eq!(scope, PolicyScope::WholeApi);
        assert_eq!(
            policy["Statement"],
            json!([statement("Allow", &["GET/orders/*"])])
        );
    }

    #[test]
    fn conflicting_patterns_fall_back_to_this_request() {
        let routes = json!(["GET /a/*/c", "GET /a/x/*"]);
        let (policy, scope) = policy_json(routes.clone(), "GET/a/x/y/c", true);
        assert_eq!(scope, PolicyScope::ThisRequest);
        assert_eq!(
            policy["Statement"],
            json!([statement("Allow", &["GET/a/x/y/c"])])
        );
        let (policy, _) = policy_json(routes, "GET/b", false);
        assert_eq!(policy["Statement"], json!([statement("Deny", &["GET/b"])]));
    }

    #[test]
    fn wildcard_in_the_requested_path_is_never_echoed() {
        let (policy, scope) = policy_json(json!(["GET /a/*/b/*"]), "GET/a/*/b/c", true);
        assert_eq!(scope, PolicyScope::ThisRequest);
        assert_eq!(policy["Statement"], json!([statement("Deny", &["*"])]));
    }

    #[test]
    fn route_key_arn_gets_a_policy_for_itself() {
        let arn = ExecuteApiArn::parse(&format!("{BASE}/$default")).unwrap();
        let policy = this_request(&arn, true);
        assert_eq!(policy.scope, PolicyScope::ThisRequest);
        assert_eq!(
            serde_json::to_value(&policy.document).unwrap()["Statement"],
            json!([statement("Allow", &["$default"])])
        );
    }
}
