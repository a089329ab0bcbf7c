//! CloudFormation custom resource that returns the account's IAM outbound identity federation
//! issuer, so a stack can pin it in the authorizer's `TRUSTED_ISSUERS`.
//!
//! CloudFormation has no resource type for the account-wide federation setting. This resource
//! reads it with `GetOutboundWebIdentityFederationInfo`; when federation is off it either turns it
//! on (only if the template sets `EnableFederation` to `"true"`) or fails with instructions. It
//! never turns federation off, on delete or otherwise.
//!
//! Layout: [`request`] reads the event, [`federation`] talks to IAM, [`response`] builds and
//! delivers the answer, [`handler`] ties them together.

pub mod federation;
pub mod handler;
pub mod request;
pub mod response;

pub use federation::{FederationError, lookup_issuer, sdk_retries, sdk_timeouts};
pub use handler::{Dependencies, HandlerError, handle, respond};
pub use request::{IssuerProperties, ReplyTo, RequestError, RequestKind};
pub use response::{CustomResourceResponse, ResponseError, Status, response_client};
