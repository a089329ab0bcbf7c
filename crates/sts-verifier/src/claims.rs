//! The claims AWS adds to a token under the `https://sts.amazonaws.com/` key, parsed leniently.
//!
//! Real tokens differ from AWS's published sample (`ou_path` arrives as an array, `ec2_role_delivery`
//! as a string), and AWS adds members over time, so a member of an unexpected type is dropped rather
//! than failing the token, and unknown members are kept in [`AwsClaims::other`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::identity::CallerAssertedTags;

/// The key under which STS places its own claims; the trailing slash is part of it.
pub const AWS_CLAIMS_KEY: &str = "https://sts.amazonaws.com/";

/// The AWS-added claims of a verified token.
///
/// Every member is optional: which ones appear depends on where the caller runs (Lambda, EC2…) and
/// on the account's organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AwsClaims {
    /// `aws_account`: the account of the calling role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<String>,
    /// `source_region`: the region the token was requested in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_region: Option<String>,
    /// `org_id`: the AWS Organizations id of the calling account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// `ou_path`: organizational unit paths, e.g. `o-abc/r-ab12/ou-ab12-11111111/` (a string or an
    /// array in the token; always a list here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ou_paths: Vec<String>,
    /// `principal_tags`: tags attached to the role or session, set by the account, not the caller.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub principal_tags: BTreeMap<String, String>,
    /// `principal_id`: the role ARN again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `lambda_source_function_arn`: the Lambda function that asked for the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_source_function_arn: Option<String>,
    /// `ec2_source_instance_arn`: the EC2 instance that asked for the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_source_instance_arn: Option<String>,
    /// `ec2_instance_source_vpc`: the VPC of that instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_instance_source_vpc: Option<String>,
    /// `ec2_instance_source_private_ipv4`: the private address of that instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_instance_source_private_ipv4: Option<String>,
    /// `ec2_role_delivery`: the instance metadata version that delivered the role (`"2.0"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_role_delivery: Option<String>,
    /// `source_identity`: the source identity set when the role was assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// `original_session_exp`: when the role session ends, as ISO-8601 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_session_exp: Option<String>,
    /// `federated_provider`: the identity provider of a federated session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_provider: Option<String>,
    /// `identity_store_user_id`: the IAM Identity Center user behind the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_store_user_id: Option<String>,
    /// `identity_store_arn`: the IAM Identity Center store of that user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_store_arn: Option<String>,
    /// Members this crate does not know, kept as they came.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, Value>,
}

impl AwsClaims {
    /// Splits the namespace object into the AWS claims and the caller-asserted `request_tags`.
    ///
    /// Never fails: a member whose type is unexpected is left out (and so fails any later check
    /// that needs it, such as the `aws_account` match).
    pub(crate) fn parse(namespace: &Map<String, Value>) -> (Self, CallerAssertedTags) {
        let mut claims = Self::default();
        let mut request_tags = CallerAssertedTags::default();
        for (key, value) in namespace {
            let text = || scalar_text(value);
            match key.as_str() {
                "aws_account" => claims.aws_account = text(),
                "source_region" => claims.source_region = text(),
                "org_id" => claims.org_id = text(),
                "ou_path" => claims.ou_paths = text_list(value),
                "principal_tags" => claims.principal_tags = text_map(value),
                "principal_id" => claims.principal_id = text(),
                "lambda_source_function_arn" => claims.lambda_source_function_arn = text(),
                "ec2_source_instance_arn" => claims.ec2_source_instance_arn = text(),
                "ec2_instance_source_vpc" => claims.ec2_instance_source_vpc = text(),
                "ec2_instance_source_private_ipv4" => {
                    claims.ec2_instance_source_private_ipv4 = text();
                }
                "ec2_role_delivery" => claims.ec2_role_delivery = text(),
                "source_identity" => claims.source_identity = text(),
                "original_session_exp" => claims.original_session_exp = text(),
                "federated_provider" => claims.federated_provider = text(),
                "identity_store_user_id" => claims.identity_store_user_id = text(),
                "identity_store_arn" => claims.identity_store_arn = text(),
                "request_tags" => request_tags = CallerAssertedTags(text_map(value)),
                _ => {
                    claims.other.insert(key.clone(), value.clone());
                }
            }
        }
        (claims, request_tags)
    }
}

/// A string, or a number or boolean rendered as text (`ec2_role_delivery` arrives either way).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// One string or an array of them; non-text items are dropped.
fn text_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    }
}

/// An object of scalar values; other values are dropped.
fn text_map(value: &Value) -> BTreeMap<String, String> {
    let Value::Object(members) = value else {
        return BTreeMap::new();
    };
    members
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), scalar_text(value)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> (AwsClaims, CallerAssertedTags) {
        let Value::Object(members) = value else {
            panic!("test input must be an object")
        };
        AwsClaims::parse(&members)
    }

    #[test]
    fn ou_path_as_array_or_string_becomes_a_list() {
        let (claims, _) = parse(json!({"ou_path": ["o-a/r-b/ou-c/"]}));
        assert_eq!(claims.ou_paths, ["o-a/r-b/ou-c/"]);
        let (claims, _) = parse(json!({"ou_path": "o-a/r-b/ou-c/"}));
        assert_eq!(claims.ou_paths, ["o-a/r-b/ou-c/"]);
    }

    #[test]
    fn ec2_role_delivery_as_string_or_number_becomes_text() {
        let (claims, _) = parse(json!({"ec2_role_delivery": "2.0"}));
        assert_eq!(claims.ec2_role_delivery.as_deref(), Some("2.0"));
        let (claims, _) = parse(json!({"ec2_role_delivery": 2}));
        assert_eq!(claims.ec2_role_delivery.as_deref(), Some("2"));
    }

    #[test]
    fn request_tags_are_kept_apart_from_principal_tags() {
        let (claims, request_tags) = parse(json!({
            "principal_tags": {"team": "payments"},
            "request_tags": {"purpose": "batch"}
        }));
        assert_eq!(
            claims.principal_tags.get("team").map(String::as_str),
            Some("payments")
        );
        assert_eq!(request_tags.get("purpose"), Some("batch"));
        assert!(!claims.other.contains_key("request_tags"));
    }

    #[test]
    fn unknown_members_are_kept_and_mistyped_members_dropped() {
        let (claims, _) = parse(json!({
            "subject_mode": "role",
            "org_id": {"nested": true},
            "principal_tags": {"ok": "yes", "bad": [1]}
        }));
        assert_eq!(claims.other.get("subject_mode"), Some(&json!("role")));
        assert_eq!(claims.org_id, None);
        assert_eq!(claims.principal_tags.len(), 1);
    }
}
