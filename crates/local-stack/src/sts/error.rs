//! STS's XML error answers.

use axum::http::StatusCode;

/// One error answer: the HTTP status and the `<Error>` members STS sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl StsError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// A parameter failed a model constraint; STS words these like its validation framework.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            format!("1 validation error detected: {}", message.into()),
        )
    }

    pub(crate) fn access_denied(principal: &str, action: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: {principal} is not authorized to perform: {action} because no \
                 identity-based policy allows the {action} action"
            ),
        )
    }

    pub(crate) fn signature_mismatch(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message)
    }

    pub(crate) fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "IncompleteSignature", message)
    }

    /// `Receiver` for server-side failures, `Sender` for everything the caller caused.
    fn fault(&self) -> &'static str {
        if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// The `<ErrorResponse>` document STS answers with.
    pub(crate) fn to_xml(&self, request_id: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    \
             <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            super::xml::NAMESPACE,
            self.fault(),
            self.code,
            super::xml::escape(&self.message),
            super::xml::escape(request_id),
        )
    }
}
