//! The local STS's wire format: the exact XML documents, headers and status codes, and requests no
//! SDK would send.

mod sts_support;

use std::sync::{Arc, Mutex};

use aws_sdk_sts::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::{BoxError, ProvideErrorMetadata};
use sts_support::*;

/// Rewrites the signed body's `DurationSeconds=300` to `900` after signing, as a tampering proxy
/// would.
#[derive(Debug)]
struct TamperBody;

impl Intercept for TamperBody {
    fn name(&self) -> &'static str {
        "TamperBody"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().ok_or("streaming body")?;
        let tampered =
            String::from_utf8(body.to_vec())?.replace("DurationSeconds=300", "DurationSeconds=900");
        *context.request_mut().body_mut() = tampered.into();
        Ok(())
    }
}

/// Keeps the raw body of the last response the SDK received.
#[derive(Debug, Clone, Default)]
struct CaptureResponse(Arc<Mutex<Option<String>>>);

impl Intercept for CaptureResponse {
    fn name(&self) -> &'static str {
        "CaptureResponse"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response().body().bytes().ok_or("streaming body")?;
        let text = String::from_utf8(body.to_vec())?;
        *self.0.lock().map_err(|_| "poisoned")? = Some(text);
        Ok(())
    }
}

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, Option<String>, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
        .send()
        .await
        .expect("the local sts answers");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .map(|value| value.to_str().expect("request id is ascii").to_owned());
    assert_eq!(response.headers()["content-type"], "text/xml");
    (
        status,
        request_id,
        response.text().await.expect("the body is text"),
    )
}

fn error_document(fault: &str, code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>{fault}</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  \
         </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
    )
}

#[tokio::test]
async fn unsigned_request_is_missing_authentication_token_in_sts_error_xml() {
    let stack = stack().await;

    let (status, request_id, body) = post(
        stack.sts.url(),
        "Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1=a&SigningAlgorithm=RS256",
    )
    .await;

    assert_eq!(status, 403);
    let request_id = request_id.unwrap();
    assert_eq!(
        body,
        error_document(
            "Sender",
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            &request_id
        )
    );
}

#[tokio::test]
async fn unknown_action_or_version_is_invalid_action() {
    let stack = stack().await;

    let (status, request_id, body) =
        post(stack.sts.url(), "Action=AssumeRole&Version=2011-06-15").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error_document(
            "Sender",
            "InvalidAction",
            "Could not find operation AssumeRole for version 2011-06-15",
            &request_id.unwrap()
        )
    );

    let (status, _, body) = post(
        stack.sts.url(),
        "Action=GetWebIdentityToken&Version=2099-01-01",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");

    let (status, _, body) = post(stack.sts.url(), "").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<Message>Could not find operation  for version </Message>"),
        "{body}"
    );
}

#[tokio::test]
async fn markup_in_echoed_values_is_escaped() {
    let stack = stack().await;

    let (_, request_id, body) = post(
        stack.sts.url(),
        "Action=%3C%2FMessage%3E%3Cx%3E&Version=2011-06-15",
    )
    .await;

    assert_eq!(
        body,
        error_document(
            "Sender",
            "InvalidAction",
            "Could not find operation &lt;/Message&gt;&lt;x&gt; for version 2011-06-15",
            &request_id.unwrap()
        )
    );
}

#[tokio::test]
async fn get_requests_are_refused() {
    let stack = stack().await;

    let response = reqwest::get(format!(
        "{}/?Action=GetWebIdentityToken&Version=2011-06-15",
        stack.sts.url()
    ))
    .await
    .unwrap();

    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<Code>InvalidAction</Code>")
    );
}

#[tokio::test]
async fn oversized_body_is_request_entity_too_large() {
    let stack = stack().await;
    let huge = format!(
        "Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1={}",
        "a".repeat(600 * 1024)
    );

    let (status, _, body) = post(stack.sts.url(), huge).await;

    assert_eq!(status, 413);
    assert!(
        body.contains("<Code>RequestEntityTooLarge</Code>"),
        "{body}"
    );
}

#[tokio::test]
async fn forged_authorization_for_a_known_key_is_a_signature_mismatch() {
    let stack = stack().await;
    let date = "20240101T000000Z";

    let response = reqwest::Client::new()
        .post(stack.sts.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-amz-date", date)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240101/{REGION}/sts/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature={}",
                "0".repeat(64)
            ),
        )
        .body("Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1=a&SigningAlgorithm=RS256")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    assert!(
        body.contains("<Message>Signature expired: 20240101T000000Z"),
        "{body}"
    );
    assert_eq!(stack.sts.counters().tokens_issued, 0);
}

#[tokio::test]
async fn body_changed_after_signing_is_a_signature_mismatch() {
    let stack = stack().await;
    let config = sdk_config(&stack.sts, ACCESS_KEY_ID, SECRET_ACCESS_KEY).await;
    let config = aws_sdk_sts::config::Builder::from(&config)
        .interceptor(TamperBody)
        .build();
    let client = aws_sdk_sts::Client::from_conf(config);

    let err = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256")
        .duration_seconds(300)
        .send()
        .await
        .unwrap_err();

    let err = err.into_service_error();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(stack.sts.counters().tokens_issued, 0);
}

#[tokio::test]
async fn success_document_is_the_sts_query_response() {
    let stack = stack().await;
    let capture = CaptureResponse::default();
    let config = sdk_config(&stack.sts, ACCESS_KEY_ID, SECRET_ACCESS_KEY).await;
    let config = aws_sdk_sts::config::Builder::from(&config)
        .interceptor(capture.clone())
        .build();
    let client = aws_sdk_sts::Client::from_conf(config);

    let output = client
        .get_web_identity_token()
        .audience("a")
        .signing_algorithm("RS256")
        .send()
        .await
        .unwrap();

    let token = output.web_identity_token().unwrap();
    let expiration = output.expiration().unwrap();
    let expiration = expiration
        .fmt(aws_sdk_sts::primitives::DateTimeFormat::DateTime)
        .unwrap();
    let request_id = aws_sdk_sts::operation::RequestId::request_id(&output).unwrap();
    let raw = capture.0.lock().unwrap().clone().unwrap();
    assert_eq!(
        raw,
        format!(
            "<GetWebIdentityTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
             <GetWebIdentityTokenResult>\n    <WebIdentityToken>{token}</WebIdentityToken>\n    \
             <Expiration>{expiration}</Expiration>\n  </GetWebIdentityTokenResult>\n  \
             <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
             </GetWebIdentityTokenResponse>\n"
        )
    );
    assert!(expiration.ends_with('Z'), "{expiration}");
}
