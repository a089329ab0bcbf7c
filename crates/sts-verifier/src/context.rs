//! The flat authorizer context that carries a verified caller from the authorizer to the backend.
//!
//! API Gateway accepts only strings, numbers and booleans as context values (an object or array
//! makes the backend call fail with a 500), and REST APIs hand every value to the backend as a
//! string. So every value here is a string, the tag maps travel as JSON text, and absent values
//! are left out rather than sent as `null`.
//!
//! Both directions go through [`Caller`] and the key names in [`keys`]: the authorizer writes a
//! [`CallerContext`] with [`CallerContext::from_verified`], the backend reads it back with
//! [`CallerContext::from_authorizer_context`], and the two cannot drift apart.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::identity::{AccountId, RoleArn, RoleArnError, VerifiedCaller};

/// The context keys, shared by the writer and the reader.
pub mod keys {
    /// Top-level `principalId` of the authorizer response; REST APIs copy it into the context.
    pub const PRINCIPAL_ID: &str = "principalId";
    /// The caller's IAM role ARN.
    pub const ROLE_ARN: &str = "roleArn";
    /// The account that owns the role.
    pub const ACCOUNT: &str = "account";
    /// The role ARN's partition.
    pub const PARTITION: &str = "partition";
    /// The role's name, without its path.
    pub const ROLE_NAME: &str = "roleName";
    /// The trusted issuer that signed the token.
    pub const ISSUER: &str = "issuer";
    /// The allowed audience the token was minted for.
    pub const AUDIENCE: &str = "audience";
    /// The token's `jti`.
    pub const TOKEN_ID: &str = "jti";
    /// The AWS Organizations id of the caller's account.
    pub const ORG_ID: &str = "orgId";
    /// The region the token was requested in.
    pub const SOURCE_REGION: &str = "sourceRegion";
    /// The Lambda function that asked for the token.
    pub const SOURCE_FUNCTION_ARN: &str = "sourceFunctionArn";
    /// The EC2 instance that asked for the token.
    pub const SOURCE_INSTANCE_ARN: &str = "sourceInstanceArn";
    /// The VPC of that EC2 instance.
    pub const SOURCE_VPC: &str = "sourceVpc";
    /// The role's principal tags, as a JSON object in a string.
    pub const PRINCIPAL_TAGS: &str = "principalTags";
    /// The caller-asserted request tags, as a JSON object in a string.
    pub const REQUEST_TAGS: &str = "requestTags";
    /// The access rule(s) that granted the caller access, comma-separated.
    pub const RULE: &str = "rule";
    /// The id of the key that signed the token.
    pub const KEY_ID: &str = "keyId";
}

/// Why an authorizer context does not describe a caller.
///
/// The context is set by API Gateway from the authorizer's answer, never by the client, so any of
/// these means a misconfigured integration (no authorizer, another authorizer) or a mismatch
/// between authorizer and backend versions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A key the authorizer always writes is absent.
    #[error("context has no {0}")]
    Missing(&'static str),
    /// A value is not a JSON string.
    #[error("context value {0} is not a string")]
    NotAString(&'static str),
    /// `roleArn` is not an IAM role ARN.
    #[error("context roleArn is not a role arn: {0}")]
    RoleArn(#[source] RoleArnError),
    /// A value derived from the role ARN (or `principalId`) disagrees with `roleArn`.
    #[error("context {0} does not match roleArn")]
    Mismatch(&'static str),
    /// A tag map is not a JSON object of strings.
    #[error("context {key} is not a json object of strings")]
    Tags {
        /// The key holding the tags.
        key: &'static str,
        /// Why the JSON text did not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// The caller a backend reads from the authorizer context: who called, through which rule.
///
/// Built by the authorizer from a [`VerifiedCaller`], or by the backend from the context with
/// [`CallerContext::from_authorizer_context`]; both paths give equal values for the same caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    role: RoleArn,
    issuer: String,
    audience: String,
    token_id: Option<String>,
    key_id: String,
    org_id: Option<String>,
    source_region: Option<String>,
    source_function_arn: Option<String>,
    source_instance_arn: Option<String>,
    source_vpc: Option<String>,
    principal_tags: BTreeMap<String, String>,
    request_tags: BTreeMap<String, String>,
    rule: String,
}

impl Caller {
    /// The caller described by a verified token, allowed through `rule`.
    ///
    /// `rule` names the access rule(s) that granted access; several names are comma-separated.
    pub fn from_verified(caller: &VerifiedCaller, rule: &str) -> Self {
        let aws = caller.aws();
        Self {
            role: caller.role().clone(),
            issuer: caller.issuer().to_owned(),
            audience: caller.audience().to_owned(),
            token_id: caller.token_id().map(str::to_owned),
            key_id: caller.key_id().to_owned(),
            org_id: aws.org_id.clone(),
            source_region: aws.source_region.clone(),
            source_function_arn: aws.lambda_source_function_arn.clone(),
            source_instance_arn: aws.ec2_source_instance_arn.clone(),
            source_vpc: aws.ec2_instance_source_vpc.clone(),
            principal_tags: aws.principal_tags.clone(),
            request_tags: caller.request_tags().as_map().clone(),
            rule: rule.to_owned(),
        }
    }

    /// Every text-valued field under its context key, absent optional ones left out: the one
    /// list both the flat context and the JSON rendering are written from.
    fn text_fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let required = [
            (keys::ROLE_ARN, self.role.as_str()),
            (keys::ACCOUNT, self.role.account().as_str()),
            (keys::PARTITION, self.role.partition()),
            (keys::ROLE_NAME, self.role.name()),
            (keys::ISSUER, self.issuer.as_str()),
            (keys::AUDIENCE, self.audience.as_str()),
            (keys::KEY_ID, self.key_id.as_str()),
            (keys::RULE, self.rule.as_str()),
        ];
        let optional = [
            (keys::TOKEN_ID, &self.token_id),
            (keys::ORG_ID, &self.org_id),
            (keys::SOURCE_REGION, &self.source_region),
            (keys::SOURCE_FUNCTION_ARN, &self.source_function_arn),
            (keys::SOURCE_INSTANCE_ARN, &self.source_instance_arn),
            (keys::SOURCE_VPC, &self.source_vpc),
        ];
        let present = optional
            .into_iter()
            .filter_map(|(key, value)| Some((key, value.as_deref()?)));
        required.into_iter().chain(present)
    }

    /// Writes the caller as a flat context.
    pub fn to_context(&self) -> CallerContext {
        let mut entries = Map::new();
        let mut put = |key: &str, value: &str| {
            entries.insert(key.to_owned(), Value::String(value.to_owned()));
        };
        for (key, value) in self.text_fields() {
            put(key, value);
        }
        for (key, tags) in [
            (keys::PRINCIPAL_TAGS, &self.principal_tags),
            (keys::REQUEST_TAGS, &self.request_tags),
        ] {
            if !tags.is_empty() {
                put(key, &tags_to_json(tags));
            }
        }
        CallerContext {
            principal_id: self.role.as_str().to_owned(),
            entries,
        }
    }

    /// The caller's IAM role ARN.
    pub fn role_arn(&self) -> &RoleArn {
        &self.role
    }

    /// The account that owns the role.
    pub fn account(&self) -> &AccountId {
        self.role.account()
    }

    /// The role ARN's partition.
    pub fn partition(&self) -> &str {
        self.role.partition()
    }

    /// The role's name, without its path.
    pub fn role_name(&self) -> &str {
        self.role.name()
    }

    /// The trusted issuer that signed the token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The allowed audience the token was minted for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The token's `jti`, when it had one.
    pub fn token_id(&self) -> Option<&str> {
        self.token_id.as_deref()
    }

    /// The id of the key that signed the token.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The AWS Organizations id of the caller's account, when the token carried one.
    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }

    /// The region the token was requested in.
    pub fn source_region(&self) -> Option<&str> {
        self.source_region.as_deref()
    }

    /// The Lambda function that asked for the token.
    pub fn source_function_arn(&self) -> Option<&str> {
        self.source_function_arn.as_deref()
    }

    /// The EC2 instance that asked for the token.
    pub fn source_instance_arn(&self) -> Option<&str> {
        self.source_instance_arn.as_deref()
    }

    /// The VPC of that EC2 instance.
    pub fn source_vpc(&self) -> Option<&str> {
        self.source_vpc.as_deref()
    }

    /// The role's principal tags, set by the caller's account.
    pub fn principal_tags(&self) -> &BTreeMap<String, String> {
        &self.principal_tags
    }

    /// Tags the caller chose when minting; they prove nothing unless an IAM policy constrains
    /// `aws:RequestTag/<key>` in the caller's account.
    pub fn request_tags(&self) -> &BTreeMap<String, String> {
        &self.request_tags
    }

    /// The access rule(s) that granted access, comma-separated.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The access rule names one by one.
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.rule.split(',').filter(|name| !name.is_empty())
    }
}

/// The identity as JSON for APIs that echo it: the context keys, with the tags as objects.
impl Serialize for Caller {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.text_fields() {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry(keys::PRINCIPAL_TAGS, &self.principal_tags)?;
        map.serialize_entry(keys::REQUEST_TAGS, &self.request_tags)?;
        map.end()
    }
}

/// The flat context an authorizer returns, plus the `principalId` that goes beside it.
#[derive(Clone, PartialEq)]
pub struct CallerContext {
    principal_id: String,
    entries: Map<String, Value>,
}

impl CallerContext {
    /// The context for a verified caller allowed through `rule` (comma-separated names).
    pub fn from_verified(caller: &VerifiedCaller, rule: &str) -> Self {
        Caller::from_verified(caller, rule).to_context()
    }

    /// Reads the caller back from the context API Gateway hands the backend.
    ///
    /// Takes the entries of `requestContext.authorizer` (REST) or
    /// `requestContext.authorizer.lambda` (HTTP API). Keys it does not know, such as the
    /// `integrationLatency` REST APIs add, are ignored. `principalId`, when present, must equal
    /// `roleArn`, and `account`, `partition` and `roleName` must be those of `roleArn`.
    ///
    /// # Errors
    ///
    /// A [`ContextError`] naming the first key that is missing or does not fit.
    pub fn from_authorizer_context<'a, I>(entries: I) -> Result<Caller, ContextError>
    where
        I: IntoIterator<Item = (&'a String, &'a Value)>,
    {
        let entries: BTreeMap<&str, &Value> = entries
            .into_iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        let reader = Reader(&entries);

        let role =
            RoleArn::parse(reader.required(keys::ROLE_ARN)?).map_err(ContextError::RoleArn)?;
        reader.expect_equal(keys::ACCOUNT, role.account().as_str())?;
        reader.expect_equal(keys::PARTITION, role.partition())?;
        reader.expect_equal(keys::ROLE_NAME, role.name())?;
        if reader
            .optional(keys::PRINCIPAL_ID)?
            .is_some_and(|principal| principal != role.as_str())
        {
            return Err(ContextError::Mismatch(keys::PRINCIPAL_ID));
        }

        Ok(Caller {
            issuer: reader.required(keys::ISSUER)?.to_owned(),
            audience: reader.required(keys::AUDIENCE)?.to_owned(),
            token_id: reader.optional_owned(keys::TOKEN_ID)?,
            key_id: reader.required(keys::KEY_ID)?.to_owned(),
            org_id: reader.optional_owned(keys::ORG_ID)?,
            source_region: reader.optional_owned(keys::SOURCE_REGION)?,
            source_function_arn: reader.optional_owned(keys::SOURCE_FUNCTION_ARN)?,
            source_instance_arn: reader.optional_owned(keys::SOURCE_INSTANCE_ARN)?,
            source_vpc: reader.optional_owned(keys::SOURCE_VPC)?,
            principal_tags: reader.tags(keys::PRINCIPAL_TAGS)?,
            request_tags: reader.tags(keys::REQUEST_TAGS)?,
            rule: reader.required(keys::RULE)?.to_owned(),
            role,
        })
    }

    /// The `principalId` for the authorizer response: the caller's role ARN.
    pub fn principal_id(&self) -> &str {
        &self.principal_id
    }

    /// The context entries; every value is a JSON string.
    pub fn entries(&self) -> &Map<String, Value> {
        &self.entries
    }

    /// The context entries, taken out.
    pub fn into_entries(self) -> Map<String, Value> {
        self.entries
    }

    /// The context entries as a JSON object, ready for the authorizer response.
    pub fn into_value(self) -> Value {
        Value::Object(self.entries)
    }
}

/// Shows the keys only: the values identify a caller and belong in structured log fields.
impl fmt::Debug for CallerContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerContext")
            .field("principal_id", &self.principal_id)
            .field("keys", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

struct Reader<'m, 'a>(&'m BTreeMap<&'a str, &'a Value>);

impl<'a> Reader<'_, 'a> {
    fn optional(&self, key: &'static str) -> Result<Option<&'a str>, ContextError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(ContextError::NotAString(key)),
        }
    }

    fn optional_owned(&self, key: &'static str) -> Result<Option<String>, ContextError> {
        Ok(self.optional(key)?.map(str::to_owned))
    }

    fn required(&self, key: &'static str) -> Result<&'a str, ContextError> {
        self.optional(key)?.ok_or(ContextError::Missing(key))
    }

    fn expect_equal(&self, key: &'static str, expected: &str) -> Result<(), ContextError> {
        if self.required(key)? == expected {
            Ok(())
        } else {
            Err(ContextError::Mismatch(key))
        }
    }

    fn tags(&self, key: &'static str) -> Result<BTreeMap<String, String>, ContextError> {
        match self.optional(key)? {
            None => Ok(BTreeMap::new()),
            Some(text) => {
                serde_json::from_str(text).map_err(|source| ContextError::Tags { key, source })
            }
        }
    }
}

fn tags_to_json(tags: &BTreeMap<String, String>) -> String {
    // A map of strings always serializes; the fallback only keeps this function total.
    serde_json::to_string(tags).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(entries) => entries,
            _ => Map::new(),
        }
    }

    fn full_context() -> Map<String, Value> {
        context(json!({
            "roleArn": "arn:aws:iam::111122223333:role/service/caller-fn",
            "account": "111122223333",
            "partition": "aws",
            "roleName": "caller-fn",
            "issuer": "https://abc.tokens.sts.global.api.aws",
            "audience": "https://api.example.com",
            "jti": "d7f1c0e2",
            "orgId": "o-a1b2c3d4e5",
            "sourceRegion": "eu-west-1",
            "sourceFunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn",
            "principalTags": "{\"team\":\"payments\",\"tier\":\"gold\"}",
            "requestTags": "{\"purpose\":\"batch\"}",
            "rule": "readers,writers",
            "keyId": "RSA_1"
        }))
    }

    #[test]
    fn context_read_back_writes_the_same_context() {
        let entries = full_context();
        let caller = CallerContext::from_authorizer_context(&entries).unwrap();
        let written = caller.to_context();
        assert_eq!(written.entries(), &entries);
        assert_eq!(
            written.principal_id(),
            "arn:aws:iam::111122223333:role/service/caller-fn"
        );
        assert_eq!(
            caller.principal_tags().get("tier").map(String::as_str),
            Some("gold")
        );
        assert_eq!(caller.rules().collect::<Vec<_>>(), ["readers", "writers"]);
    }

    #[test]
    fn every_written_value_is_a_string() {
        let caller = CallerContext::from_authorizer_context(&full_context()).unwrap();
        let value = caller.to_context().into_value();
        let Value::Object(entries) = value else {
            panic!("context must be an object")
        };
        assert!(entries.values().all(Value::is_string));
    }

    #[test]
    fn rest_extras_are_ignored_and_matching_principal_is_accepted() {
        let mut entries = full_context();
        entries.insert("integrationLatency".into(), json!(12));
        entries.insert(
            "principalId".into(),
            json!("arn:aws:iam::111122223333:role/service/caller-fn"),
        );
        let caller = CallerContext::from_authorizer_context(&entries).unwrap();
        assert_eq!(caller.role_name(), "caller-fn");
    }

    #[test]
    fn principal_id_that_differs_from_role_is_a_mismatch() {
        let mut entries = full_context();
        entries.insert(
            "principalId".into(),
            json!("arn:aws:iam::111122223333:role/other"),
        );
        let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
        assert!(
            matches!(err, ContextError::Mismatch("principalId")),
            "{err:?}"
        );
    }

    #[test]
    fn derived_values_must_agree_with_the_role_arn() {
        for (key, value) in [
            ("account", "999988887777"),
            ("partition", "aws-cn"),
            ("roleName", "x"),
        ] {
            let mut entries = full_context();
            entries.insert(key.into(), json!(value));
            let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("context {key} does not match roleArn")
            );
        }
    }

    #[test]
    fn missing_required_keys_are_named() {
        for key in ["roleArn", "account", "issuer", "audience", "rule", "keyId"] {
            let mut entries = full_context();
            entries.remove(key);
            let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
            assert_eq!(err.to_string(), format!("context has no {key}"));
        }
    }

    #[test]
    fn non_string_values_are_rejected() {
        for (key, value) in [
            ("issuer", json!(1)),
            ("jti", json!(null)),
            ("orgId", json!(["o-1"])),
        ] {
            let mut entries = full_context();
            entries.insert(key.into(), value);
            let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("context value {key} is not a string")
            );
        }
    }

    #[test]
    fn tags_that_are_not_an_object_of_strings_are_rejected() {
        for text in ["[]", "{\"a\":1}", "{\"a\":{}}", "not json", ""] {
            let mut entries = full_context();
            entries.insert("principalTags".into(), json!(text));
            let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
            assert!(
                matches!(
                    err,
                    ContextError::Tags {
                        key: "principalTags",
                        ..
                    }
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn role_arn_that_is_not_a_role_is_rejected() {
        let mut entries = full_context();
        entries.insert(
            "roleArn".into(),
            json!("arn:aws:sts::111122223333:assumed-role/x/y"),
        );
        let err = CallerContext::from_authorizer_context(&entries).unwrap_err();
        assert!(
            matches!(err, ContextError::RoleArn(RoleArnError::NotIam)),
            "{err:?}"
        );
    }

    #[test]
    fn absent_optional_values_are_omitted_not_null() {
        let mut entries = full_context();
        for key in [
            "jti",
            "orgId",
            "sourceRegion",
            "sourceFunctionArn",
            "principalTags",
        ] {
            entries.remove(key);
        }
        entries.remove("requestTags");
        let caller = CallerContext::from_authorizer_context(&entries).unwrap();
        let written = caller.to_context();
        assert_eq!(written.entries(), &entries);
        assert!(!written.entries().values().any(Value::is_null));
    }

    #[test]
    fn unicode_values_survive_the_round_trip() {
        let mut entries = full_context();
        entries.insert(
            "principalTags".into(),
            json!("{\"équipe\":\"paiements ✓\",\"z\":\"\\u0000\"}"),
        );
        let caller = CallerContext::from_authorizer_context(&entries).unwrap();
        assert_eq!(
            caller.principal_tags().get("équipe").map(String::as_str),
            Some("paiements ✓")
        );
        let again = CallerContext::from_authorizer_context(caller.to_context().entries()).unwrap();
        assert_eq!(again, caller);
    }

    #[test]
    fn whoami_json_shows_tags_as_objects() {
        let caller = CallerContext::from_authorizer_context(&full_context()).unwrap();
        let shown = serde_json::to_value(&caller).unwrap();
        assert_eq!(
            shown["principalTags"],
            json!({"team": "payments", "tier": "gold"})
        );
        assert_eq!(
            shown["roleArn"],
            json!("arn:aws:iam::111122223333:role/service/caller-fn")
        );
        assert_eq!(shown.get("sourceVpc"), None);
    }
}
