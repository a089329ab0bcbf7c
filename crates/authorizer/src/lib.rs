//! API Gateway Lambda authorizer for callers that present an AWS STS web identity token.
//!
//! One function answers REST API TOKEN and REQUEST authorizers and HTTP API authorizers with
//! payload format 1.0 or 2.0; the event itself tells which ([`event`]). The token is verified by
//! [`sts_verifier::Verifier`], the caller is matched against the [`rules`], and the answer is a
//! policy that holds for every route of the API ([`policy`]) so that API Gateway's cache stays
//! correct. See the crate README for the outcome table and the caching notes.

pub mod arn;
pub mod event;
pub mod glob;
pub mod handler;
pub mod policy;
pub mod route;
pub mod rules;
pub mod settings;
pub mod token;

pub use handler::{Rejection, handle};
pub use rules::{CallerFacts, Rules, RulesError};
pub use settings::{HttpApiResponse, Settings, SettingsError};
