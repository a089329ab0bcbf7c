//! The verified caller: who a token names, once every check has passed.
//!
//! Values of [`VerifiedCaller`] are created only by [`crate::Verifier`]; code that receives one can
//! rely on the signature, issuer, audience, lifetime and subject checks having passed.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::claims::AwsClaims;

/// A twelve-digit AWS account id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// Parses an account id: exactly twelve ASCII digits.
    ///
    /// # Errors
    ///
    /// [`RoleArnError::Account`] when the text is not twelve ASCII digits.
    pub fn parse(text: &str) -> Result<Self, RoleArnError> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(RoleArnError::Account)
        }
    }

    /// The account id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why a text is not an IAM role ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleArnError {
    /// The text does not have the six colon-separated parts of an ARN starting with `arn:`.
    #[error("not an arn")]
    NotAnArn,
    /// The partition is not one of `aws`, `aws-cn`, `aws-us-gov`, `aws-iso*` or `aws-eusc`.
    #[error("unknown partition")]
    Partition,
    /// The service is not `iam`, or a region is present (IAM ARNs have none).
    #[error("not an iam arn")]
    NotIam,
    /// The account is not twelve digits.
    #[error("account is not twelve digits")]
    Account,
    /// The resource is not `role/<path><name>`: an assumed-role, user or other resource type.
    #[error("resource is not a role")]
    NotARole,
    /// The path or name breaks IAM's character set or length limits.
    #[error("role path or name is invalid")]
    InvalidName,
}

/// An IAM role ARN, `arn:<partition>:iam::<account>:role/<path><name>`, parsed strictly.
///
/// The path keeps its leading and trailing `/` (`/` when the role has no path), as IAM reports it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    arn: String,
    partition_len: usize,
    account: AccountId,
    path_start: usize,
    name_start: usize,
}

/// Partitions IAM role ARNs may name.
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// IAM limits a role name to 64 characters of `[\w+=,.@-]`.
const MAX_ROLE_NAME: usize = 64;
/// IAM limits a path to 512 characters.
const MAX_ROLE_PATH: usize = 512;

impl RoleArn {
    /// Parses an IAM role ARN.
    ///
    /// Only `role/` resources are accepted: STS puts the role ARN in `sub`, never the assumed-role
    /// session ARN, so anything else is a forged or foreign token.
    ///
    /// # Errors
    ///
    /// A [`RoleArnError`] naming the first part that does not fit.
    pub fn parse(text: &str) -> Result<Self, RoleArnError> {
        let mut parts = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(RoleArnError::NotAnArn);
        };
        if !PARTITIONS.contains(&partition) {
            return Err(RoleArnError::Partition);
        }
        if service != "iam" || !region.is_empty() {
            return Err(RoleArnError::NotIam);
        }
        let account = AccountId::parse(account)?;
        let Some(path_and_name) = res.strip_prefix("role/") else {
            return Err(RoleArnError::NotARole);
        };
        let (path, name) = match path_and_name.rfind('/') {
            Some(slash) => path_and_name.split_at(slash + 1),
            None => ("", path_and_name),
        };
        if !valid_role_name(name) || !valid_role_path(path) {
            return Err(RoleArnError::InvalidName);
        }

        let path_start = text.len() - path_and_name.len() - 1;
        Ok(Self {
            arn: text.to_owned(),
            partition_len: partition.len(),
            account,
            path_start,
            name_start: text.len() - name.len(),
        })
    }

    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The partition: `aws`, `aws-cn`, `aws-us-gov`…
    pub fn partition(&self) -> &str {
        &self.arn[4..4 + self.partition_len]
    }

    /// The account that owns the role.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The role's path, `/` when it has none, otherwise `/a/b/`.
    pub fn path(&self) -> &str {
        // The slice starts at the `/` after `role`, which IAM counts as the path's first character.
        &self.arn[self.path_start..self.name_start]
    }

    /// The role's name, without its path.
    pub fn name(&self) -> &str {
        &self.arn[self.name_start..]
    }
}

fn valid_role_name(name: &str) -> bool {
    (1..=MAX_ROLE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// Checks the part between `role/` and the name: empty, or `seg/…/` (IAM's path minus its leading
/// `/`), printable ASCII as IAM allows.
fn valid_role_path(path: &str) -> bool {
    path.is_empty()
        || (path.len() < MAX_ROLE_PATH
            && !path.starts_with('/')
            && path.ends_with('/')
            && !path.contains("//")
            && path.bytes().all(|b| (b'!'..=b'~').contains(&b)))
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl fmt::Debug for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.arn, f)
    }
}

impl Serialize for RoleArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.arn)
    }
}

/// A signing algorithm STS uses for these tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over an RSA key (STS's RSA-2048 key has no `alg` member).
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA over P-384 with SHA-384.
    #[serde(rename = "ES384")]
    Es384,
}

impl SigningAlgorithm {
    /// The JOSE name: `RS256` or `ES384`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es384 => "ES384",
        }
    }

    /// Parses a JOSE algorithm name, case-sensitively as RFC 7515 requires.
    pub fn from_jose(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES384" => Some(Self::Es384),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tags the caller chose when it asked STS for the token (`request_tags`).
///
/// They prove nothing by themselves: any caller allowed to mint may set any value unless an IAM
/// policy constrains `aws:RequestTag/<key>`. Rules must opt in before relying on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CallerAssertedTags(pub(crate) BTreeMap<String, String>);

impl CallerAssertedTags {
    /// The tag value for `key`, if the caller set it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All tags, sorted by key.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Whether the caller set no tag.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A caller whose token passed every check.
///
/// Only [`crate::Verifier::verify`] creates this type, so holding one is proof of verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedCaller {
    pub(crate) role: RoleArn,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) token_id: Option<String>,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) key_id: String,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) aws: AwsClaims,
    pub(crate) request_tags: CallerAssertedTags,
}

impl VerifiedCaller {
    /// The IAM role the token names (its `sub`).
    pub fn role(&self) -> &RoleArn {
        &self.role
    }

    /// The account that owns the role; equal to the token's `aws_account` claim.
    pub fn account(&self) -> &AccountId {
        self.role.account()
    }

    /// The trusted issuer that signed the token (its `iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The first of the token's audiences that the configuration allows.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The token's `jti`, when present.
    pub fn token_id(&self) -> Option<&str> {
        self.token_id.as_deref()
    }

    /// When the token was issued (`iat`), in seconds since the Unix epoch.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// When the token expires (`exp`), in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The id of the key that signed the token (its header `kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The algorithm that signed the token.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The claims AWS added under `https://sts.amazonaws.com/`.
    pub fn aws(&self) -> &AwsClaims {
        &self.aws
    }

    /// Tags the caller asserted when minting; see [`CallerAssertedTags`] before trusting them.
    pub fn request_tags(&self) -> &CallerAssertedTags {
        &self.request_tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_with_path_splits_into_parts() {
        let arn = RoleArn::parse("arn:aws:iam::111122223333:role/service/team/caller-fn").unwrap();
        assert_eq!(arn.partition(), "aws");
        assert_eq!(arn.account().as_str(), "111122223333");
        assert_eq!(arn.path(), "/service/team/");
        assert_eq!(arn.name(), "caller-fn");
    }

    #[test]
    fn role_arn_without_path_has_root_path() {
        let arn = RoleArn::parse("arn:aws-cn:iam::111122223333:role/caller").unwrap();
        assert_eq!(arn.partition(), "aws-cn");
        assert_eq!(arn.path(), "/");
        assert_eq!(arn.name(), "caller");
    }

    #[test]
    fn assumed_role_session_arn_is_not_a_role() {
        let err = RoleArn::parse("arn:aws:sts::111122223333:assumed-role/caller/session");
        assert_eq!(err, Err(RoleArnError::NotIam));
        let err = RoleArn::parse("arn:aws:iam::111122223333:user/alice");
        assert_eq!(err, Err(RoleArnError::NotARole));
    }

    #[test]
    fn malformed_role_arns_are_rejected_with_their_reason() {
        let cases = [
            ("", RoleArnError::NotAnArn),
            ("arn:aws:iam::111122223333", RoleArnError::NotAnArn),
            ("urn:aws:iam::111122223333:role/x", RoleArnError::NotAnArn),
            ("arn:evil:iam::111122223333:role/x", RoleArnError::Partition),
            (
                "arn:aws:iam:us-east-1:111122223333:role/x",
                RoleArnError::NotIam,
            ),
            ("arn:aws:iam::11112222333:role/x", RoleArnError::Account),
            ("arn:aws:iam::11112222333a:role/x", RoleArnError::Account),
            ("arn:aws:iam::111122223333:role/", RoleArnError::InvalidName),
            (
                "arn:aws:iam::111122223333:role/a b",
                RoleArnError::InvalidName,
            ),
            (
                "arn:aws:iam::111122223333:role//x",
                RoleArnError::InvalidName,
            ),
            (
                "arn:aws:iam::111122223333:role/é",
                RoleArnError::InvalidName,
            ),
        ];
        for (text, reason) in cases {
            assert_eq!(RoleArn::parse(text), Err(reason), "{text}");
        }
        let long = format!("arn:aws:iam::111122223333:role/{}", "n".repeat(65));
        assert_eq!(RoleArn::parse(&long), Err(RoleArnError::InvalidName));
    }
}
