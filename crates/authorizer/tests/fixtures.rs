//! The fixtures have the shapes AWS documents: each deserializes into its `aws_lambda_events`
//! type and survives a serialize / deserialize round trip unchanged.

mod support;

use authorizer::event::{AuthorizerRequest, EventKind};
use authorizer::route::Route;
use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support::fixture;

#[allow(
    clippy::unwrap_used,
    reason = "test helper: a panic fails the calling test"
)]
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let parsed: T = serde_json::from_value(fixture(name)).unwrap();
    let written = serde_json::to_string(&parsed).unwrap();
    let reparsed: T = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed, reparsed, "{name}");
    parsed
}

#[test]
fn rest_token_fixture_round_trips() {
    let event: ApiGatewayCustomAuthorizerRequest = round_trip("rest-token.json");
    assert_eq!(event.type_.as_deref(), Some("TOKEN"));
}

#[test]
fn rest_request_fixture_round_trips() {
    let event: ApiGatewayCustomAuthorizerRequestTypeRequest = round_trip("rest-request.json");
    assert_eq!(event.request_context.stage.as_deref(), Some("prod"));
}

#[test]
fn http_v1_fixture_round_trips() {
    let event: ApiGatewayV2CustomAuthorizerV1Request = round_trip("http-v1-request.json");
    assert_eq!(event.version.as_deref(), Some("1.0"));
}

#[test]
fn http_v2_fixture_round_trips() {
    let event: ApiGatewayV2CustomAuthorizerV2Request = round_trip("http-v2-request.json");
    assert_eq!(event.route_key.as_deref(), Some("GET /hello"));
}

#[test]
fn each_fixture_is_recognised_as_its_shape_with_its_route() {
    let cases = [
        ("rest-token.json", EventKind::RestToken),
        ("rest-request.json", EventKind::RestRequest),
        ("http-v1-request.json", EventKind::HttpV1),
        ("http-v2-request.json", EventKind::HttpV2),
    ];
    for (name, kind) in cases {
        let request = AuthorizerRequest::parse(&fixture(name), "authorization").unwrap();
        assert_eq!(request.kind, kind, "{name}");
        assert_eq!(request.route, Some(Route::new("GET", "/hello")), "{name}");
    }
}
