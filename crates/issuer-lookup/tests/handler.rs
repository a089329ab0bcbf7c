//! The handler against a loopback server that plays both IAM (Query protocol, XML answers as
//! the IAM API Reference shows them) and CloudFormation's pre-signed response URL.

#![allow(
    clippy::unwrap_used,
    reason = "test harness: a failed setup step should abort the test"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use issuer_lookup::federation::FederationError;
use issuer_lookup::{
    Dependencies, HandlerError, RequestError, ResponseError, Status, respond, response_client,
    sdk_timeouts,
};
use serde_json::{Value, json};

const ISSUER: &str = "https://3f6b2a1c-8d4e-4f0a-9b7c-5e2d1a0f9c83.tokens.sts.global.api.aws";
const GET_INFO: &str = "GetOutboundWebIdentityFederationInfo";
const ENABLE: &str = "EnableOutboundWebIdentityFederation";
const BUDGET: Duration = Duration::from_secs(20);

/// How the fake IAM behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Account {
    Enabled,
    Disabled,
    /// Disabled on the first read; someone else enables it before this resource does, so
    /// `EnableOutboundWebIdentityFederation` answers 409.
    EnabledConcurrently,
    /// Every call is refused.
    AccessDenied,
    /// IAM never answers in time.
    Hanging,
}

struct Recorded {
    account: Account,
    enabled: bool,
    iam_actions: Vec<String>,
    responses: Vec<(Option<String>, Value)>,
    answer_status: StatusCode,
}

type Shared = Arc<Mutex<Recorded>>;

struct FakeAws {
    base: String,
    state: Shared,
    deps: Dependencies,
}

impl FakeAws {
    async fn start(account: Account) -> Self {
        let state = Arc::new(Mutex::new(Recorded {
            account,
            enabled: account == Account::Enabled,
            iam_actions: Vec::new(),
            responses: Vec::new(),
            answer_status: StatusCode::OK,
        }));
        let app = Router::new()
            .route("/", post(iam))
            .route("/cfn/{*key}", put(cloudformation))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDLOCALTEST",
                "local-test-secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(&base)
            .timeout_config(sdk_timeouts())
            .retry_config(RetryConfig::disabled())
            .build();
        let deps = Dependencies {
            iam: aws_sdk_iam::Client::from_conf(config),
            http: response_client().unwrap(),
        };
        Self { base, state, deps }
    }

    fn event(&self, fixture: &str) -> Value {
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        event["ResponseURL"] = json!(format!(
            "{}/cfn/stack%7COutboundIssuer%7Creq?X-Amz-Signature=0123abcd",
            self.base
        ));
        event
    }

    fn iam_actions(&self) -> Vec<String> {
        self.state.lock().unwrap().iam_actions.clone()
    }

    /// The one response CloudFormation received, with its `Content-Type` header if any.
    fn only_response(&self) -> (Option<String>, Value) {
        let responses = self.state.lock().unwrap().responses.clone();
        assert_eq!(responses.len(), 1, "{responses:?}");
        responses.into_iter().next().unwrap()
    }
}

async fn iam(State(state): State<Shared>, body: String) -> Response {
    let form = form_fields(&body);
    let action = form.get("Action").cloned().unwrap_or_default();
    assert_eq!(form.get("Version").map(String::as_str), Some("2010-05-08"));

    let account = {
        let mut state = state.lock().unwrap();
        state.iam_actions.push(action.clone());
        state.account
    };
    if account == Account::Hanging {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }

    let mut state = state.lock().unwrap();
    match (account, action.as_str()) {
        (Account::AccessDenied, _) => iam_error(StatusCode::FORBIDDEN, "AccessDenied", DENIED),
        (_, GET_INFO) if state.enabled => xml(StatusCode::OK, &get_info_answer()),
        (_, GET_INFO) => iam_error(StatusCode::NOT_FOUND, "FeatureDisabled", "feature disabled"),
        (Account::EnabledConcurrently, ENABLE) => {
            state.enabled = true;
            iam_error(
                StatusCode::CONFLICT,
                "FeatureEnabled",
                "feature already enabled",
            )
        }
        (_, ENABLE) if state.enabled => iam_error(
            StatusCode::CONFLICT,
            "FeatureEnabled",
            "feature already enabled",
        ),
        (_, ENABLE) => {
            state.enabled = true;
            xml(StatusCode::OK, &enable_answer())
        }
        _ => iam_error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "unexpected action",
        ),
    }
}

/// Splits a form body; the fields the SDK sends here need no percent-decoding.
fn form_fields(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const DENIED: &str = "User: arn:aws:sts::111122223333:assumed-role/lookup/fn is not authorized \
                      to perform: iam:GetOutboundWebIdentityFederationInfo";

/// The success shape from the IAM API Reference page of GetOutboundWebIdentityFederationInfo.
fn get_info_answer() -> String {
    format!(
        "<GetOutboundWebIdentityFederationInfoResponse xmlns=\"{XMLNS}\">\
         <GetOutboundWebIdentityFederationInfoResult>\
         <IssuerIdentifier>{ISSUER}</IssuerIdentifier>\
         <JwtVendingEnabled>true</JwtVendingEnabled>\
         </GetOutboundWebIdentityFederationInfoResult>\
         <ResponseMetadata><RequestId>a6dac9b4-0000-4489-acec-b10000000f44</RequestId>\
         </ResponseMetadata>\
         </GetOutboundWebIdentityFederationInfoResponse>"
    )
}

/// The success shape from the IAM API Reference page of EnableOutboundWebIdentityFederation.
fn enable_answer() -> String {
    format!(
        "<EnableOutboundWebIdentityFederationResponse xmlns=\"{XMLNS}\">\
         <EnableOutboundWebIdentityFederationResult>\
         <IssuerIdentifier>{ISSUER}</IssuerIdentifier>\
         </EnableOutboundWebIdentityFederationResult>\
         <ResponseMetadata><RequestId>4a396884-0000-427a-938f-e50000000011</RequestId>\
         </ResponseMetadata>\
         </EnableOutboundWebIdentityFederationResponse>"
    )
}

/// The Query protocol error envelope IAM uses (`ErrorResponse` / `Error` / `Code`).
fn iam_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>7e1c0d2a-0000-4b3c-9d8e-000000000001</RequestId>\
         </ErrorResponse>"
    );
    xml(status, &body)
}

fn xml(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml")],
        body.to_owned(),
    )
        .into_response()
}

async fn cloudformation(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned());
    let mut state = state.lock().unwrap();
    state
        .responses
        .push((content_type, serde_json::from_str(&body).unwrap()));
    state.answer_status
}

const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:111122223333:stack/sts-authz/\
                        0d4e9c50-1f2a-11f0-8a0b-06b1c2d3e4f5";
const CREATE: &str = include_str!("fixtures/create.json");
const UPDATE: &str = include_str!("fixtures/update.json");
const DELETE: &str = include_str!("fixtures/delete.json");

fn without_opt_in(mut event: Value) -> Value {
    event["ResourceProperties"]["EnableFederation"] = json!("false");
    event
}

#[tokio::test]
async fn disabled_account_with_opt_in_is_enabled_and_reports_the_issuer() {
    let aws = FakeAws::start(Account::Disabled).await;

    let status = respond(&aws.event(CREATE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Success);
    assert_eq!(aws.iam_actions(), [GET_INFO, ENABLE]);
    let (content_type, body) = aws.only_response();
    assert_eq!(content_type, None);
    assert_eq!(
        body,
        json!({
            "Status": "SUCCESS",
            "PhysicalResourceId": "outbound-web-identity-issuer",
            "StackId": STACK_ID,
            "RequestId": "5f1c6a2e-9b7d-4e3a-a1f0-2c8d7e6b5a49",
            "LogicalResourceId": "OutboundIssuer",
            "Data": {"IssuerIdentifier": ISSUER}
        })
    );
}

#[tokio::test]
async fn enabled_account_is_read_without_enabling() {
    let aws = FakeAws::start(Account::Enabled).await;

    let status = respond(&aws.event(CREATE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Success);
    assert_eq!(aws.iam_actions(), [GET_INFO]);
    assert_eq!(
        aws.only_response().1["Data"],
        json!({"IssuerIdentifier": ISSUER})
    );
}

#[tokio::test]
async fn update_keeps_the_physical_id_and_reports_the_issuer() {
    let aws = FakeAws::start(Account::Enabled).await;

    let status = respond(&aws.event(UPDATE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Success);
    let body = aws.only_response().1;
    assert_eq!(body["PhysicalResourceId"], "outbound-web-identity-issuer");
    assert_eq!(body["RequestId"], "8a2d4f6b-1c3e-4a5b-9d7f-0e2c4a6b8d1f");
    assert_eq!(body["Data"], json!({"IssuerIdentifier": ISSUER}));
}

#[tokio::test]
async fn disabled_account_without_opt_in_fails_with_guidance() {
    let aws = FakeAws::start(Account::Disabled).await;

    let status = respond(&without_opt_in(aws.event(CREATE)), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Failed);
    assert_eq!(aws.iam_actions(), [GET_INFO]);
    let body = aws.only_response().1;
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["Reason"], json!(FederationError::Disabled.to_string()));
    assert_eq!(body["PhysicalResourceId"], "outbound-web-identity-issuer");
    assert_eq!(body.get("Data"), None);
}

#[tokio::test]
async fn federation_enabled_meanwhile_counts_as_success() {
    let aws = FakeAws::start(Account::EnabledConcurrently).await;

    let status = respond(&aws.event(CREATE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Success);
    assert_eq!(aws.iam_actions(), [GET_INFO, ENABLE, GET_INFO]);
    assert_eq!(
        aws.only_response().1["Data"],
        json!({"IssuerIdentifier": ISSUER})
    );
}

#[tokio::test]
async fn delete_succeeds_without_calling_iam() {
    let aws = FakeAws::start(Account::Enabled).await;

    let status = respond(&aws.event(DELETE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Success);
    assert!(aws.iam_actions().is_empty(), "{:?}", aws.iam_actions());
    assert_eq!(
        aws.only_response().1,
        json!({
            "Status": "SUCCESS",
            "PhysicalResourceId": "outbound-web-identity-issuer",
            "StackId": STACK_ID,
            "RequestId": "c4e6a8b0-2d4f-4b6d-8f0a-1b3d5f7a9c2e",
            "LogicalResourceId": "OutboundIssuer"
        })
    );
}

#[tokio::test]
async fn refused_iam_call_fails_with_the_iam_error() {
    let aws = FakeAws::start(Account::AccessDenied).await;

    let status = respond(&aws.event(CREATE), &aws.deps, BUDGET)
        .await
        .unwrap();

    assert_eq!(status, Status::Failed);
    let reason = aws.only_response().1["Reason"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with("reading the outbound identity federation settings failed: "),
        "{reason}"
    );
    assert!(reason.contains("AccessDenied"), "{reason}");
}

#[tokio::test]
async fn hanging_iam_fails_before_the_deadline() {
    let aws = FakeAws::start(Account::Hanging).await;
    let budget = Duration::from_millis(300);

    let status = respond(&aws.event(CREATE), &aws.deps, budget)
        .await
        .unwrap();

    assert_eq!(status, Status::Failed);
    assert_eq!(
        aws.only_response().1["Reason"],
        json!(FederationError::TimedOut(budget).to_string())
    );
}

#[tokio::test]
async fn malformed_properties_fail_without_calling_iam() {
    let aws = FakeAws::start(Account::Disabled).await;
    let mut event = aws.event(CREATE);
    event["ResourceProperties"]["EnableFederation"] = json!({"nested": [1, 2, 3]});

    let status = respond(&event, &aws.deps, BUDGET).await.unwrap();

    assert_eq!(status, Status::Failed);
    assert!(aws.iam_actions().is_empty());
    assert_eq!(
        aws.only_response().1["Reason"],
        json!(RequestError::InvalidEnableFederation.to_string())
    );
}

#[tokio::test]
async fn unknown_request_type_is_answered_failed() {
    let aws = FakeAws::start(Account::Enabled).await;
    let mut event = aws.event(CREATE);
    event["RequestType"] = json!("Import");

    let status = respond(&event, &aws.deps, BUDGET).await.unwrap();

    assert_eq!(status, Status::Failed);
    assert!(aws.iam_actions().is_empty());
    assert_eq!(
        aws.only_response().1["Reason"],
        "request type is not create, update or delete"
    );
}

#[tokio::test]
async fn event_without_reply_address_is_an_invocation_error() {
    let aws = FakeAws::start(Account::Enabled).await;
    let mut event = aws.event(CREATE);
    event.as_object_mut().unwrap().remove("StackId");

    let error = respond(&event, &aws.deps, BUDGET).await.unwrap_err();

    assert!(
        matches!(
            error,
            HandlerError::Unanswerable(RequestError::NotCustomResource(_))
        ),
        "{error:?}"
    );
    assert!(aws.iam_actions().is_empty());
    assert!(aws.state.lock().unwrap().responses.is_empty());
}

#[tokio::test]
async fn refused_response_upload_is_an_invocation_error() {
    let aws = FakeAws::start(Account::Enabled).await;
    aws.state.lock().unwrap().answer_status = StatusCode::FORBIDDEN;

    let error = respond(&aws.event(CREATE), &aws.deps, BUDGET)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            HandlerError::Delivery(ResponseError::Rejected { status: 403 })
        ),
        "{error:?}"
    );
}
