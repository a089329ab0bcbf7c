//! One structured line per decision, with who called and why, and never the token.

mod support;

use authorizer::Settings;
use lambda_logging::MemoryWriter;
use local_stack::issuer::Algorithm;
use serde_json::Value;
use support::{Harness, READER, Shape, answer, event, identity};

fn json_lines(captured: &MemoryWriter) -> Vec<Value> {
    captured
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[tokio::test]
async fn each_decision_writes_one_line_with_its_fields_and_no_token() {
    let captured = MemoryWriter::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let harness = Harness::start().await;
    let token = harness.token(&identity(READER, &[]), Algorithm::Rs256);
    let bearer = format!("Bearer {token}");
    let settings = Settings::default();
    answer(
        &harness,
        &settings,
        event(Shape::RestRequest, "GET", "/hello", Some(&bearer)),
    )
    .await
    .unwrap();
    answer(
        &harness,
        &settings,
        event(Shape::RestRequest, "POST", "/orders", Some(&bearer)),
    )
    .await
    .unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap_or_default();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("Bearer {signed}.{flipped}{}", &signature[1..]);
    answer(
        &harness,
        &settings,
        event(Shape::RestRequest, "GET", "/hello", Some(&forged)),
    )
    .await
    .unwrap_err();

    let decisions: Vec<Value> = json_lines(&captured)
        .into_iter()
        .filter(|line| line["fields"]["message"] == "authorization decision")
        .map(|line| line["fields"].clone())
        .collect();
    assert_eq!(decisions.len(), 3, "{}", captured.text());

    let allow = &decisions[0];
    assert_eq!(allow["outcome"], "allow");
    assert_eq!(allow["reason"], "rule_matched");
    assert_eq!(allow["event"], "rest_request");
    assert_eq!(allow["route"], "GET /hello");
    assert_eq!(allow["rule"], "readers");
    assert_eq!(allow["subject"], READER);
    assert_eq!(allow["account"], "111122223333");
    assert_eq!(allow["kid"], "RSA_1");
    assert_eq!(allow["issuer"], harness.issuer.url());
    assert_eq!(allow["request_id"], "...");
    assert_eq!(allow["policy_scope"], "whole_api");
    assert!(allow["elapsed_ms"].is_number());

    assert_eq!(
        (&decisions[1]["outcome"], &decisions[1]["reason"]),
        (&"deny".into(), &"no_rule_matched".into())
    );
    assert_eq!(decisions[1].get("rule"), None);
    assert_eq!(
        (&decisions[2]["outcome"], &decisions[2]["reason"]),
        (&"unauthorized".into(), &"bad_signature".into())
    );

    let text = captured.text();
    assert!(
        !text.contains(signature),
        "a log line holds the token's signature"
    );
    assert!(!text.contains(&token[..40]), "a log line holds the token");
}
