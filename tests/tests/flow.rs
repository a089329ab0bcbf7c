//! The whole flow through the local stack: caller function → STS → API Gateway → authorizer →
//! protected function, every function its compiled binary run through the Lambda Runtime API.

use std::time::Duration;

use e2e::{call, http, mint, start_stack};
use local_stack::world::{self, Realm};

#[tokio::test]
async fn rs256_caller_reaches_the_rest_api_as_its_role() {
    let test = start_stack(|_| {}).await;

    let answer = call(&test.stack, "orders-caller", "rest", "GET", "/hello").await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["roleArn"],
        "arn:aws:iam::111111111111:role/orders-caller"
    );
    assert_eq!(answer.called_as["algorithm"], "RS256");
    assert_eq!(test.stack.authorizer.environments_started(), 1);
    assert_eq!(test.stack.protected.invocation_count(), 1);
}

#[tokio::test]
async fn es384_caller_reaches_the_http_api_and_sees_its_typed_identity() {
    let test = start_stack(|_| {}).await;

    let answer = call(&test.stack, "orders-caller-es384", "http", "GET", "/whoami").await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["roleArn"],
        "arn:aws:iam::111111111111:role/orders-caller"
    );
    assert_eq!(answer.body["account"], world::HOME_ACCOUNT);
    assert_eq!(answer.body["orgId"], world::HOME_ORG);
    assert_eq!(answer.body["audience"], world::AUDIENCE);
    assert_eq!(answer.body["issuer"], test.stack.home.issuer.url());
    assert!(
        answer.body["keyId"]
            .as_str()
            .is_some_and(|kid| kid.starts_with("EC384_"))
    );
}

#[tokio::test]
async fn partner_account_with_trusted_issuer_gets_only_its_route() {
    let test = start_stack(|_| {}).await;

    let hello = call(&test.stack, "partner-caller", "http", "GET", "/hello").await;
    let whoami = call(&test.stack, "partner-caller", "rest", "GET", "/whoami").await;
    let orders = call(&test.stack, "partner-caller", "http", "POST", "/orders").await;

    assert_eq!(hello.status, 200);
    assert_eq!(
        hello.body["roleArn"],
        "arn:aws:iam::222222222222:role/partner-caller"
    );
    assert_eq!(whoami.status, 403);
    assert_eq!(orders.status, 403);
    assert_eq!(orders.body, serde_json::json!({"message": "Forbidden"}));
}

#[tokio::test]
async fn role_the_rules_refuse_gets_403_on_both_apis() {
    let test = start_stack(|_| {}).await;

    let rest = call(&test.stack, "reporting-batch", "rest", "POST", "/orders").await;
    let http_api = call(&test.stack, "reporting-batch", "http", "POST", "/orders").await;

    assert_eq!(rest.status, 403);
    assert_eq!(http_api.status, 403);
    assert_eq!(test.stack.protected.invocation_count(), 0);
}

#[tokio::test]
async fn untrusted_issuer_and_tampered_token_are_unauthorized() {
    let test = start_stack(|_| {}).await;
    let stack = &test.stack;

    let outsider = call(stack, "outsider", "rest", "GET", "/hello").await;
    let genuine = mint(stack, &world::orders_caller()).await;
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let other = mint(stack, &world::reporting_batch()).await;
    parts[1] = other.split('.').nth(1).expect("a payload");
    let spliced = parts.join(".");
    let (status, body) = http("GET", &format!("{}/hello", stack.rest_url), Some(&spliced)).await;

    assert_eq!(outsider.status, 401);
    assert_eq!(
        outsider.body,
        serde_json::json!({"message": "Unauthorized"})
    );
    assert_eq!(status, 401);
    assert_eq!(body, serde_json::json!({"message": "Unauthorized"}));
    assert_eq!(
        stack.outsider.issuer.jwks_fetches(),
        0,
        "an untrusted issuer is never fetched"
    );
    assert!(test.logs.contains("\"reason\":\"bad_signature\""));
    assert!(test.logs.contains("\"reason\":\"untrusted_issuer\""));
}

#[tokio::test]
async fn one_sts_call_serves_many_requests() {
    let test = start_stack(|_| {}).await;

    for path in ["/hello", "/whoami", "/hello", "/whoami", "/hello"] {
        let answer = call(&test.stack, "orders-caller", "http", "GET", path).await;
        assert_eq!(answer.status, 200, "{path}");
    }

    assert_eq!(test.stack.home.sts.counters().tokens_issued, 1);
    assert_eq!(test.stack.caller("orders-caller").invocation_count(), 5);
}

#[tokio::test]
async fn cached_rest_decision_gives_the_rules_answer_on_every_route() {
    let test = start_stack(|options| options.rest_cache_ttl = Duration::from_secs(300)).await;
    let stack = &test.stack;

    // One token, one authorizer call, three routes: the cached policy must allow exactly the
    // routes the rules grant reporting-batch, and refuse the other.
    let hello = call(stack, "reporting-batch", "rest", "GET", "/hello").await;
    let orders = call(stack, "reporting-batch", "rest", "POST", "/orders").await;
    let whoami = call(stack, "reporting-batch", "rest", "GET", "/whoami").await;

    assert_eq!(
        (hello.status, orders.status, whoami.status),
        (200, 403, 200)
    );
    let counters = stack.rest_api.counters();
    assert_eq!(counters.authorizer_invocations, 1);
    assert_eq!(counters.authorizer_cache_hits, 2);
}

#[tokio::test]
async fn http_api_caches_per_route() {
    let test = start_stack(|options| options.http_cache_ttl = Duration::from_secs(300)).await;
    let stack = &test.stack;

    let first = call(stack, "reporting-batch", "http", "GET", "/hello").await;
    let refused = call(stack, "reporting-batch", "http", "POST", "/orders").await;
    let again = call(stack, "reporting-batch", "http", "GET", "/hello").await;

    assert_eq!(
        (first.status, refused.status, again.status),
        (200, 403, 200)
    );
    let counters = stack.http_api.counters();
    assert_eq!(counters.authorizer_invocations, 2, "one per route key");
    assert_eq!(counters.authorizer_cache_hits, 1);
}

#[tokio::test]
async fn key_rotation_in_the_middle_of_a_run() {
    let test = start_stack(|options| {
        options.rest_cache_ttl = Duration::ZERO;
        options.key_cache_ttl = Duration::from_secs(1);
        options.refetch_cooldown = Duration::ZERO;
    })
    .await;
    let stack = &test.stack;
    let issuer = &stack.account(Realm::Home).issuer;
    let hello = format!("{}/hello", stack.rest_url);
    let before = mint(stack, &world::orders_caller()).await;
    assert_eq!(http("GET", &hello, Some(&before)).await.0, 200);

    issuer.rotate();
    let after = mint(stack, &world::orders_caller()).await;
    assert_eq!(
        http("GET", &hello, Some(&after)).await.0,
        200,
        "the new key is picked up"
    );
    assert_eq!(
        http("GET", &hello, Some(&before)).await.0,
        200,
        "the old key is still published"
    );

    issuer.retire_previous();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(http("GET", &hello, Some(&after)).await.0, 200);
    assert_eq!(
        http("GET", &hello, Some(&before)).await.0,
        401,
        "a retired key stops verifying"
    );
}

#[tokio::test]
async fn issuer_outage_with_an_unseen_key_fails_closed_then_recovers() {
    let test = start_stack(|options| {
        options.rest_cache_ttl = Duration::ZERO;
        options.refetch_cooldown = Duration::ZERO;
    })
    .await;
    let stack = &test.stack;
    let issuer = &stack.home.issuer;
    let hello = format!("{}/hello", stack.rest_url);
    let known = mint(stack, &world::orders_caller()).await;
    assert_eq!(
        http("GET", &hello, Some(&known)).await.0,
        200,
        "the authorizer's cache is warm"
    );

    issuer.set_available(false);
    issuer.rotate();
    let unseen = mint(stack, &world::orders_caller()).await;
    let (outage_status, outage_body) = http("GET", &hello, Some(&unseen)).await;
    let (cached_status, _) = http("GET", &hello, Some(&known)).await;
    issuer.set_available(true);
    let (recovered_status, _) = http("GET", &hello, Some(&unseen)).await;

    assert_eq!(outage_status, 500);
    assert_eq!(outage_body, serde_json::json!({"message": null}));
    assert_eq!(cached_status, 200, "keys already cached keep verifying");
    assert_eq!(recovered_status, 200);
    assert!(test.logs.contains("\"outcome\":\"keys_unavailable\""));
}

#[tokio::test]
async fn missing_token_is_refused_by_the_gateway_without_invoking_the_authorizer() {
    let test = start_stack(|_| {}).await;

    let (rest, _) = http("GET", &format!("{}/hello", test.stack.rest_url), None).await;
    let (http_api, _) = http("GET", &format!("{}/hello", test.stack.http_url), None).await;

    assert_eq!((rest, http_api), (401, 401));
    assert_eq!(test.stack.authorizer.invocation_count(), 0);
}
