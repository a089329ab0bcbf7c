//! Turns a JWKS into verification keys, parsed once so each verification only checks a signature.
//!
//! STS publishes an RSA-2048 key without `alg` and a P-384 key with `"alg":"ES384"`. Only those two
//! shapes become keys: an RSA key signs RS256 (an RSA key naming another `alg` is skipped), a P-384
//! key signs ES384. Everything else (`oct`, `OKP`, other curves, `use` other than `sig`, malformed
//! members) is skipped, so a key set with one odd entry keeps working. Key ids that more than one
//! usable key claims are dropped altogether: picking one would let the order of a document decide
//! which key verifies.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P384_SHA384_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::FetchError;
use crate::identity::SigningAlgorithm;

/// Most entries a key set may list; STS lists two, four during a rotation.
const MAX_KEYS: usize = 100;
/// Longest key id kept; STS's look like `RSA_1` and `EC384_1`.
pub(crate) const MAX_KID_BYTES: usize = 128;
/// RSA moduli accepted, in bits: RFC 7518 §3.3 asks for at least 2048, aws-lc verifies up to 8192.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;
/// Length of one P-384 coordinate in bytes.
const P384_COORDINATE_BYTES: usize = 48;

/// A public key ready to verify signatures of one algorithm.
pub(crate) struct VerificationKey {
    algorithm: SigningAlgorithm,
    key: ParsedPublicKey,
}

impl VerificationKey {
    /// The only algorithm this key verifies.
    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Whether `signature` is this key's signature over `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// The usable keys of one issuer, by key id.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, Arc<VerificationKey>>,
}

impl KeySet {
    /// The key named `kid`, if the set holds one.
    pub(crate) fn get(&self, kid: &str) -> Option<&Arc<VerificationKey>> {
        self.keys.get(kid)
    }

    /// How many usable keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Parses a key set body.
    ///
    /// # Errors
    ///
    /// [`FetchError::InvalidKeySet`] when the body is not a JWKS object,
    /// [`FetchError::NoUsableKeys`] when no entry yields a key of an allowed algorithm.
    pub(crate) fn parse(body: &[u8], allowed: &[SigningAlgorithm]) -> Result<Self, FetchError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| FetchError::InvalidKeySet("body is not json"))?;
        Self::from_value(&value, allowed)
    }

    /// Builds a key set from an already parsed JWKS value.
    ///
    /// # Errors
    ///
    /// As [`KeySet::parse`].
    pub(crate) fn from_value(
        value: &Value,
        allowed: &[SigningAlgorithm],
    ) -> Result<Self, FetchError> {
        let Some(entries) = value.get("keys").and_then(Value::as_array) else {
            return Err(FetchError::InvalidKeySet("no keys array"));
        };
        if entries.len() > MAX_KEYS {
            return Err(FetchError::InvalidKeySet("more than 100 keys"));
        }

        let mut keys = HashMap::new();
        let mut ambiguous = Vec::new();
        for entry in entries {
            let (kid, key) = match parse_key(entry) {
                Ok(parsed) => parsed,
                Err(skip) => {
                    tracing::debug!(reason = skip.0, "key set entry skipped");
                    continue;
                }
            };
            if !allowed.contains(&key.algorithm) {
                continue;
            }
            match keys.entry(kid) {
                Entry::Vacant(slot) => {
                    slot.insert(Arc::new(key));
                }
                Entry::Occupied(slot) => ambiguous.push(slot.key().clone()),
            }
        }
        for kid in ambiguous {
            tracing::warn!(kid = %kid, "key id used by several keys; none of them is trusted");
            keys.remove(&kid);
        }

        if keys.is_empty() {
            return Err(FetchError::NoUsableKeys);
        }
        Ok(Self { keys })
    }
}

/// Why one key set entry was skipped; logged, never surfaced to callers.
struct Skip(&'static str);

fn parse_key(entry: &Value) -> Result<(String, VerificationKey), Skip> {
    let Value::Object(jwk) = entry else {
        return Err(Skip("entry is not an object"));
    };
    let kid = text(jwk, "kid").ok_or(Skip("no string kid"))?;
    if !valid_kid(kid) {
        return Err(Skip("kid is empty, too long or not printable ascii"));
    }
    // RFC 7517 §4.2 and §4.3: a key meant for encryption must not verify signatures.
    if jwk.get("use").is_some_and(|usage| usage != "sig") {
        return Err(Skip("use is not sig"));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op == "verify"));
        if !verifies {
            return Err(Skip("key_ops does not allow verify"));
        }
    }

    let alg = jwk.get("alg");
    let key = match text(jwk, "kty") {
        Some("RSA") if alg.is_none_or(|alg| alg == "RS256") => rsa_key(jwk)?,
        Some("EC") if alg.is_none_or(|alg| alg == "ES384") => ec_key(jwk)?,
        Some("RSA" | "EC") => return Err(Skip("alg does not fit the key type")),
        _ => return Err(Skip("kty is not RSA or EC")),
    };
    Ok((kid.to_owned(), key))
}

/// Whether `kid` is a key id a token may name: 1 to 128 bytes of printable ASCII.
pub(crate) fn valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_BYTES).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_graphic())
}

fn rsa_key(jwk: &Map<String, Value>) -> Result<VerificationKey, Skip> {
    let modulus = integer(jwk, "n").ok_or(Skip("n is not base64url"))?;
    let exponent = integer(jwk, "e").ok_or(Skip("e is not base64url"))?;
    let bits = modulus.len() * 8
        - modulus
            .first()
            .map_or(8, |top| top.leading_zeros() as usize);
    if !RSA_BITS.contains(&bits) {
        return Err(Skip("rsa modulus size is outside 2048 to 8192 bits"));
    }
    if exponent.len() > 8 {
        return Err(Skip("rsa exponent is too large"));
    }
    let components = RsaPublicKeyComponents {
        n: modulus,
        e: exponent,
    };
    let key = components
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| Skip("rsa components are not a valid public key"))?;
    Ok(VerificationKey {
        algorithm: SigningAlgorithm::Rs256,
        key,
    })
}

fn ec_key(jwk: &Map<String, Value>) -> Result<VerificationKey, Skip> {
    if text(jwk, "crv") != Some("P-384") {
        return Err(Skip("crv is not P-384"));
    }
    let x = bytes(jwk, "x").ok_or(Skip("x is not base64url"))?;
    let y = bytes(jwk, "y").ok_or(Skip("y is not base64url"))?;
    // RFC 7518 §6.2.1.2: coordinates are the full field size, leading zeros kept.
    if x.len() != P384_COORDINATE_BYTES || y.len() != P384_COORDINATE_BYTES {
        return Err(Skip("coordinates are not 48 bytes"));
    }
    let mut point = Vec::with_capacity(1 + 2 * P384_COORDINATE_BYTES);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let key = ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point)
        .map_err(|_| Skip("point is not on P-384"))?;
    Ok(VerificationKey {
        algorithm: SigningAlgorithm::Es384,
        key,
    })
}

fn text<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn bytes(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text(jwk, name)?).ok()
}

/// A big-endian unsigned integer member; leading zero bytes, which some publishers keep, dropped.
fn integer(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    let mut value = bytes(jwk, name)?;
    let zeros = value.iter().take_while(|&&byte| byte == 0).count();
    value.drain(..zeros);
    (!value.is_empty()).then_some(value)
}
