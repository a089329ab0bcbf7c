//! Reads (and, when allowed, turns on) IAM outbound identity federation for the account.

use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::error::{DisplayErrorContext, SdkError};
use aws_sdk_iam::operation::enable_outbound_web_identity_federation as enable_op;
use aws_sdk_iam::operation::get_outbound_web_identity_federation_info as get_info_op;
use enable_op::EnableOutboundWebIdentityFederationError as EnableError;
use get_info_op::GetOutboundWebIdentityFederationInfoError as GetInfoError;
use tracing::{debug, info};

/// Longest issuer URL accepted from IAM; real ones are about 70 characters.
const MAX_ISSUER_LEN: usize = 1024;

/// Why the issuer could not be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// Federation is off and the stack did not opt in to enabling it.
    #[error(
        "outbound identity federation is disabled in this account; deploy again with the \
         parameter EnableFederation=true to let the stack enable it, or run \
         `aws iam enable-outbound-web-identity-federation` once and retry"
    )]
    Disabled,
    /// Enabling was accepted but IAM still reports federation as off.
    #[error(
        "outbound identity federation still reads as disabled after enabling it; retry shortly"
    )]
    StillDisabled,
    /// `GetOutboundWebIdentityFederationInfo` failed for another reason.
    #[error(
        "reading the outbound identity federation settings failed: {}",
        DisplayErrorContext(.0)
    )]
    Read(#[source] Box<SdkError<GetInfoError>>),
    /// `EnableOutboundWebIdentityFederation` failed for another reason.
    #[error("enabling outbound identity federation failed: {}", DisplayErrorContext(.0))]
    Enable(#[source] Box<SdkError<EnableError>>),
    /// IAM answered without an issuer, or with one the authorizer could not use.
    #[error("iam returned an issuer that is not a bare https url: {0:?}")]
    InvalidIssuer(String),
    /// The IAM calls did not finish in the time left before CloudFormation must be answered.
    #[error("iam did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
}

/// Timeouts for the IAM client: a hung call fails well inside the function's own timeout, so the
/// handler still has time to tell CloudFormation.
pub fn sdk_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// Retry policy for the IAM client: the SDK's standard retries of throttling and 5xx answers.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// Returns the account's issuer URL, enabling federation first when it is off and `enable` is set.
///
/// The whole exchange is bounded by `budget`.
///
/// # Errors
///
/// [`FederationError::Disabled`] when federation is off and `enable` is false; the other
/// variants when IAM fails, answers with an unusable issuer, or runs past `budget`.
pub async fn lookup_issuer(
    iam: &Client,
    enable: bool,
    budget: Duration,
) -> Result<String, FederationError> {
    tokio::time::timeout(budget, lookup_unbounded(iam, enable))
        .await
        .unwrap_or(Err(FederationError::TimedOut(budget)))
}

async fn lookup_unbounded(iam: &Client, enable: bool) -> Result<String, FederationError> {
    if let Some(issuer) = read_issuer(iam).await? {
        debug!(issuer = %issuer, "outbound identity federation already enabled");
        return Ok(issuer);
    }
    if !enable {
        debug!("outbound identity federation disabled and the stack did not opt in");
        return Err(FederationError::Disabled);
    }
    enable_federation(iam).await
}

/// Reads the issuer, or `None` when federation is off (404 `FeatureDisabled`, or a 200 whose
/// `JwtVendingEnabled` is false).
async fn read_issuer(iam: &Client) -> Result<Option<String>, FederationError> {
    match iam.get_outbound_web_identity_federation_info().send().await {
        Ok(info) if info.jwt_vending_enabled() => validated(info.issuer_identifier()).map(Some),
        Ok(_) => Ok(None),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(GetInfoError::is_feature_disabled_exception) =>
        {
            Ok(None)
        }
        Err(error) => Err(FederationError::Read(Box::new(error))),
    }
}

async fn enable_federation(iam: &Client) -> Result<String, FederationError> {
    match iam.enable_outbound_web_identity_federation().send().await {
        // The enable answer carries the issuer; using it avoids reading back right away from
        // IAM, which is eventually consistent and may still report the feature as off.
        Ok(enabled) if enabled.issuer_identifier().is_some() => {
            let issuer = validated(enabled.issuer_identifier())?;
            info!(issuer = %issuer, "enabled outbound identity federation");
            Ok(issuer)
        }
        Ok(_) => read_issuer(iam)
            .await?
            .ok_or(FederationError::StillDisabled),
        // 409 FeatureEnabled: something else enabled it since the first read, which is the
        // state wanted; read the issuer it created.
        Err(error)
            if error
                .as_service_error()
                .is_some_and(EnableError::is_feature_enabled_exception) =>
        {
            debug!("outbound identity federation was enabled concurrently");
            read_issuer(iam)
                .await?
                .ok_or(FederationError::StillDisabled)
        }
        Err(error) => Err(FederationError::Enable(Box::new(error))),
    }
}

/// Accepts an issuer only in the form the authorizer's `TRUSTED_ISSUERS` needs: an `https` URL
/// without a trailing slash, and without commas or whitespace that would split or corrupt the
/// comma-separated list.
fn validated(issuer: Option<&str>) -> Result<String, FederationError> {
    let issuer = issuer.unwrap_or_default();
    let host = issuer.strip_prefix("https://").unwrap_or_default();
    let usable = !host.is_empty()
        && issuer.len() <= MAX_ISSUER_LEN
        && !issuer.ends_with('/')
        && issuer.chars().all(|c| c.is_ascii_graphic() && c != ',');
    if usable {
        Ok(issuer.to_owned())
    } else {
        let shown: String = issuer.chars().take(200).collect();
        Err(FederationError::InvalidIssuer(shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_issuer_shape_is_accepted() {
        let issuer = "https://a1d2b0fd-1177-4468-9351-2f0000000723.tokens.sts.global.api.aws";

        assert_eq!(validated(Some(issuer)).unwrap(), issuer);
    }

    #[test]
    fn unusable_issuers_are_rejected() {
        let long = format!("https://{}", "a".repeat(2000));
        let cases = [
            None,
            Some(""),
            Some("https://"),
            Some("http://a.tokens.sts.global.api.aws"),
            Some("https://a.tokens.sts.global.api.aws/"),
            Some("https://a.example,https://b.example"),
            Some("https://a.example\n"),
            Some("https://a .example"),
            Some("https://ä.example"),
            Some(long.as_str()),
        ];
        for issuer in cases {
            let error = validated(issuer).unwrap_err();
            assert!(
                matches!(error, FederationError::InvalidIssuer(_)),
                "{issuer:?}"
            );
        }
    }

    #[test]
    fn disabled_message_tells_how_to_enable() {
        let message = FederationError::Disabled.to_string();

        assert!(message.contains("EnableFederation=true"), "{message}");
        assert!(
            message.contains("aws iam enable-outbound-web-identity-federation"),
            "{message}"
        );
    }
}
