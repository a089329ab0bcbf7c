//! Construction-time checks: every STS limit and setting is rejected before any call.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use token_source::{ConfigError, SigningAlgorithm, TokenSource, TokenSourceBuilder};

fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .build()
}

fn builder() -> TokenSourceBuilder {
    TokenSource::builder(&sdk_config()).audience("api://orders")
}

fn env(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<Result<String, ()>> {
    let pairs = pairs.to_vec();
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| Ok(value.to_string()))
    }
}

#[test]
fn defaults_are_rs256_for_300_seconds_with_a_60_second_margin() {
    let source = builder().build().unwrap();

    assert_eq!(source.audiences(), ["api://orders"]);
    assert_eq!(source.signing_algorithm(), SigningAlgorithm::Rs256);
    assert_eq!(source.duration(), Duration::from_secs(300));
    assert_eq!(source.refresh_margin(), Duration::from_secs(60));
}

#[test]
fn automatic_margin_is_a_fifth_of_the_lifetime_up_to_60_seconds() {
    let margin = |secs| {
        builder()
            .duration(Duration::from_secs(secs))
            .build()
            .unwrap()
            .refresh_margin()
    };

    assert_eq!(margin(60), Duration::from_secs(12));
    assert_eq!(margin(200), Duration::from_secs(40));
    assert_eq!(margin(3600), Duration::from_secs(60));
}

#[test]
fn settings_come_from_the_documented_variables() {
    let source = TokenSource::builder(&sdk_config())
        .from_vars(env(&[
            ("TOKEN_AUDIENCE", "api://a,api://b"),
            ("SIGNING_ALGORITHM", "ES384"),
            ("TOKEN_DURATION_SECONDS", "900"),
            ("TOKEN_REQUEST_TAGS", "team=payments"),
        ]))
        .unwrap()
        .build()
        .unwrap();

    assert_eq!(source.audiences(), ["api://a", "api://b"]);
    assert_eq!(source.signing_algorithm(), SigningAlgorithm::Es384);
    assert_eq!(source.duration(), Duration::from_secs(900));
    assert!(format!("{source:?}").contains("tag_keys: [\"team\"]"));
}

#[test]
fn out_of_range_variables_fail_at_build_time() {
    let err = TokenSource::builder(&sdk_config())
        .from_vars(env(&[
            ("TOKEN_AUDIENCE", "a"),
            ("TOKEN_DURATION_SECONDS", "30"),
        ]))
        .unwrap()
        .build()
        .unwrap_err();

    assert_eq!(err, ConfigError::DurationOutOfRange { seconds: 30 });
}

#[test]
fn missing_region_is_refused_because_only_regional_endpoints_serve_the_api() {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();

    let err = TokenSource::builder(&config)
        .audience("a")
        .build()
        .unwrap_err();

    assert_eq!(err, ConfigError::MissingRegion);
    assert!(err.to_string().contains("regional"), "{err}");
}

#[test]
fn sts_limits_are_enforced_before_any_call() {
    let cases: Vec<(TokenSourceBuilder, ConfigError)> = vec![
        (TokenSource::builder(&sdk_config()), ConfigError::NoAudience),
        (
            (0..10).fold(builder(), |b, i| b.audience(format!("aud-{i}"))),
            ConfigError::TooManyAudiences { count: 11 },
        ),
        (
            builder().audience("x".repeat(1001)),
            ConfigError::AudienceLength {
                position: 2,
                chars: 1001,
            },
        ),
        (
            builder().duration(Duration::from_secs(59)),
            ConfigError::DurationOutOfRange { seconds: 59 },
        ),
        (
            builder().duration(Duration::from_secs(3601)),
            ConfigError::DurationOutOfRange { seconds: 3601 },
        ),
        (
            (0..51).fold(builder(), |b, i| b.request_tag(format!("k{i}"), "v")),
            ConfigError::TooManyTags { count: 51 },
        ),
        (
            builder().request_tag("k", "v".repeat(257)),
            ConfigError::TagValueLength {
                key: "k".into(),
                chars: 257,
            },
        ),
        (
            builder().request_tag("k", "<script>"),
            ConfigError::TagCharacters { key: "k".into() },
        ),
        (
            builder().refresh_margin(Duration::from_secs(300)),
            ConfigError::OutOfRange {
                setting: "refresh_margin",
                allowed: "shorter than the token duration",
            },
        ),
        (
            builder().max_attempts(0),
            ConfigError::OutOfRange {
                setting: "max_attempts",
                allowed: "1 to 10",
            },
        ),
        (
            builder().max_attempts(11),
            ConfigError::OutOfRange {
                setting: "max_attempts",
                allowed: "1 to 10",
            },
        ),
        (
            builder().backoff(Duration::from_secs(2), Duration::from_secs(1)),
            ConfigError::OutOfRange {
                setting: "backoff",
                allowed: "initial at most max, max at most 60 s",
            },
        ),
        (
            builder().operation_timeout(Duration::ZERO),
            ConfigError::OutOfRange {
                setting: "operation_timeout",
                allowed: "1 ms to 300 s",
            },
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err(), expected);
    }
}
