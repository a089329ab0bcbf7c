//! The protected handler on REST and HTTP API proxy events: identity only from the authorizer
//! context, exact JSON answers per route.

mod support;

use serde_json::{Value, json};
use support::{call, caller_context, header, http_event, http_v1_event, rest_event};

const ROLE: &str = "arn:aws:iam::111122223333:role/service/caller-fn";

fn whoami() -> Value {
    json!({
        "roleArn": ROLE,
        "account": "111122223333",
        "partition": "aws",
        "roleName": "caller-fn",
        "issuer": "https://a1b2c3d4-0000-4000-8000-000000000001.tokens.sts.global.api.aws",
        "audience": "https://orders.example.com",
        "jti": "6f1c2d3e-0000-4000-8000-00000000a11c",
        "orgId": "o-a1b2c3d4e5",
        "sourceRegion": "eu-west-1",
        "sourceFunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn",
        "principalTags": {"team": "payments"},
        "requestTags": {},
        "rule": "readers,writers",
        "keyId": "RSA_1"
    })
}

#[tokio::test]
async fn whoami_returns_the_typed_identity_on_every_payload() {
    for event in [
        rest_event("GET", "/whoami", Some(caller_context()), None),
        http_v1_event("GET", "/whoami", caller_context()),
        http_event("GET", "/whoami", Some(caller_context()), None),
    ] {
        let (status, body, response) = call(&event).await;
        assert_eq!((status, body), (200, whoami()));
        assert_eq!(header(&response, "content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn hello_greets_the_caller_by_role() {
    let expected = json!({"message": "Hello, caller-fn of account 111122223333!", "roleArn": ROLE});
    for event in [
        rest_event("GET", "/hello", Some(caller_context()), None),
        http_event("GET", "/hello", Some(caller_context()), None),
    ] {
        let (status, body, _) = call(&event).await;
        assert_eq!((status, body), (200, expected.clone()));
    }
}

#[tokio::test]
async fn order_is_accepted_for_the_caller() {
    let body = Some(r#"{"item": "widget", "quantity": 3}"#);
    let expected = json!({
        "status": "accepted",
        "item": "widget",
        "quantity": 3,
        "orderedBy": ROLE,
        "account": "111122223333"
    });
    for event in [
        rest_event("POST", "/orders", Some(caller_context()), body),
        http_event("POST", "/orders", Some(caller_context()), body),
    ] {
        let (status, answer, _) = call(&event).await;
        assert_eq!((status, answer), (201, expected.clone()));
    }
}

#[tokio::test]
async fn base64_encoded_order_body_is_decoded() {
    let mut event = rest_event("POST", "/orders", Some(caller_context()), None);
    event["body"] = json!("eyJpdGVtIjogIndpZGdldCIsICJxdWFudGl0eSI6IDN9");
    event["isBase64Encoded"] = json!(true);
    let (status, answer, _) = call(&event).await;
    assert_eq!((status, &answer["item"]), (201, &json!("widget")));
}

#[tokio::test]
async fn bad_order_bodies_are_bad_requests() {
    let cases = [
        (
            Some("{"),
            json!({"error": "bad_request", "message": "body is not a valid order: EOF while parsing an object at line 1 column 1"}),
        ),
        (
            None,
            json!({"error": "bad_request", "message": "body is empty; send a json object with item and quantity"}),
        ),
        (
            Some(r#"{"item": "w", "quantity": 3, "admin": true}"#),
            json!({"error": "bad_request", "message": "body is not a valid order: unknown field `admin`, expected `item` or `quantity` at line 1 column 36"}),
        ),
        (
            Some(r#"{"item": "w", "quantity": 0}"#),
            json!({"error": "invalid_order", "message": "quantity must be between 1 and 1000"}),
        ),
    ];
    for (body, expected) in cases {
        let (status, answer, response) =
            call(&rest_event("POST", "/orders", Some(caller_context()), body)).await;
        assert_eq!((status, answer), (400, expected), "{body:?}");
        assert_eq!(header(&response, "content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn unknown_route_is_not_found_and_wrong_method_is_not_allowed() {
    let (status, body, _) = call(&rest_event("GET", "/admin", Some(caller_context()), None)).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"error": "not_found", "message": "no such route"})
        )
    );

    let (status, body, response) = call(&http_event(
        "DELETE",
        "/hello",
        Some(caller_context()),
        None,
    ))
    .await;
    assert_eq!(
        (status, body),
        (
            405,
            json!({"error": "method_not_allowed", "message": "method not allowed on this route"})
        )
    );
    assert_eq!(header(&response, "allow"), Some("GET"));

    let (status, _, response) =
        call(&rest_event("GET", "/orders", Some(caller_context()), None)).await;
    assert_eq!((status, header(&response, "allow")), (405, Some("POST")));
}

#[tokio::test]
async fn request_without_authorizer_context_is_unauthorized() {
    let expected = (
        401,
        json!({"error": "unauthorized", "message": "no verified caller"}),
    );
    for event in [
        rest_event("GET", "/whoami", None, None),
        http_event("GET", "/whoami", None, None),
        http_event("GET", "/nowhere", None, None),
        support::fixture("http-proxy.json"),
    ] {
        let (status, body, response) = call(&event).await;
        assert_eq!((status, body), expected);
        assert_eq!(header(&response, "www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn identity_headers_from_the_client_are_never_read() {
    let mut event = rest_event("GET", "/whoami", None, None);
    event["headers"]["X-Role-Arn"] = json!(ROLE);
    event["headers"]["roleArn"] = json!(ROLE);
    event["multiValueHeaders"]["X-Role-Arn"] = json!([ROLE]);
    assert_eq!(call(&event).await.0, 401);
}

#[tokio::test]
async fn context_that_does_not_describe_a_caller_is_unauthorized() {
    let mut mismatched = caller_context();
    mismatched["account"] = json!("999988887777");
    let mut missing = caller_context();
    missing.as_object_mut().unwrap().remove("roleArn");
    let mut nested = caller_context();
    nested["issuer"] = json!({"nested": true});
    for context in [mismatched, missing, nested, json!({"principalId": ROLE})] {
        let (status, _, _) = call(&http_event("GET", "/whoami", Some(context.clone()), None)).await;
        assert_eq!(status, 401, "{context}");
    }
    let mut flat_lambda = rest_event("GET", "/whoami", Some(caller_context()), None);
    flat_lambda["requestContext"]["authorizer"]["lambda"] = json!("not an object");
    assert_eq!(
        call(&flat_lambda).await.0,
        200,
        "a string `lambda` key is a context value"
    );
    let mut nested_missing = caller_context();
    nested_missing.as_object_mut().unwrap().remove("roleArn");
    assert_eq!(
        call(&http_v1_event("GET", "/whoami", nested_missing))
            .await
            .0,
        401
    );

    let mut other_principal = rest_event("GET", "/whoami", Some(caller_context()), None);
    other_principal["requestContext"]["authorizer"]["principalId"] =
        json!("arn:aws:iam::111122223333:role/x");
    assert_eq!(call(&other_principal).await.0, 401);
}

#[tokio::test]
async fn stage_prefix_does_not_break_routing() {
    let mut proxy = rest_event("GET", "/whoami", Some(caller_context()), None);
    proxy["resource"] = json!("/{proxy+}");
    proxy["requestContext"]["resourcePath"] = json!("/{proxy+}");
    proxy["pathParameters"] = json!({"proxy": "whoami"});
    assert_eq!(call(&proxy).await.0, 200);

    let mut staged = http_event("GET", "/prod/whoami", Some(caller_context()), None);
    staged["requestContext"]["stage"] = json!("prod");
    assert_eq!(call(&staged).await.0, 200);
}

#[tokio::test]
async fn unicode_and_huge_context_values_survive() {
    let mut context = caller_context();
    let tags = json!({"équipe": "paiements ✓", "long": "x".repeat(256)}).to_string();
    context["principalTags"] = json!(tags);
    let (status, body, _) = call(&http_event("GET", "/whoami", Some(context), None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["principalTags"]["équipe"], json!("paiements ✓"));
}
