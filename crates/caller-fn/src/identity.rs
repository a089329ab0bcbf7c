//! What identity a token presents, read from the token itself for display.
//!
//! The caller cannot verify its own token (that is the receiver's job), but STS just handed it over
//! a SigV4-authenticated TLS connection, so its claims are what the protected API will see. Reading
//! them costs nothing, needs no IAM permission, and shows the role ARN the API authorizes on.
//! `sts:GetCallerIdentity` would cost a call and report the assumed-role session ARN instead, which
//! is not the token's subject.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;

/// The key under which STS places its own claims.
const AWS_CLAIMS_KEY: &str = "https://sts.amazonaws.com/";

/// The identity a token presents, for the function's output; never a verification result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalledAs {
    /// `sub`: the IAM role ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `aws_account` from the STS claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `aud`, as a string or an array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Value>,
    /// `iss`: the account's issuer URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The header's `kid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The header's `alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `exp`, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// `jti`, the id CloudTrail and the receiver's logs can be matched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

impl CalledAs {
    /// Reads header and payload of a compact JWS without checking its signature.
    ///
    /// Returns `None` when the token is not a three-part JWS with JSON header and payload.
    pub fn from_token(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header = decode_json(header)?;
        let claims = decode_json(payload)?;
        let text = |value: &Value, key: &str| value.get(key)?.as_str().map(str::to_owned);
        let aws = claims.get(AWS_CLAIMS_KEY).cloned().unwrap_or(Value::Null);
        Some(Self {
            role_arn: text(&claims, "sub"),
            account: text(&aws, "aws_account"),
            audience: claims.get("aud").cloned(),
            issuer: text(&claims, "iss"),
            key_id: text(&header, "kid"),
            algorithm: text(&header, "alg"),
            expires_at: claims.get("exp").and_then(Value::as_u64),
            token_id: text(&claims, "jti"),
        })
    }
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn claims_of_an_sts_shaped_token_are_read() {
        let header = json!({"kid": "RSA_1", "typ": "JWT", "alg": "RS256"});
        let claims = json!({
            "aud": "https://orders.example.com",
            "sub": "arn:aws:iam::111122223333:role/caller",
            AWS_CLAIMS_KEY: {"aws_account": "111122223333", "ou_path": ["o-1/r-1/"]},
            "iss": "https://abc.tokens.sts.global.api.aws",
            "exp": 1_700_000_300u64,
            "iat": 1_700_000_000u64,
            "jti": "7d0b1c2e",
        });
        let token = format!("{}.{}.c2ln", encode(&header), encode(&claims));

        assert_eq!(
            serde_json::to_value(CalledAs::from_token(&token).unwrap()).unwrap(),
            json!({
                "roleArn": "arn:aws:iam::111122223333:role/caller",
                "account": "111122223333",
                "audience": "https://orders.example.com",
                "issuer": "https://abc.tokens.sts.global.api.aws",
                "keyId": "RSA_1",
                "algorithm": "RS256",
                "expiresAt": 1_700_000_300u64,
                "tokenId": "7d0b1c2e",
            })
        );
    }

    #[test]
    fn anything_but_a_json_jws_reads_as_none() {
        let object = encode(&json!({}));
        for token in [
            String::new(),
            "a.b".into(),
            format!("{object}.{object}.s.extra"),
            format!("{object}.!!!.s"),
            format!("{object}.{}.s", encode(&json!([1]))),
            format!("{object}.{}.s", URL_SAFE_NO_PAD.encode("not json")),
        ] {
            assert_eq!(CalledAs::from_token(&token), None, "{token}");
        }
        let empty = CalledAs::from_token(&format!("{object}.{object}.s")).unwrap();
        assert_eq!(serde_json::to_value(empty).unwrap(), json!({}));
    }
}
