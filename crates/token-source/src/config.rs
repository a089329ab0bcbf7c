//! The validated parameters of a `GetWebIdentityToken` request and where they come from.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Environment variable holding the comma-separated token audiences (required).
pub const ENV_AUDIENCE: &str = "TOKEN_AUDIENCE";
/// Environment variable holding the signing algorithm, `RS256` (default) or `ES384`.
pub const ENV_SIGNING_ALGORITHM: &str = "SIGNING_ALGORITHM";
/// Environment variable holding the token lifetime in seconds (default 300).
pub const ENV_DURATION_SECONDS: &str = "TOKEN_DURATION_SECONDS";
/// Environment variable holding optional request tags as `key=value,key2=value2`.
pub const ENV_REQUEST_TAGS: &str = "TOKEN_REQUEST_TAGS";

/// Most audiences STS accepts in one request.
pub const MAX_AUDIENCES: usize = 10;
/// Longest audience STS accepts, in characters.
pub const MAX_AUDIENCE_CHARS: usize = 1000;
/// Shortest token lifetime STS issues.
pub const MIN_DURATION: Duration = Duration::from_secs(60);
/// Longest token lifetime STS issues.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// Token lifetime used when none is configured.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(300);
/// Most request tags STS accepts in one request.
pub const MAX_TAGS: usize = 50;
/// Longest request tag key, in characters.
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// Longest request tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// The algorithm STS signs the token with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over the account's RSA-2048 key (the default).
    #[default]
    Rs256,
    /// ECDSA with SHA-384 over the account's P-384 key.
    Es384,
}

impl SigningAlgorithm {
    /// The name STS expects in `SigningAlgorithm` and writes in the token header's `alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es384 => "ES384",
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = ConfigError;

    /// Parses `RS256` or `ES384`, ignoring ASCII case and surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnknownAlgorithm`] for any other value.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = value.trim();
        if trimmed.eq_ignore_ascii_case("RS256") {
            Ok(Self::Rs256)
        } else if trimmed.eq_ignore_ascii_case("ES384") {
            Ok(Self::Es384)
        } else {
            Err(ConfigError::UnknownAlgorithm {
                value: excerpt(trimmed),
            })
        }
    }
}

/// Why a token source could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No audience was configured; STS requires at least one.
    #[error("at least one audience is required")]
    NoAudience,
    /// More audiences than STS accepts.
    #[error("{count} audiences configured; at most {MAX_AUDIENCES} are allowed")]
    TooManyAudiences {
        /// How many were configured.
        count: usize,
    },
    /// An audience is empty or longer than STS accepts.
    #[error(
        "audience {position} is {chars} characters long; 1 to {MAX_AUDIENCE_CHARS} are allowed"
    )]
    AudienceLength {
        /// One-based position of the audience in the configured list.
        position: usize,
        /// Its length in characters.
        chars: usize,
    },
    /// The same audience is listed twice.
    #[error("audience {position} repeats an earlier audience")]
    DuplicateAudience {
        /// One-based position of the repeated audience.
        position: usize,
    },
    /// The signing algorithm is neither `RS256` nor `ES384`.
    #[error("unknown signing algorithm {value:?}; use RS256 or ES384")]
    UnknownAlgorithm {
        /// The rejected value, shortened if long.
        value: String,
    },
    /// The token lifetime is outside what STS issues.
    #[error("token duration of {seconds} s is outside 60..=3600 s")]
    DurationOutOfRange {
        /// The rejected duration in whole seconds.
        seconds: u64,
    },
    /// More request tags than STS accepts.
    #[error("{count} request tags configured; at most {MAX_TAGS} are allowed")]
    TooManyTags {
        /// How many were configured.
        count: usize,
    },
    /// A request tag key is empty or longer than STS accepts.
    #[error(
        "request tag key {key:?} is {chars} characters long; 1 to {MAX_TAG_KEY_CHARS} are allowed"
    )]
    TagKeyLength {
        /// The key, shortened if long.
        key: String,
        /// Its length in characters.
        chars: usize,
    },
    /// A request tag value is longer than STS accepts.
    #[error(
        "request tag {key:?} has a value of {chars} characters; at most {MAX_TAG_VALUE_CHARS} are allowed"
    )]
    TagValueLength {
        /// The tag key, shortened if long.
        key: String,
        /// The value's length in characters.
        chars: usize,
    },
    /// A request tag key or value holds a character STS does not allow in tags.
    #[error(
        "request tag {key:?} contains a character outside letters, digits, spaces and _.:/=+-@"
    )]
    TagCharacters {
        /// The tag key, shortened if long.
        key: String,
    },
    /// Two request tags share a key; STS compares tag keys without regard to case.
    #[error("request tag key {key:?} is given twice (keys are case-insensitive)")]
    DuplicateTagKey {
        /// The repeated key, shortened if long.
        key: String,
    },
    /// A `TOKEN_REQUEST_TAGS` entry is not `key=value`.
    #[error("request tag entry {position} is not of the form key=value")]
    MalformedTag {
        /// One-based position of the entry.
        position: usize,
    },
    /// `TOKEN_DURATION_SECONDS` is not a whole number.
    #[error("{value:?} is not a whole number of seconds")]
    MalformedDuration {
        /// The rejected value, shortened if long.
        value: String,
    },
    /// A required environment variable is unset or empty.
    #[error("environment variable {name} is required")]
    MissingVariable {
        /// The variable's name.
        name: &'static str,
    },
    /// An environment variable holds something that is not Unicode.
    #[error("environment variable {name} is not valid unicode")]
    NotUnicode {
        /// The variable's name.
        name: &'static str,
    },
    /// An environment variable holds an invalid value.
    #[error("environment variable {name} is invalid: {source}")]
    InvalidVariable {
        /// The variable's name.
        name: &'static str,
        /// What is wrong with its value.
        #[source]
        source: Box<ConfigError>,
    },
    /// The SDK configuration names no region, so the regional STS endpoint is unknown.
    #[error(
        "no AWS region is configured: set AWS_REGION, because GetWebIdentityToken is served only \
         by regional STS endpoints"
    )]
    MissingRegion,
    /// A retry, timeout or refresh setting is out of its allowed range.
    #[error("{setting} is out of range; allowed: {allowed}")]
    OutOfRange {
        /// The builder setting.
        setting: &'static str,
        /// The allowed range.
        allowed: &'static str,
    },
}

/// The validated parameters sent with every `GetWebIdentityToken` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenParameters {
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) duration: Duration,
    pub(crate) tags: BTreeMap<String, String>,
}

impl TokenParameters {
    /// Checks every STS limit on the request so that a bad setting fails at start-up, not on the
    /// first call.
    pub(crate) fn validate(
        audiences: Vec<String>,
        algorithm: SigningAlgorithm,
        duration: Duration,
        tags: Vec<(String, String)>,
    ) -> Result<Self, ConfigError> {
        check_audiences(&audiences)?;
        check_duration(duration)?;
        let tags = check_tags(tags)?;
        Ok(Self {
            audiences,
            algorithm,
            duration,
            tags,
        })
    }

    /// The duration in the integer form the SDK sends.
    pub(crate) fn duration_seconds(&self) -> i32 {
        // validate() bounds the duration to 60..=3600, which always fits.
        i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX)
    }
}

fn check_audiences(audiences: &[String]) -> Result<(), ConfigError> {
    if audiences.is_empty() {
        return Err(ConfigError::NoAudience);
    }
    if audiences.len() > MAX_AUDIENCES {
        return Err(ConfigError::TooManyAudiences {
            count: audiences.len(),
        });
    }
    for (index, audience) in audiences.iter().enumerate() {
        let chars = audience.chars().count();
        if chars == 0 || chars > MAX_AUDIENCE_CHARS {
            return Err(ConfigError::AudienceLength {
                position: index + 1,
                chars,
            });
        }
        if audiences[..index].contains(audience) {
            return Err(ConfigError::DuplicateAudience {
                position: index + 1,
            });
        }
    }
    Ok(())
}

fn check_duration(duration: Duration) -> Result<(), ConfigError> {
    let whole_seconds = duration.subsec_nanos() == 0;
    if !whole_seconds || duration < MIN_DURATION || duration > MAX_DURATION {
        return Err(ConfigError::DurationOutOfRange {
            seconds: duration.as_secs(),
        });
    }
    Ok(())
}

fn check_tags(tags: Vec<(String, String)>) -> Result<BTreeMap<String, String>, ConfigError> {
    if tags.len() > MAX_TAGS {
        return Err(ConfigError::TooManyTags { count: tags.len() });
    }
    let mut checked = BTreeMap::new();
    for (key, value) in tags {
        check_tag(&key, &value)?;
        let lowered = key.to_lowercase();
        if checked
            .keys()
            .any(|seen: &String| seen.to_lowercase() == lowered)
        {
            return Err(ConfigError::DuplicateTagKey { key: excerpt(&key) });
        }
        checked.insert(key, value);
    }
    Ok(checked)
}

fn check_tag(key: &str, value: &str) -> Result<(), ConfigError> {
    let key_chars = key.chars().count();
    if key_chars == 0 || key_chars > MAX_TAG_KEY_CHARS {
        return Err(ConfigError::TagKeyLength {
            key: excerpt(key),
            chars: key_chars,
        });
    }
    let value_chars = value.chars().count();
    if value_chars > MAX_TAG_VALUE_CHARS {
        return Err(ConfigError::TagValueLength {
            key: excerpt(key),
            chars: value_chars,
        });
    }
    if !key.chars().chain(value.chars()).all(is_tag_char) {
        return Err(ConfigError::TagCharacters { key: excerpt(key) });
    }
    Ok(())
}

/// The character class IAM documents for tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// Shortens a rejected value so an error message stays readable and bounded.
fn excerpt(value: &str) -> String {
    const LIMIT: usize = 40;
    if value.chars().count() <= LIMIT {
        value.to_owned()
    } else {
        let mut short: String = value.chars().take(LIMIT).collect();
        short.push('…');
        short
    }
}

/// Settings read from the environment, still to be validated together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvSettings {
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) duration: Duration,
    pub(crate) tags: Vec<(String, String)>,
}

/// A value looked up by variable name; `Err(())` marks a value that is not Unicode.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<Result<String, ()>>;

impl EnvSettings {
    /// Reads the four token variables through `lookup`, treating empty optional values as unset so
    /// that templates can pass blank parameters.
    pub(crate) fn read(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let audiences = required(lookup, ENV_AUDIENCE)?;
        let audiences = audiences.split(',').map(|a| a.trim().to_owned()).collect();

        let algorithm = match optional(lookup, ENV_SIGNING_ALGORITHM)? {
            Some(value) => value.parse().map_err(in_var(ENV_SIGNING_ALGORITHM))?,
            None => SigningAlgorithm::default(),
        };

        let duration = match optional(lookup, ENV_DURATION_SECONDS)? {
            Some(value) => parse_seconds(&value).map_err(in_var(ENV_DURATION_SECONDS))?,
            None => DEFAULT_DURATION,
        };

        let tags = match optional(lookup, ENV_REQUEST_TAGS)? {
            Some(value) => parse_tags(&value).map_err(in_var(ENV_REQUEST_TAGS))?,
            None => Vec::new(),
        };

        Ok(Self {
            audiences,
            algorithm,
            duration,
            tags,
        })
    }
}

fn in_var(name: &'static str) -> impl Fn(ConfigError) -> ConfigError {
    move |source| ConfigError::InvalidVariable {
        name,
        source: Box::new(source),
    }
}

fn required(lookup: Lookup<'_>, name: &'static str) -> Result<String, ConfigError> {
    optional(lookup, name)?.ok_or(ConfigError::MissingVariable { name })
}

fn optional(lookup: Lookup<'_>, name: &'static str) -> Result<Option<String>, ConfigError> {
    match lookup(name) {
        None => Ok(None),
        Some(Err(())) => Err(ConfigError::NotUnicode { name }),
        Some(Ok(value)) if value.trim().is_empty() => Ok(None),
        Some(Ok(value)) => Ok(Some(value)),
    }
}

fn parse_seconds(value: &str) -> Result<Duration, ConfigError> {
    let trimmed = value.trim();
    let seconds: u64 = trimmed
        .parse()
        .map_err(|_| ConfigError::MalformedDuration {
            value: excerpt(trimmed),
        })?;
    Ok(Duration::from_secs(seconds))
}

/// Splits `k=v,k2=v2` at commas and at each entry's first `=`; values may be empty.
fn parse_tags(value: &str) -> Result<Vec<(String, String)>, ConfigError> {
    value
        .split(',')
        .enumerate()
        .map(|(index, entry)| {
            let (key, value) = entry.split_once('=').ok_or(ConfigError::MalformedTag {
                position: index + 1,
            })?;
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<Result<String, ()>> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            owned
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Ok(v.clone()))
        }
    }

    fn read(pairs: &[(&str, &str)]) -> Result<EnvSettings, ConfigError> {
        EnvSettings::read(&env(pairs))
    }

    fn validated(settings: EnvSettings) -> Result<TokenParameters, ConfigError> {
        TokenParameters::validate(
            settings.audiences,
            settings.algorithm,
            settings.duration,
            settings.tags,
        )
    }

    #[test]
    fn defaults_apply_when_only_the_audience_is_set() {
        let settings = read(&[(ENV_AUDIENCE, " api://orders , api://billing ")]).unwrap();
        assert_eq!(
            settings,
            EnvSettings {
                audiences: vec!["api://orders".into(), "api://billing".into()],
                algorithm: SigningAlgorithm::Rs256,
                duration: Duration::from_secs(300),
                tags: vec![],
            }
        );
    }

    #[test]
    fn every_variable_is_read() {
        let settings = read(&[
            (ENV_AUDIENCE, "a"),
            (ENV_SIGNING_ALGORITHM, "es384"),
            (ENV_DURATION_SECONDS, "900"),
            (ENV_REQUEST_TAGS, "team=payments, purpose=batch ,empty="),
        ])
        .unwrap();
        assert_eq!(settings.algorithm, SigningAlgorithm::Es384);
        assert_eq!(settings.duration, Duration::from_secs(900));
        assert_eq!(
            settings.tags,
            vec![
                ("team".into(), "payments".into()),
                ("purpose".into(), "batch".into()),
                ("empty".into(), String::new()),
            ]
        );
    }

    #[test]
    fn blank_optional_variables_mean_the_default() {
        let settings = read(&[
            (ENV_AUDIENCE, "a"),
            (ENV_SIGNING_ALGORITHM, ""),
            (ENV_DURATION_SECONDS, "  "),
            (ENV_REQUEST_TAGS, ""),
        ])
        .unwrap();
        assert_eq!(settings.algorithm, SigningAlgorithm::Rs256);
        assert_eq!(settings.duration, DEFAULT_DURATION);
        assert!(settings.tags.is_empty());
    }

    #[test]
    fn missing_audience_names_the_variable() {
        assert_eq!(
            read(&[]),
            Err(ConfigError::MissingVariable { name: ENV_AUDIENCE })
        );
        assert_eq!(
            read(&[(ENV_AUDIENCE, " ")]),
            Err(ConfigError::MissingVariable { name: ENV_AUDIENCE })
        );
    }

    #[test]
    fn non_unicode_variable_is_reported() {
        let lookup = |name: &str| (name == ENV_AUDIENCE).then_some(Err(()));
        assert_eq!(
            EnvSettings::read(&lookup),
            Err(ConfigError::NotUnicode { name: ENV_AUDIENCE })
        );
    }

    #[test]
    fn unknown_algorithm_is_rejected_with_the_variable_name() {
        let err = read(&[(ENV_AUDIENCE, "a"), (ENV_SIGNING_ALGORITHM, "HS256")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::InvalidVariable {
                name: ENV_SIGNING_ALGORITHM,
                source: Box::new(ConfigError::UnknownAlgorithm {
                    value: "HS256".into()
                }),
            }
        );
    }

    #[test]
    fn non_numeric_or_negative_duration_is_malformed() {
        for bad in ["5m", "-60", "1e3", "300.5", "99999999999999999999999"] {
            let err = read(&[(ENV_AUDIENCE, "a"), (ENV_DURATION_SECONDS, bad)]).unwrap_err();
            assert_eq!(
                err,
                ConfigError::InvalidVariable {
                    name: ENV_DURATION_SECONDS,
                    source: Box::new(ConfigError::MalformedDuration { value: bad.into() }),
                },
                "{bad}"
            );
        }
    }

    #[test]
    fn tag_entry_without_equals_is_malformed() {
        let err = read(&[(ENV_AUDIENCE, "a"), (ENV_REQUEST_TAGS, "team=x,oops")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::InvalidVariable {
                name: ENV_REQUEST_TAGS,
                source: Box::new(ConfigError::MalformedTag { position: 2 }),
            }
        );
    }

    #[test]
    fn duration_bounds_are_inclusive() {
        let ok = |secs| check_duration(Duration::from_secs(secs));
        assert_eq!(ok(60), Ok(()));
        assert_eq!(ok(3600), Ok(()));
        assert_eq!(ok(59), Err(ConfigError::DurationOutOfRange { seconds: 59 }));
        assert_eq!(
            ok(3601),
            Err(ConfigError::DurationOutOfRange { seconds: 3601 })
        );
        assert_eq!(
            check_duration(Duration::from_millis(60_500)),
            Err(ConfigError::DurationOutOfRange { seconds: 60 })
        );
    }

    #[test]
    fn audience_limits_are_enforced() {
        let params = |audiences: Vec<String>| {
            validated(EnvSettings {
                audiences,
                algorithm: SigningAlgorithm::Rs256,
                duration: DEFAULT_DURATION,
                tags: vec![],
            })
        };
        assert_eq!(params(vec![]), Err(ConfigError::NoAudience));
        let eleven = (0..11).map(|i| format!("aud-{i}")).collect();
        assert_eq!(
            params(eleven),
            Err(ConfigError::TooManyAudiences { count: 11 })
        );
        assert_eq!(
            params(vec!["a".into(), String::new()]),
            Err(ConfigError::AudienceLength {
                position: 2,
                chars: 0
            })
        );
        assert_eq!(
            params(vec!["é".repeat(1001)]),
            Err(ConfigError::AudienceLength {
                position: 1,
                chars: 1001
            })
        );
        assert!(params(vec!["é".repeat(1000)]).is_ok());
        assert_eq!(
            params(vec!["a".into(), "b".into(), "a".into()]),
            Err(ConfigError::DuplicateAudience { position: 3 })
        );
    }

    #[test]
    fn tag_limits_are_enforced() {
        let tags = |pairs: Vec<(String, String)>| check_tags(pairs);
        let many = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(tags(many), Err(ConfigError::TooManyTags { count: 51 }));
        assert_eq!(
            tags(vec![(String::new(), "v".into())]),
            Err(ConfigError::TagKeyLength {
                key: String::new(),
                chars: 0
            })
        );
        let long_key = "k".repeat(129);
        assert_eq!(
            tags(vec![(long_key.clone(), "v".into())]),
            Err(ConfigError::TagKeyLength {
                key: excerpt(&long_key),
                chars: 129
            })
        );
        assert_eq!(
            tags(vec![("team".into(), "v".repeat(257))]),
            Err(ConfigError::TagValueLength {
                key: "team".into(),
                chars: 257
            })
        );
        assert_eq!(
            tags(vec![
                ("Team".into(), "a".into()),
                ("team".into(), "b".into())
            ]),
            Err(ConfigError::DuplicateTagKey { key: "team".into() })
        );
        for bad in ["a\nb", "semi;colon", "quote\"", "tab\there", "nul\0"] {
            assert_eq!(
                tags(vec![("k".into(), bad.into())]),
                Err(ConfigError::TagCharacters { key: "k".into() }),
                "{bad:?}"
            );
        }
        let fine = tags(vec![("équipe".into(), "Zahlungen_1.0:/=+-@ x".into())]).unwrap();
        assert_eq!(fine.len(), 1);
    }

    #[test]
    fn long_rejected_values_are_shortened() {
        let err = "X".repeat(5000).parse::<SigningAlgorithm>().unwrap_err();
        let ConfigError::UnknownAlgorithm { value } = err else {
            panic!("unexpected {err:?}");
        };
        assert_eq!(value.chars().count(), 41);
    }
}
