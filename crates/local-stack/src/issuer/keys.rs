//! The issuer's signing keys and their public JWK form.
//!
//! Signing uses aws-lc-rs directly, never the verifier's code, so the verifier's tests check it
//! against an independent implementation.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Algorithm;

/// One signing key pair with the key id it is published under.
pub(super) enum SigningKey {
    /// RSA-2048, published like STS's: no `alg` member.
    Rsa { kid: String, pair: RsaKeyPair },
    /// ECDSA P-384, signatures in the fixed-width JOSE form (`r || s`, RFC 7518 §3.4).
    Ec { kid: String, pair: EcdsaKeyPair },
}

impl SigningKey {
    /// Generates a fresh key of `algorithm` named after STS's scheme (`RSA_<n>`, `EC384_<n>`).
    ///
    /// Panics only when the system random source fails, which leaves the local stack unusable.
    pub(super) fn generate(algorithm: Algorithm, generation: u32) -> Self {
        match algorithm {
            Algorithm::Rs256 => Self::Rsa {
                kid: format!("RSA_{generation}"),
                pair: RsaKeyPair::generate(KeySize::Rsa2048)
                    .expect("the system random source must produce an RSA-2048 key"),
            },
            Algorithm::Es384 => Self::Ec {
                kid: format!("EC384_{generation}"),
                pair: EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING)
                    .expect("the system random source must produce a P-384 key"),
            },
        }
    }

    /// The key id published in the JWKS and put in token headers.
    pub(super) fn kid(&self) -> &str {
        match self {
            Self::Rsa { kid, .. } | Self::Ec { kid, .. } => kid,
        }
    }

    /// Signs `message` (the JWS signing input) and returns the raw signature bytes.
    pub(super) fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Rsa { pair, .. } => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .expect("an RSA-2048 key signs any message with PKCS#1 v1.5 SHA-256");
                signature
            }
            Self::Ec { pair, .. } => pair
                .sign(&rng, message)
                .expect("a P-384 key signs any message with SHA-384")
                .as_ref()
                .to_vec(),
        }
    }

    /// The public key as a JWK, shaped as STS publishes it.
    pub(super) fn public_jwk(&self) -> Value {
        match self {
            Self::Rsa { kid, pair } => {
                let public = pair.public_key();
                let modulus = public.modulus();
                let exponent = public.exponent();
                json!({
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "n": URL_SAFE_NO_PAD.encode(modulus.big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(exponent.big_endian_without_leading_zero()),
                })
            }
            Self::Ec { kid, pair } => {
                // An uncompressed SEC1 point: 0x04, then x and y of 48 bytes each.
                let (x, y) = pair.public_key().as_ref()[1..].split_at(48);
                json!({
                    "kty": "EC",
                    "crv": "P-384",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                    "alg": "ES384",
                    "use": "sig",
                    "kid": kid,
                })
            }
        }
    }
}
