//! Property-style check: no input makes the verifier panic, accept, or answer with an unknown
//! reason. Inputs are valid tokens mutated byte by byte, segment by segment and inside their
//! decoded JSON, plus random text, driven by a fixed-seed generator so failures replay.
#![allow(
    clippy::unwrap_used,
    reason = "helpers here panic on broken fixtures, as the tests do"
)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_stack::issuer::Algorithm;
use support::*;

/// xorshift64*: small, deterministic, good enough to spread mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound.max(1) as u64).unwrap()
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

/// Bytes that matter to a JWT parser, favoured over uniform noise.
const INTERESTING: &[u8] = b".=-_+/ \t\n\"{}[]:,\\0019aZ\x00\x7f\xc3\xff";

fn mutate_bytes(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        let pick = if rng.below(2) == 0 {
            INTERESTING[rng.below(INTERESTING.len())]
        } else {
            rng.byte()
        };
        match rng.below(5) {
            0 if !bytes.is_empty() => bytes[at] = pick,
            1 => bytes.insert(at.min(bytes.len()), pick),
            2 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {
                let from = rng.below(bytes.len());
                let to = (from + rng.below(40)).min(bytes.len());
                let copy = bytes[from..to].to_vec();
                let at = rng.below(bytes.len());
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

/// Mutates the decoded header or payload JSON and re-encodes it, to reach the JSON parsing and
/// claim checks rather than stopping at base64.
fn mutate_inside(rng: &mut Rng, token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let which = rng.below(2);
    let decoded = URL_SAFE_NO_PAD.decode(&parts[which]).unwrap();
    parts[which] = URL_SAFE_NO_PAD.encode(mutate_bytes(rng, decoded));
    parts.join(".")
}

fn random_text(rng: &mut Rng) -> String {
    let length = rng.below(300);
    let bytes: Vec<u8> = (0..length)
        .map(|_| INTERESTING[rng.below(INTERESTING.len())])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn no_input_panics_or_passes() {
    let issuer = issuer().await;
    let verifier = verifier(config(&issuer));
    let originals = [
        token(&issuer, Algorithm::Rs256),
        token(&issuer, Algorithm::Es384),
    ];
    for original in &originals {
        verifier.verify(original).await.unwrap();
    }
    let nested = format!(
        "{}.{}.AAAA",
        URL_SAFE_NO_PAD.encode("[".repeat(100_000).as_bytes()),
        URL_SAFE_NO_PAD.encode("{\"a\":".repeat(1000).as_bytes())
    );
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut reasons = std::collections::BTreeMap::<&str, usize>::new();

    for case in 0..6000 {
        let original = &originals[case % 2];
        let input = match case % 4 {
            0 | 1 => {
                String::from_utf8_lossy(&mutate_bytes(&mut rng, original.clone().into_bytes()))
                    .into_owned()
            }
            2 => mutate_inside(&mut rng, original),
            _ if case % 400 == 3 => nested.clone(),
            _ => random_text(&mut rng),
        };
        if originals.contains(&input) {
            continue;
        }

        let error = rejection(&verifier, &input).await;

        assert!(
            KNOWN_REASONS.contains(&error.reason()),
            "case {case}: {error:?}"
        );
        assert!(!error.is_operational(), "case {case}: {error:?}");
        *reasons.entry(error.reason()).or_default() += 1;
    }

    // The generator must reach past the cheap checks, or the test proves little.
    for reason in ["malformed_token", "bad_signature", "unknown_key"] {
        assert!(
            reasons.get(reason).copied().unwrap_or_default() > 0,
            "{reasons:?}"
        );
    }
    // Forged key ids are bounded by the refetch cool-down: the warm-up fetch is the only one.
    assert_eq!(issuer.jwks_fetches(), 1, "{reasons:?}");
}
