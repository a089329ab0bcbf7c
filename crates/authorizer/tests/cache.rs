//! API Gateway caches the first answer and evaluates its policy for the caller's later routes.
//! These tests take the policy produced for one route and evaluate it, with API Gateway's
//! wildcard semantics, against the method ARNs of other routes: it must give the rules' answer
//! for each.

mod support;

use authorizer::arn::ExecuteApiArn;
use authorizer::policy::{self, PolicyScope};
use authorizer::route::Route;
use authorizer::{CallerFacts, Rules, Settings};
use local_stack::issuer::Algorithm;
use serde_json::{Value, json};
use support::{Harness, READER, REST_BASE, Shape, WRITER, event, identity, policy_allows, tags};

/// Routes of the protected API and its neighbours a client might try.
const ROUTES: [(&str, &str); 14] = [
    ("GET", "/hello"),
    ("GET", "/whoami"),
    ("POST", "/orders"),
    ("GET", "/hello/admin"),
    ("DELETE", "/hello"),
    ("POST", "/hello"),
    ("GET", "/reports/q1/summary"),
    ("GET", "/reports/q1/x/summary"),
    ("GET", "/reports/q1/summary/x"),
    ("GET", "/whoami/x"),
    ("GET", "/orders"),
    ("POST", "/orders/1"),
    ("GET", "/"),
    ("GET", "/hellox"),
];

#[tokio::test]
async fn cached_rest_policy_gives_the_rules_answer_on_every_route() {
    let harness = Harness::start().await;
    let callers = [
        (
            identity(READER, &[("team", "payments")]),
            vec![("GET", "/hello"), ("GET", "/whoami")],
        ),
        (
            identity(WRITER, &[]),
            vec![("GET", "/hello"), ("GET", "/whoami"), ("POST", "/orders")],
        ),
        (
            identity(READER, &[("team", "finance")]),
            vec![
                ("GET", "/hello"),
                ("GET", "/whoami"),
                ("GET", "/reports/q1/summary"),
            ],
        ),
    ];
    for (caller, granted) in callers {
        let bearer = harness.bearer(&caller, Algorithm::Rs256);
        for (method, path) in ROUTES {
            let first = event(Shape::RestToken, method, path, Some(&bearer));
            let answer = authorizer::handle(
                &harness.verifier,
                &harness.rules,
                &Settings::default(),
                first,
            )
            .await
            .unwrap();
            for (later_method, later_path) in ROUTES {
                let arn = format!("{REST_BASE}/{later_method}{later_path}");
                let expected = granted.contains(&(later_method, later_path));
                assert_eq!(
                    policy_allows(&answer["policyDocument"], &arn),
                    expected,
                    "{} cached at {method} {path}, then {later_method} {later_path}",
                    caller.role_arn
                );
            }
        }
    }
}

/// Route patterns whose resources interact: segment wildcards, rest wildcards, prefixes, ANY.
const PATTERNS: [&str; 12] = [
    "GET /a",
    "GET /a/*",
    "GET /a/*/c",
    "GET /*/c",
    "GET /a/*/*/c",
    "ANY /a/b",
    "GET /a*",
    "POST /a/*/c",
    "GET /a/*/c/*",
    "GET /",
    "*",
    "GET /b/*/d/*/f",
];

const PATHS: [&str; 18] = [
    "/",
    "/a",
    "/a/",
    "/ab",
    "/a/b",
    "/a/c",
    "/a/b/c",
    "/a//c",
    "/a/b/b/c",
    "/a/x/y/c",
    "/a/x/y/z/c",
    "/x/c",
    "/x/y/c",
    "/a/b/c/d",
    "/a/b/c/d/c",
    "/b/x/d/y/f",
    "/b/x/y/d/z/f",
    "/b/x/d/y/z/f",
];

const BASE: &str = "arn:aws:execute-api:r:123456789012:a/s";

#[allow(
    clippy::unwrap_used,
    reason = "test helper: a panic fails the calling test"
)]
fn rules_with(routes: &[&str]) -> Rules {
    let document = json!({"rules": [{"name": "r", "routes": routes, "callers": {}}]});
    Rules::parse(&document.to_string(), "test").unwrap()
}

fn all_routes() -> Vec<Route> {
    ["GET", "POST", "DELETE"]
        .iter()
        .flat_map(|method| PATHS.iter().map(move |path| Route::new(*method, *path)))
        .collect()
}

#[allow(
    clippy::unwrap_used,
    reason = "test helper: a panic fails the calling test"
)]
/// Checks every cached policy of `routes` against every route; returns whether any of them had
/// to fall back to a per-request policy.
fn check(routes: &[&str]) -> bool {
    let rules = rules_with(routes);
    let (no_tags, ou_paths) = (tags(&[]), Vec::new());
    let facts = CallerFacts {
        role_arn: "arn:aws:iam::111122223333:role/x",
        account: "111122223333",
        org_id: None,
        ou_paths: &ou_paths,
        principal_tags: &no_tags,
        source_function_arn: None,
        request_tags: &no_tags,
    };
    let grants = rules.grants(&facts);
    let all = all_routes();
    let answer = |route: &Route| grants.rule_for(route).is_some();

    // One allowed and one refused request, when the patterns produce both.
    let firsts: Vec<&Route> = [
        all.iter().find(|r| answer(r)),
        all.iter().find(|r| !answer(r)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut fell_back = false;
    for first in firsts {
        let arn = ExecuteApiArn::parse(&format!("{BASE}/{}{}", first.method, first.path)).unwrap();
        let policy = policy::for_caller(&grants, &arn, answer(first));
        fell_back |= policy.scope == PolicyScope::ThisRequest;
        let document: Value = serde_json::to_value(&policy.document).unwrap();
        for later in &all {
            let later_arn = format!("{BASE}/{}{}", later.method, later.path);
            let allowed = policy_allows(&document, &later_arn);
            let context = format!("{routes:?} cached at {first}, then {later}: {document}");
            match policy.scope {
                PolicyScope::WholeApi => assert_eq!(allowed, answer(later), "{context}"),
                // A per-request policy may refuse more than the rules, never allow more.
                PolicyScope::ThisRequest => assert!(!allowed || answer(later), "{context}"),
            }
        }
        assert_eq!(
            policy_allows(&document, arn.as_str()),
            answer(first),
            "{routes:?} at {first}"
        );
    }
    fell_back
}

/// Whether a pattern has a `*` segment before its last one: only those can overlap another
/// pattern in a way IAM wildcards cannot express.
fn has_inner_wildcard(pattern: &str) -> bool {
    let segments: Vec<&str> = pattern.split('/').skip(1).collect();
    segments
        .iter()
        .take(segments.len().saturating_sub(1))
        .any(|segment| *segment == "*")
}

#[test]
fn every_combination_of_up_to_three_patterns_gives_the_rules_answer_on_every_route() {
    let mut combinations = Vec::new();
    for (a, first) in PATTERNS.iter().enumerate() {
        combinations.push(vec![*first]);
        for (b, second) in PATTERNS.iter().enumerate().skip(a + 1) {
            combinations.push(vec![*first, *second]);
            for third in PATTERNS.iter().skip(b + 1) {
                combinations.push(vec![*first, *second, *third]);
            }
        }
    }

    for routes in &combinations {
        let fell_back = check(routes);
        // A set without inner wildcards always has an exact whole-API policy: only the Deny
        // that keeps an inner `*` to one segment can take away a path a pattern allows.
        let inner = routes.iter().any(|route| has_inner_wildcard(route));
        assert!(inner || !fell_back, "{routes:?} fell back");
    }
}

#[test]
fn simple_shapes_are_cacheable_across_the_whole_api() {
    for routes in [
        vec!["GET /hello", "GET /whoami"],
        vec!["GET /a/*/c"],
        vec!["GET /a/*/c", "GET /a/*/d"],
        vec!["ANY /a/b", "GET /a/*"],
        vec!["GET /b/*/d/*/f"],
    ] {
        let rules = rules_with(&routes);
        let no_tags = tags(&[]);
        let facts = CallerFacts {
            role_arn: "arn:aws:iam::111122223333:role/x",
            account: "111122223333",
            org_id: None,
            ou_paths: &[],
            principal_tags: &no_tags,
            source_function_arn: None,
            request_tags: &no_tags,
        };
        let arn = ExecuteApiArn::parse(&format!("{BASE}/GET/zzz")).unwrap();
        let policy = policy::for_caller(&rules.grants(&facts), &arn, false);
        assert_eq!(policy.scope, PolicyScope::WholeApi, "{routes:?}");
    }
}

#[test]
fn nested_segment_wildcards_fall_back_to_per_request_policies() {
    // Denying what `GET/a/*/c` allows beyond one segment would also deny `/a/x/y/c`, which the
    // second pattern allows, so no exact policy is attempted.
    let rules = rules_with(&["GET /a/*/c", "GET /a/*/*/c"]);
    let no_tags = tags(&[]);
    let facts = CallerFacts {
        role_arn: "arn:aws:iam::111122223333:role/x",
        account: "111122223333",
        org_id: None,
        ou_paths: &[],
        principal_tags: &no_tags,
        source_function_arn: None,
        request_tags: &no_tags,
    };
    let arn = ExecuteApiArn::parse(&format!("{BASE}/GET/a/x/y/c")).unwrap();
    let policy = policy::for_caller(&rules.grants(&facts), &arn, true);
    assert_eq!(policy.scope, PolicyScope::ThisRequest);
    let document = serde_json::to_value(&policy.document).unwrap();
    assert_eq!(
        document["Statement"],
        json!([{"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [arn.as_str()]}])
    );
}

#[test]
fn the_iam_matcher_used_here_spans_slashes() {
    assert!(support::arn_matches("a/*/c", "a/x/y/c"));
    assert!(support::arn_matches("a/?/c", "a/x/c"));
    assert!(!support::arn_matches("a/?/c", "a/xy/c"));
    assert!(!support::arn_matches("a/b", "a/b/c"));
    assert!(support::arn_matches("*", ""));
}
