//! An offline stand-in for the AWS services this project meets: an outbound-federation issuer, the
//! STS `GetWebIdentityToken` endpoint, API Gateway, and the Lambda runtime.

pub mod issuer;
pub mod sts;
