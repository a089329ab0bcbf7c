//! The answer a custom resource writes to CloudFormation's pre-signed URL.

use std::time::Duration;

use serde::Serialize;

use crate::request::ReplyTo;

/// Largest response body CloudFormation accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 4096;

/// Physical id of the resource when CloudFormation has not assigned one yet.
///
/// The account has one issuer, so one fixed id keeps every response for the resource identical,
/// as CloudFormation requires; a changing id would make an update look like a replacement.
pub const PHYSICAL_RESOURCE_ID: &str = "outbound-web-identity-issuer";

/// How long the PUT to the response URL may take, connection included.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the response could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The response body could not be serialised.
    #[error("serialising the response body failed")]
    Serialize(#[source] serde_json::Error),
    /// The PUT failed before a status arrived (connect, timeout, TLS).
    #[error("sending the response to cloudformation failed")]
    Send(#[source] reqwest::Error),
    /// The response URL answered with a non-success status.
    #[error("cloudformation response url answered with status {status}")]
    Rejected {
        /// The HTTP status received.
        status: u16,
    },
}

/// Outcome reported to CloudFormation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The resource operation succeeded.
    Success,
    /// The resource operation failed; the stack operation fails with the given reason.
    Failed,
}

/// Attributes the template reads with `!GetAtt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IssuerData {
    /// The account's issuer URL, the exact `iss` of its tokens.
    pub issuer_identifier: String,
}

/// One response to a custom resource request, as the JSON CloudFormation expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    /// `SUCCESS` or `FAILED`.
    pub status: Status,
    /// Why the operation failed; shown in the stack events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The resource's physical id, identical for every response.
    pub physical_resource_id: String,
    /// Echoed from the request.
    pub stack_id: String,
    /// Echoed from the request.
    pub request_id: String,
    /// Echoed from the request.
    pub logical_resource_id: String,
    /// Attributes for `!GetAtt`; only on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<IssuerData>,
}

impl CustomResourceResponse {
    /// A `SUCCESS` answer, with the issuer as data when there is one (not on `Delete`).
    pub fn success(reply: &ReplyTo, issuer: Option<&str>) -> Self {
        Self {
            status: Status::Success,
            reason: None,
            data: issuer.map(|issuer| IssuerData {
                issuer_identifier: issuer.to_owned(),
            }),
            ..Self::echo(reply)
        }
    }

    /// A `FAILED` answer carrying `reason`, which the stack events show to the operator.
    pub fn failure(reply: &ReplyTo, reason: impl Into<String>) -> Self {
        Self {
            status: Status::Failed,
            reason: Some(reason.into()),
            data: None,
            ..Self::echo(reply)
        }
    }

    fn echo(reply: &ReplyTo) -> Self {
        Self {
            status: Status::Failed,
            reason: None,
            physical_resource_id: reply
                .physical_resource_id
                .clone()
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| PHYSICAL_RESOURCE_ID.to_owned()),
            stack_id: reply.stack_id.clone(),
            request_id: reply.request_id.clone(),
            logical_resource_id: reply.logical_resource_id.clone(),
            data: None,
        }
    }

    /// Serialises the response, shortening the reason so the body fits [`MAX_BODY_BYTES`].
    ///
    /// # Errors
    ///
    /// [`ResponseError::Serialize`] if serialisation fails.
    pub fn to_body(&self) -> Result<Vec<u8>, ResponseError> {
        let body = serde_json::to_vec(self).map_err(ResponseError::Serialize)?;
        let Some(reason) = self.reason.as_deref() else {
            return Ok(body);
        };
        if body.len() <= MAX_BODY_BYTES {
            return Ok(body);
        }

        // Escaping can make the serialised reason longer than its text, so the room left is
        // measured in serialised bytes, char by char.
        let without_reason = Self {
            reason: Some(String::new()),
            ..self.clone()
        };
        let overhead = serde_json::to_vec(&without_reason)
            .map_err(ResponseError::Serialize)?
            .len();
        let shortened = Self {
            reason: Some(shorten(reason, MAX_BODY_BYTES.saturating_sub(overhead))),
            ..self.clone()
        };
        serde_json::to_vec(&shortened).map_err(ResponseError::Serialize)
    }
}

/// Cuts `text` so that, with an ellipsis appended, its JSON string escape fits `room` bytes.
fn shorten(text: &str, room: usize) -> String {
    const ELLIPSIS: &str = "...";
    let room = room.saturating_sub(ELLIPSIS.len());
    let mut used = 0;
    let mut kept = String::new();
    for c in text.chars() {
        let escaped = escaped_len(c);
        if used + escaped > room {
            break;
        }
        used += escaped;
        kept.push(c);
    }
    kept.push_str(ELLIPSIS);
    kept
}

/// Bytes `c` takes inside a JSON string as `serde_json` writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if c < ' ' => 6,
        c => c.len_utf8(),
    }
}

/// Builds the HTTP client that delivers responses, with bounded timeouts and no redirects.
///
/// # Errors
///
/// Returns the builder's error if the TLS backend cannot be initialised.
pub fn response_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(RESPONSE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// PUTs `response` to the request's pre-signed URL.
///
/// The request carries no `Content-Type`: the URL's signature covers the headers CloudFormation
/// chose, and an added content type can invalidate it.
///
/// # Errors
///
/// [`ResponseError::Send`] when no status arrives within the client's timeouts,
/// [`ResponseError::Rejected`] for a non-2xx status.
pub async fn send(
    http: &reqwest::Client,
    reply: &ReplyTo,
    response: &CustomResourceResponse,
) -> Result<(), ResponseError> {
    let body = response.to_body()?;
    let answer = http
        .put(&reply.response_url)
        .body(body)
        .send()
        .await
        .map_err(|error| ResponseError::Send(error.without_url()))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(ResponseError::Rejected {
            status: status.as_u16(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn reply(physical_resource_id: Option<&str>) -> ReplyTo {
        ReplyTo {
            response_url: "https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc".to_owned(),
            stack_id: "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1".to_owned(),
            request_id: "req-1".to_owned(),
            logical_resource_id: "OutboundIssuer".to_owned(),
            physical_resource_id: physical_resource_id.map(str::to_owned),
        }
    }

    fn body_json(response: &CustomResourceResponse) -> Value {
        serde_json::from_slice(&response.to_body().unwrap()).unwrap()
    }

    #[test]
    fn success_body_carries_issuer_data_and_fixed_physical_id() {
        let issuer = "https://a1b2c3d4-0000-4000-8000-000000000001.tokens.sts.global.api.aws";
        let response = CustomResourceResponse::success(&reply(None), Some(issuer));

        assert_eq!(
            body_json(&response),
            json!({
                "Status": "SUCCESS",
                "PhysicalResourceId": "outbound-web-identity-issuer",
                "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
                "RequestId": "req-1",
                "LogicalResourceId": "OutboundIssuer",
                "Data": {"IssuerIdentifier": issuer}
            })
        );
    }

    #[test]
    fn delete_success_echoes_physical_id_without_data() {
        let response = CustomResourceResponse::success(&reply(Some("earlier-id")), None);

        assert_eq!(
            body_json(&response),
            json!({
                "Status": "SUCCESS",
                "PhysicalResourceId": "earlier-id",
                "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
                "RequestId": "req-1",
                "LogicalResourceId": "OutboundIssuer"
            })
        );
    }

    #[test]
    fn failure_body_carries_reason_and_no_data() {
        let response = CustomResourceResponse::failure(&reply(Some("")), "it broke");

        assert_eq!(
            body_json(&response),
            json!({
                "Status": "FAILED",
                "Reason": "it broke",
                "PhysicalResourceId": "outbound-web-identity-issuer",
                "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
                "RequestId": "req-1",
                "LogicalResourceId": "OutboundIssuer"
            })
        );
    }

    #[test]
    fn long_reason_is_shortened_to_fit_the_body_limit() {
        for filler in ["x", "é", "\"", "\u{1}", "😀"] {
            let reason = filler.repeat(10_000);
            let response = CustomResourceResponse::failure(&reply(None), reason);

            let body = response.to_body().unwrap();
            let parsed: Value = serde_json::from_slice(&body).unwrap();

            assert!(body.len() <= MAX_BODY_BYTES, "{filler}: {}", body.len());
            let kept = parsed["Reason"].as_str().unwrap();
            assert!(kept.ends_with("..."), "{filler}");
            // Nothing more than one escaped char could have been kept.
            assert!(body.len() > MAX_BODY_BYTES - 6, "{filler}: {}", body.len());
            assert!(kept.starts_with(filler), "{filler}");
            assert_eq!(parsed["Status"], "FAILED");
        }
    }

    #[test]
    fn short_reason_is_kept_whole() {
        let reason = "r".repeat(3000);
        let response = CustomResourceResponse::failure(&reply(None), reason.clone());

        assert_eq!(body_json(&response)["Reason"], json!(reason));
    }
}
