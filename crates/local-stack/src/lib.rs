//! An offline stand-in for the AWS services this project meets: an outbound-federation issuer, the
//! STS `GetWebIdentityToken` endpoint, API Gateway and the Lambda runtime, plus the demo world and
//! the stack that wires them to the project's real Lambda binaries.

pub mod binaries;
pub mod gateway;
pub mod issuer;
pub mod runtime;
pub mod stack;
pub mod sts;
pub mod walkthrough;
pub mod world;
