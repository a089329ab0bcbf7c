//! API descriptions the gateway refuses, with the reason it gives.

use std::time::Duration;

use local_stack::gateway::{
    ConfigError, Gateway, HttpApi, HttpAuthorizer, PayloadVersion, RestApi, RestAuthorizer,
};
use local_stack::runtime::{FnInvoke, Invoke};
use serde_json::Value;

fn function() -> std::sync::Arc<dyn Invoke> {
    FnInvoke::new("f", |_| async { Ok(Value::Null) }).into_arc()
}

#[test]
fn authorized_route_without_authorizer_is_refused() {
    let api = RestApi::new("api1", "prod").route("GET /hello", function());
    assert!(
        matches!(Gateway::rest(api), Err(ConfigError::NoAuthorizer(key)) if key == "GET /hello")
    );
}

#[test]
fn ttl_above_an_hour_is_refused() {
    let auth = RestAuthorizer::token(function(), "Authorization").ttl(Duration::from_secs(3_601));
    let api = RestApi::new("api1", "prod").authorizer(auth);
    assert!(matches!(
        Gateway::rest(api),
        Err(ConfigError::TtlTooLong(_))
    ));
}

#[test]
fn caching_without_identity_source_is_refused() {
    let auth = HttpAuthorizer::new(function(), PayloadVersion::V2).ttl(Duration::from_secs(60));
    assert!(matches!(
        Gateway::http(HttpApi::new("api1").authorizer(auth)),
        Err(ConfigError::CacheWithoutIdentitySource)
    ));
    let uncached = HttpAuthorizer::new(function(), PayloadVersion::V2);
    assert!(Gateway::http(HttpApi::new("api1").authorizer(uncached)).is_ok());
}

#[test]
fn simple_responses_need_payload_two() {
    let auth = HttpAuthorizer::new(function(), PayloadVersion::V1).simple_responses(true);
    assert!(matches!(
        Gateway::http(HttpApi::new("api1").authorizer(auth)),
        Err(ConfigError::SimpleResponsesNeedV2)
    ));
}

#[test]
fn malformed_identity_sources_and_expressions_are_refused() {
    let auth = RestAuthorizer::request(function(), ["method.request.body.x"]);
    assert!(matches!(
        Gateway::rest(RestApi::new("api1", "prod").authorizer(auth)),
        Err(ConfigError::InvalidIdentitySource(source)) if source == "method.request.body.x"
    ));
    let auth =
        RestAuthorizer::token(function(), "Authorization").validation_expression("(unclosed");
    assert!(matches!(
        Gateway::rest(RestApi::new("api1", "prod").authorizer(auth)),
        Err(ConfigError::InvalidValidationExpression(_))
    ));
}

#[test]
fn names_that_break_arns_are_refused() {
    for (api_id, stage) in [
        ("", "prod"),
        ("api/1", "prod"),
        ("api1", "pr od"),
        ("api1", ""),
    ] {
        assert!(
            matches!(
                Gateway::rest(RestApi::new(api_id, stage)),
                Err(ConfigError::InvalidName { .. })
            ),
            "{api_id:?} {stage:?}"
        );
    }
    let api = HttpApi::new("api1").account_id("12345678901x");
    assert!(matches!(
        Gateway::http(api),
        Err(ConfigError::InvalidName {
            what: "account id",
            ..
        })
    ));
}

#[test]
fn default_route_exists_only_on_http_apis() {
    let rest = RestApi::new("api1", "prod").open_route("$default", function());
    assert!(matches!(
        Gateway::rest(rest),
        Err(ConfigError::InvalidRouteKey { .. })
    ));
    let http = HttpApi::new("api1").open_route("$default", function());
    assert!(Gateway::http(http).is_ok());
}
