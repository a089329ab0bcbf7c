//! Reading the verifier configuration from environment-style variables: defaults, limits, and
//! errors that name the variable at fault.

use std::collections::HashMap;
use std::time::Duration;

use sts_verifier::{ConfigError, SigningAlgorithm, VerifierConfig};

const ISSUER: &str = "https://0a1b2c3d-4e5f-6789-abcd-ef0123456789.tokens.sts.global.api.aws";

/// Reads a configuration from the given variables plus valid required ones (unless overridden).
fn read(variables: &[(&str, &str)]) -> Result<VerifierConfig, ConfigError> {
    let mut env: HashMap<String, String> = HashMap::from([
        ("TRUSTED_ISSUERS".to_owned(), ISSUER.to_owned()),
        (
            "ALLOWED_AUDIENCES".to_owned(),
            "https://orders.example".to_owned(),
        ),
    ]);
    for (name, value) in variables {
        env.insert((*name).to_owned(), (*value).to_owned());
    }
    VerifierConfig::from_lookup(|name| env.get(name).cloned())
}

fn error_for(variables: &[(&str, &str)]) -> ConfigError {
    match read(variables) {
        Ok(config) => panic!("{variables:?} was accepted: {config:?}"),
        Err(error) => error,
    }
}

#[test]
fn defaults_follow_the_contract() {
    let config = read(&[]).unwrap();

    assert_eq!(config.issuers, [ISSUER]);
    assert_eq!(config.audiences, ["https://orders.example"]);
    assert_eq!(
        config.algorithms,
        [SigningAlgorithm::Rs256, SigningAlgorithm::Es384]
    );
    assert_eq!(config.leeway, Duration::from_secs(30));
    assert_eq!(config.max_token_age, Duration::from_secs(3600));
    assert_eq!(config.cache_ttl, Duration::from_secs(900));
    assert_eq!(config.fetch_timeout, Duration::from_millis(2000));
    assert_eq!(config.refetch_cooldown, Duration::from_secs(30));
    assert_eq!(config.max_stale, Duration::from_secs(21_600));
    assert_eq!(config.jwks_file, None);
    assert!(!config.allow_loopback_issuers);
    assert_eq!(
        config,
        VerifierConfig::new([ISSUER], ["https://orders.example"])
    );
}

#[test]
fn every_variable_is_read() {
    let config = read(&[
        (
            "TRUSTED_ISSUERS",
            &format!("{ISSUER}, https://issuer-two.example ,"),
        ),
        ("ALLOWED_AUDIENCES", "a,b"),
        ("ALLOWED_ALGORITHMS", "ES384"),
        ("CLOCK_LEEWAY_SECONDS", "300"),
        ("MAX_TOKEN_AGE_SECONDS", "600"),
        ("JWKS_CACHE_TTL_SECONDS", "60"),
        ("JWKS_FETCH_TIMEOUT_MS", "750"),
        ("JWKS_REFETCH_COOLDOWN_SECONDS", "0"),
        ("JWKS_MAX_STALE_SECONDS", "0"),
        ("JWKS_FILE", "/opt/keys.json"),
        ("ALLOW_LOOPBACK_ISSUERS", "true"),
    ])
    .unwrap();

    assert_eq!(config.issuers, [ISSUER, "https://issuer-two.example"]);
    assert_eq!(config.audiences, ["a", "b"]);
    assert_eq!(config.algorithms, [SigningAlgorithm::Es384]);
    assert_eq!(config.leeway, Duration::from_secs(300));
    assert_eq!(config.max_token_age, Duration::from_secs(600));
    assert_eq!(config.cache_ttl, Duration::from_secs(60));
    assert_eq!(config.fetch_timeout, Duration::from_millis(750));
    assert_eq!(config.refetch_cooldown, Duration::ZERO);
    assert_eq!(config.max_stale, Duration::ZERO);
    assert_eq!(
        config.jwks_file.as_deref(),
        Some(std::path::Path::new("/opt/keys.json"))
    );
    assert!(config.allow_loopback_issuers);
}

#[test]
fn loopback_issuers_need_the_opt_in() {
    for issuer in [
        "http://127.0.0.1:4000",
        "http://localhost:8080",
        "http://[::1]:9000",
    ] {
        let error = error_for(&[("TRUSTED_ISSUERS", issuer)]);
        assert_eq!(error.variable, "TRUSTED_ISSUERS", "{issuer}");
        assert!(error.message.contains("ALLOW_LOOPBACK_ISSUERS"), "{error}");

        let config = read(&[("TRUSTED_ISSUERS", issuer), ("ALLOW_LOOPBACK_ISSUERS", "1")]);
        assert_eq!(config.unwrap().issuers, [issuer]);
    }
}

#[test]
fn issuers_that_tokens_could_never_match_exactly_are_rejected() {
    let bad = [
        "http://issuer.example",
        "http://10.0.0.8:4000",
        "ftp://issuer.example",
        "issuer.example",
        "https://issuer.example/",
        "https://issuer.example?x=1",
        "https://issuer.example#frag",
        "https://user:pw@issuer.example",
        "https://ISSUER.example",
        "https://issuer.example:443",
        "https://issuer.example/a/../b",
        "https://",
    ];
    for issuer in bad {
        let error = error_for(&[
            ("TRUSTED_ISSUERS", issuer),
            ("ALLOW_LOOPBACK_ISSUERS", "true"),
        ]);
        assert_eq!(error.variable, "TRUSTED_ISSUERS", "{issuer}: {error}");
    }
}

#[test]
fn issuer_with_a_path_is_accepted() {
    let config = read(&[("TRUSTED_ISSUERS", "https://idp.example/realms/services")]).unwrap();

    assert_eq!(config.issuers, ["https://idp.example/realms/services"]);
}

#[test]
fn missing_or_empty_required_variables_are_named() {
    for name in ["TRUSTED_ISSUERS", "ALLOWED_AUDIENCES"] {
        for value in ["", "  ", ",,"] {
            let error = error_for(&[(name, value)]);
            assert_eq!(error.variable, name, "{value:?}: {error}");
        }
    }
}

#[test]
fn bad_values_are_errors_naming_their_variable() {
    let cases = [
        ("ALLOWED_AUDIENCES", &*"a".repeat(1001)),
        ("ALLOWED_ALGORITHMS", "HS256"),
        ("ALLOWED_ALGORITHMS", "rs256"),
        ("ALLOWED_ALGORITHMS", "RS256,none"),
        ("CLOCK_LEEWAY_SECONDS", "301"),
        ("CLOCK_LEEWAY_SECONDS", "-1"),
        ("CLOCK_LEEWAY_SECONDS", "30s"),
        ("MAX_TOKEN_AGE_SECONDS", "0"),
        ("MAX_TOKEN_AGE_SECONDS", "1e3"),
        ("JWKS_CACHE_TTL_SECONDS", "0"),
        ("JWKS_CACHE_TTL_SECONDS", "99999999999999999999999"),
        ("JWKS_FETCH_TIMEOUT_MS", "0"),
        ("JWKS_FETCH_TIMEOUT_MS", "fast"),
        ("JWKS_REFETCH_COOLDOWN_SECONDS", "soon"),
        ("JWKS_MAX_STALE_SECONDS", "-5"),
        ("ALLOW_LOOPBACK_ISSUERS", "maybe"),
    ];
    for (name, value) in cases {
        let error = error_for(&[(name, value)]);
        assert_eq!(error.variable, name, "{value:?}: {error}");
        assert!(
            error.to_string().starts_with(&format!("{name}: ")),
            "{error}"
        );
    }
}

#[test]
fn config_error_message_says_what_is_wrong() {
    let error = error_for(&[("CLOCK_LEEWAY_SECONDS", "301")]);

    assert_eq!(
        error.to_string(),
        "CLOCK_LEEWAY_SECONDS: 301 s is above the limit of 300 s"
    );
}
