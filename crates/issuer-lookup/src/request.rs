//! The request CloudFormation sends to a Lambda-backed custom resource.
//!
//! The event is read in two layers. [`ReplyTo`] holds only what is needed to answer (the
//! pre-signed URL and the identifiers to echo); [`RequestKind`] holds what to do. Reading them
//! apart lets the handler still answer `FAILED` when the second layer is malformed, instead of
//! leaving the stack waiting for the custom resource timeout.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// Longest `ResponseURL` accepted; pre-signed S3 URLs are far shorter.
const MAX_RESPONSE_URL_LEN: usize = 8 * 1024;

/// Why a custom resource event could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The event lacks a field needed to answer, or a field has the wrong type.
    #[error("event is not a cloudformation custom resource request")]
    NotCustomResource(#[source] serde_json::Error),
    /// The `ResponseURL` is not an `https` URL (or `http` on a loopback host).
    #[error("response url is not an https url")]
    ResponseUrlNotHttps,
    /// `RequestType` is neither `Create`, `Update` nor `Delete`.
    #[error("request type is not create, update or delete")]
    UnknownRequestType(#[source] serde_json::Error),
    /// `EnableFederation` is present but is neither `"true"` nor `"false"`.
    #[error("resource property EnableFederation must be \"true\" or \"false\"")]
    InvalidEnableFederation,
}

/// Where and how to answer one custom resource request.
///
/// `Debug` omits the response URL: its query string is a signature that lets anyone holding it
/// write the stack's answer.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplyTo {
    /// The pre-signed S3 URL that receives the response.
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// The stack ARN, echoed in the response.
    pub stack_id: String,
    /// The request id, echoed in the response.
    pub request_id: String,
    /// The logical id of the resource in the template, echoed in the response.
    pub logical_resource_id: String,
    /// The physical id returned earlier; absent on `Create`.
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

impl ReplyTo {
    /// Reads the reply address from a raw event.
    ///
    /// Checks that the fields to echo are strings and that the response URL is `https` (or
    /// `http` to a loopback address, which only a local test can receive).
    ///
    /// # Errors
    ///
    /// [`RequestError::NotCustomResource`] when a field is missing or not a string, and
    /// [`RequestError::ResponseUrlNotHttps`] for any other URL.
    pub fn from_event(event: &Value) -> Result<Self, RequestError> {
        let reply = Self::deserialize(event).map_err(RequestError::NotCustomResource)?;
        if !is_acceptable_response_url(&reply.response_url) {
            return Err(RequestError::ResponseUrlNotHttps);
        }
        Ok(reply)
    }

    /// The host part of the response URL, safe to log.
    pub fn response_host(&self) -> &str {
        let rest = self
            .response_url
            .split_once("://")
            .map_or("", |(_, rest)| rest);
        rest.split(['/', '?', '#']).next().unwrap_or("")
    }
}

impl fmt::Debug for ReplyTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("response_host", &self.response_host())
            .field("stack_id", &self.stack_id)
            .field("request_id", &self.request_id)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("physical_resource_id", &self.physical_resource_id)
            .finish()
    }
}

fn is_acceptable_response_url(url: &str) -> bool {
    if url.len() > MAX_RESPONSE_URL_LEN || url.chars().any(char::is_whitespace) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty();
    }
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
        matches!(host, "127.0.0.1" | "[::1]")
            || host.starts_with("127.0.0.1:")
            || host.starts_with("[::1]:")
    })
}

/// What CloudFormation asks the resource to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// The stack is creating the resource.
    Create(IssuerProperties),
    /// A stack update changed a resource property.
    Update(IssuerProperties),
    /// The stack is deleting the resource (or rolling back its creation).
    Delete,
}

impl RequestKind {
    /// Reads the request type and, for `Create` and `Update`, the resource properties.
    ///
    /// # Errors
    ///
    /// [`RequestError::UnknownRequestType`] for a missing or unknown `RequestType`, and
    /// [`RequestError::InvalidEnableFederation`] for a malformed `EnableFederation` property.
    pub fn from_event(event: &Value) -> Result<Self, RequestError> {
        let raw = RawKind::deserialize(event).map_err(RequestError::UnknownRequestType)?;
        match raw.request_type {
            RequestType::Create => Ok(Self::Create(IssuerProperties::from_value(
                &raw.resource_properties,
            )?)),
            RequestType::Update => Ok(Self::Update(IssuerProperties::from_value(
                &raw.resource_properties,
            )?)),
            RequestType::Delete => Ok(Self::Delete),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawKind {
    request_type: RequestType,
    #[serde(default)]
    resource_properties: Value,
}

#[derive(Deserialize)]
enum RequestType {
    Create,
    Update,
    Delete,
}

/// The properties the template sets on the `Custom::OutboundIssuer` resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IssuerProperties {
    /// Whether the resource may turn outbound identity federation on when it is off.
    /// Default `false`: enabling it is an account-wide change the operator opts into.
    pub enable_federation: bool,
}

impl IssuerProperties {
    /// Reads the properties from the event's `ResourceProperties` value.
    ///
    /// CloudFormation passes template booleans as the strings `"true"` and `"false"`; a JSON
    /// boolean is accepted too, and a missing property means `false`.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidEnableFederation`] for any other value.
    pub fn from_value(properties: &Value) -> Result<Self, RequestError> {
        let enable_federation = match properties.get("EnableFederation") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => true,
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(RequestError::InvalidEnableFederation),
        };
        Ok(Self { enable_federation })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Shapes follow the request objects in the AWS CloudFormation User Guide, "Custom resource
    // request objects" (crpg-ref-requests) and its Create/Update/Delete request type pages, as a
    // Lambda-backed resource receives them (ServiceToken at the top level and inside the
    // properties). Identifiers are made up.
    const CREATE: &str = include_str!("../tests/fixtures/create.json");
    const UPDATE: &str = include_str!("../tests/fixtures/update.json");
    const DELETE: &str = include_str!("../tests/fixtures/delete.json");

    fn event(text: &str) -> Value {
        serde_json::from_str(text).expect("fixture is valid JSON")
    }

    #[test]
    fn create_event_yields_reply_address_and_opt_in() {
        let event = event(CREATE);

        let reply = ReplyTo::from_event(&event).unwrap();
        let kind = RequestKind::from_event(&event).unwrap();

        assert_eq!(
            reply.stack_id,
            "arn:aws:cloudformation:eu-west-1:111122223333:stack/sts-authz/\
             0d4e9c50-1f2a-11f0-8a0b-06b1c2d3e4f5"
        );
        assert_eq!(reply.request_id, "5f1c6a2e-9b7d-4e3a-a1f0-2c8d7e6b5a49");
        assert_eq!(reply.logical_resource_id, "OutboundIssuer");
        assert_eq!(reply.physical_resource_id, None);
        assert_eq!(
            reply.response_host(),
            "cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com"
        );
        assert_eq!(
            kind,
            RequestKind::Create(IssuerProperties {
                enable_federation: true
            })
        );
    }

    #[test]
    fn update_event_reads_new_properties_and_keeps_physical_id() {
        let event = event(UPDATE);

        let reply = ReplyTo::from_event(&event).unwrap();
        let kind = RequestKind::from_event(&event).unwrap();

        assert_eq!(
            reply.physical_resource_id.as_deref(),
            Some("outbound-web-identity-issuer")
        );
        assert_eq!(
            kind,
            RequestKind::Update(IssuerProperties {
                enable_federation: false
            })
        );
    }

    #[test]
    fn delete_event_needs_no_properties() {
        let event = event(DELETE);

        let reply = ReplyTo::from_event(&event).unwrap();
        let kind = RequestKind::from_event(&event).unwrap();

        assert_eq!(reply.logical_resource_id, "OutboundIssuer");
        assert_eq!(kind, RequestKind::Delete);
    }

    #[test]
    fn debug_output_hides_the_presigned_signature() {
        let reply = ReplyTo::from_event(&event(CREATE)).unwrap();

        let printed = format!("{reply:?}");

        assert!(!printed.contains("Signature"), "{printed}");
        assert!(!printed.contains("X-Amz"), "{printed}");
        assert!(printed.contains("s3-eu-west-1.amazonaws.com"), "{printed}");
    }

    #[test]
    fn missing_response_url_is_not_a_custom_resource() {
        let mut event = event(CREATE);
        event.as_object_mut().unwrap().remove("ResponseURL");

        let error = ReplyTo::from_event(&event).unwrap_err();

        assert!(
            matches!(error, RequestError::NotCustomResource(_)),
            "{error:?}"
        );
    }

    #[test]
    fn non_object_events_are_not_custom_resources() {
        for value in [json!(null), json!([1, 2]), json!("Create"), json!(42)] {
            let error = ReplyTo::from_event(&value).unwrap_err();
            assert!(
                matches!(error, RequestError::NotCustomResource(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn echoed_field_of_wrong_type_is_not_a_custom_resource() {
        let mut event = event(CREATE);
        event["RequestId"] = json!({"nested": ["deep"]});

        let error = ReplyTo::from_event(&event).unwrap_err();

        assert!(
            matches!(error, RequestError::NotCustomResource(_)),
            "{error:?}"
        );
    }

    #[test]
    fn response_url_must_be_https_or_loopback_http() {
        let rejected = [
            "http://example.com/answer",
            "http://127.0.0.1.example.com/answer",
            "http://user@evil.example/answer",
            "ftp://bucket/answer",
            "file:///etc/passwd",
            "https://",
            "https://host/with space",
            "",
        ];
        for url in rejected {
            let mut event = event(CREATE);
            event["ResponseURL"] = json!(url);
            let error = ReplyTo::from_event(&event).unwrap_err();
            assert!(matches!(error, RequestError::ResponseUrlNotHttps), "{url}");
        }

        let mut event = event(CREATE);
        event["ResponseURL"] = json!("http://127.0.0.1:41234/cfn/answer?X-Amz-Signature=abc");
        assert!(ReplyTo::from_event(&event).is_ok());
    }

    #[test]
    fn oversized_response_url_is_rejected() {
        let mut event = event(CREATE);
        event["ResponseURL"] = json!(format!("https://bucket/{}", "a".repeat(20_000)));

        let error = ReplyTo::from_event(&event).unwrap_err();

        assert!(matches!(error, RequestError::ResponseUrlNotHttps));
    }

    #[test]
    fn unknown_request_type_is_rejected() {
        for request_type in [json!("create"), json!("Replace"), json!(1), json!(null)] {
            let mut event = event(CREATE);
            event["RequestType"] = request_type.clone();
            let error = RequestKind::from_event(&event).unwrap_err();
            assert!(
                matches!(error, RequestError::UnknownRequestType(_)),
                "{request_type}"
            );
        }
    }

    #[test]
    fn enable_federation_accepts_cloudformation_strings_and_booleans() {
        let cases = [
            (json!({"EnableFederation": "true"}), true),
            (json!({"EnableFederation": "TRUE"}), true),
            (json!({"EnableFederation": true}), true),
            (json!({"EnableFederation": "false"}), false),
            (json!({"EnableFederation": false}), false),
            (json!({"EnableFederation": null}), false),
            (json!({}), false),
            (json!(null), false),
        ];
        for (properties, expected) in cases {
            let parsed = IssuerProperties::from_value(&properties).unwrap();
            assert_eq!(parsed.enable_federation, expected, "{properties}");
        }
    }

    #[test]
    fn enable_federation_rejects_other_values() {
        let cases = [
            json!({"EnableFederation": "yes"}),
            json!({"EnableFederation": "true "}),
            json!({"EnableFederation": 1}),
            json!({"EnableFederation": ["true"]}),
            json!({"EnableFederation": {"value": "true"}}),
            json!({"EnableFederation": "trüe"}),
        ];
        for properties in cases {
            let error = IssuerProperties::from_value(&properties).unwrap_err();
            assert!(
                matches!(error, RequestError::InvalidEnableFederation),
                "{properties}"
            );
        }
    }
}
