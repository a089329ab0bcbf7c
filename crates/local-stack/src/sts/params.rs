//! The Query-protocol form of a request and the validated `GetWebIdentityToken` parameters.
//!
//! The SDK's serializer (aws-sdk-sts 1.124, `shape_get_web_identity_token_input.rs`) writes
//! `Action=GetWebIdentityToken&Version=2011-06-15`, `Audience.member.<n>` from 1, `SigningAlgorithm`,
//! `DurationSeconds` and `Tags.member.<n>.Key` / `.Value`; an empty list is written as a bare
//! `Audience=`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::StsError;
use crate::issuer::Algorithm;

const MAX_AUDIENCES: usize = 10;
const MAX_AUDIENCE_CHARS: usize = 1000;
const MIN_DURATION_SECONDS: i64 = 60;
const MAX_DURATION_SECONDS: i64 = 3600;
const DEFAULT_DURATION_SECONDS: i64 = 300;
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;
/// How much of a rejected value an error message repeats.
const ECHO_CHARS: usize = 64;

/// The decoded form body; the first occurrence of a repeated name wins.
#[derive(Debug, Default)]
pub(crate) struct Form {
    fields: BTreeMap<String, String>,
}

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Self {
        let mut fields = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            fields
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Self { fields }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// `(rest, value)` for every field named `<prefix><rest>`.
    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.fields
            .range(prefix.to_owned()..)
            .take_while(move |(name, _)| name.starts_with(prefix))
            .map(move |(name, value)| (&name[prefix.len()..], value.as_str()))
    }
}

/// The parameters of one `GetWebIdentityToken` call, within every STS limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenParams {
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) duration: Duration,
    pub(crate) tags: BTreeMap<String, String>,
}

impl TokenParams {
    /// Reads and checks the parameters as STS does, answering its `ValidationError` otherwise.
    pub(crate) fn from_form(form: &Form) -> Result<Self, StsError> {
        Ok(Self {
            audiences: audiences(form)?,
            algorithm: algorithm(form)?,
            duration: duration(form)?,
            tags: tags(form)?,
        })
    }
}

fn audiences(form: &Form) -> Result<Vec<String>, StsError> {
    let members = list_members(form, "Audience", "audience")?;
    if members.is_empty() {
        return Err(StsError::validation(
            "Value null at 'audience' failed to satisfy constraint: Member must not be null",
        ));
    }
    if members.len() > MAX_AUDIENCES {
        return Err(StsError::validation(format!(
            "Value at 'audience' failed to satisfy constraint: Member must have length less than \
             or equal to {MAX_AUDIENCES}"
        )));
    }
    let mut audiences = Vec::with_capacity(members.len());
    for (index, fields) in members {
        let value = match fields.as_slice() {
            [("", value)] => *value,
            _ => {
                let rest = fields
                    .iter()
                    .map(|(rest, _)| *rest)
                    .find(|rest| !rest.is_empty());
                let name = format!("Audience.member.{index}{}", rest.unwrap_or_default());
                return Err(unexpected_parameter(&name));
            }
        };
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_AUDIENCE_CHARS {
            return Err(StsError::validation(format!(
                "Value '{}' at 'audience.{index}.member' failed to satisfy constraint: Member must \
                 have length between 1 and {MAX_AUDIENCE_CHARS}",
                echo(value),
            )));
        }
        audiences.push(value.to_owned());
    }
    Ok(audiences)
}

fn algorithm(form: &Form) -> Result<Algorithm, StsError> {
    let value = form.get("SigningAlgorithm").ok_or_else(|| {
        StsError::validation(
            "Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null",
        )
    })?;
    value.parse().map_err(|_| {
        StsError::validation(format!(
            "Value '{}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy \
             enum value set: [RS256, ES384]",
            echo(value)
        ))
    })
}

fn duration(form: &Form) -> Result<Duration, StsError> {
    let Some(value) = form.get("DurationSeconds") else {
        return Ok(Duration::from_secs(DEFAULT_DURATION_SECONDS.unsigned_abs()));
    };
    let seconds: i64 = value.parse().map_err(|_| {
        StsError::validation(format!(
            "Value '{}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer",
            echo(value)
        ))
    })?;
    if seconds < MIN_DURATION_SECONDS {
        return Err(StsError::validation(format!(
            "Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have \
             value greater than or equal to {MIN_DURATION_SECONDS}"
        )));
    }
    if seconds > MAX_DURATION_SECONDS {
        return Err(StsError::validation(format!(
            "Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have \
             value less than or equal to {MAX_DURATION_SECONDS}"
        )));
    }
    Ok(Duration::from_secs(seconds.unsigned_abs()))
}

fn tags(form: &Form) -> Result<BTreeMap<String, String>, StsError> {
    let members = list_members(form, "Tags", "tags")?;
    if members.len() > MAX_TAGS {
        return Err(StsError::validation(format!(
            "Value at 'tags' failed to satisfy constraint: Member must have length less than or \
             equal to {MAX_TAGS}"
        )));
    }
    let mut tags = BTreeMap::new();
    let mut lowered_keys = Vec::new();
    for (index, fields) in members {
        let (key, value) = tag(index, &fields)?;
        let lowered = key.to_lowercase();
        if lowered_keys.contains(&lowered) {
            return Err(StsError::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidParameterValue",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        lowered_keys.push(lowered);
        tags.insert(key.to_owned(), value.to_owned());
    }
    Ok(tags)
}

fn tag<'a>(index: usize, fields: &[(&str, &'a str)]) -> Result<(&'a str, &'a str), StsError> {
    if let Some((rest, _)) = fields
        .iter()
        .find(|(rest, _)| *rest != ".Key" && *rest != ".Value")
    {
        return Err(unexpected_parameter(&format!("Tags.member.{index}{rest}")));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(rest, _)| *rest == name)
            .map(|(_, v)| *v)
    };
    let missing = |field: &str| {
        StsError::validation(format!(
            "Value null at 'tags.{index}.member.{field}' failed to satisfy constraint: Member must \
             not be null"
        ))
    };
    let key = field(".Key").ok_or_else(|| missing("key"))?;
    let value = field(".Value").ok_or_else(|| missing("value"))?;
    let key_chars = key.chars().count();
    if key_chars == 0 || key_chars > MAX_TAG_KEY_CHARS {
        return Err(StsError::validation(format!(
            "Value '{}' at 'tags.{index}.member.key' failed to satisfy constraint: Member must have \
             length between 1 and {MAX_TAG_KEY_CHARS}",
            echo(key)
        )));
    }
    if value.chars().count() > MAX_TAG_VALUE_CHARS {
        return Err(StsError::validation(format!(
            "Value '{}' at 'tags.{index}.member.value' failed to satisfy constraint: Member must \
             have length less than or equal to {MAX_TAG_VALUE_CHARS}",
            echo(value)
        )));
    }
    for (field, text) in [("key", key), ("value", value)] {
        if !text.chars().all(is_tag_char) {
            return Err(StsError::validation(format!(
                "Value '{}' at 'tags.{index}.member.{field}' failed to satisfy constraint: Member \
                 must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*",
                echo(text)
            )));
        }
    }
    Ok((key, value))
}

/// List members by index, each as `(text after the index, value)` pairs.
type Members<'a> = BTreeMap<usize, Vec<(&'a str, &'a str)>>;

/// The members of a list parameter by index, each as `(text after the index, value)` pairs.
///
/// Indices must run 1, 2, 3… without gaps; a bare `<Name>=` is the serializer's empty list.
fn list_members<'a>(
    form: &'a Form,
    name: &'a str,
    model_name: &str,
) -> Result<Members<'a>, StsError> {
    let mut by_index: BTreeMap<usize, Vec<(&str, &str)>> = BTreeMap::new();
    for (rest, value) in form.with_prefix(name) {
        let Some(after) = rest.strip_prefix(".member.") else {
            if rest.is_empty() {
                continue;
            }
            return Err(unexpected_parameter(&format!("{name}{rest}")));
        };
        let digits_end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let index = after[..digits_end]
            .parse::<usize>()
            .ok()
            .filter(|index| *index >= 1 && !after.starts_with('0'))
            .ok_or_else(|| {
                StsError::validation(format!(
                    "Value at '{model_name}' failed to satisfy constraint: list member index \
                     '{}' is not a positive integer",
                    echo(after)
                ))
            })?;
        by_index
            .entry(index)
            .or_default()
            .push((&after[digits_end..], value));
    }
    if let Some((&last, _)) = by_index.last_key_value()
        && last != by_index.len()
    {
        return Err(StsError::validation(format!(
            "Value at '{model_name}' failed to satisfy constraint: list member indices must run \
             from 1 without gaps"
        )));
    }
    Ok(by_index)
}

fn unexpected_parameter(name: &str) -> StsError {
    StsError::validation(format!("Parameter '{}' is not recognized", echo(name)))
}

/// The character class IAM allows in tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// A bounded excerpt of a caller's value for an error message.
fn echo(value: &str) -> String {
    value.chars().take(ECHO_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TokenParams, StsError> {
        TokenParams::from_form(&Form::parse(body.as_bytes()))
    }

    fn message(body: &str) -> String {
        let err = parse(body).unwrap_err();
        assert_eq!(err.code, "ValidationError", "{err:?}");
        err.message
    }

    #[test]
    fn sdk_shaped_body_is_read() {
        let params = parse(
            "Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1=api%3A%2F%2Fa\
             &Audience.member.2=b&DurationSeconds=900&SigningAlgorithm=ES384\
             &Tags.member.1.Key=team&Tags.member.1.Value=payments\
             &Tags.member.2.Key=empty&Tags.member.2.Value=",
        )
        .unwrap();
        assert_eq!(
            params,
            TokenParams {
                audiences: vec!["api://a".into(), "b".into()],
                algorithm: Algorithm::Es384,
                duration: Duration::from_secs(900),
                tags: BTreeMap::from([
                    ("team".into(), "payments".into()),
                    ("empty".into(), String::new())
                ]),
            }
        );
    }

    #[test]
    fn duration_defaults_to_300_seconds() {
        let params = parse("Audience.member.1=a&SigningAlgorithm=RS256").unwrap();
        assert_eq!(params.duration, Duration::from_secs(300));
        assert!(params.tags.is_empty());
    }

    #[test]
    fn missing_or_empty_audience_is_a_validation_error() {
        let null = "1 validation error detected: Value null at 'audience' failed to satisfy \
                    constraint: Member must not be null";
        assert_eq!(message("SigningAlgorithm=RS256"), null);
        assert_eq!(message("Audience=&SigningAlgorithm=RS256"), null);
    }

    #[test]
    fn audience_limits_are_enforced() {
        let eleven: String = (1..=11)
            .map(|i| format!("Audience.member.{i}=a{i}&"))
            .collect();
        assert!(
            message(&format!("{eleven}SigningAlgorithm=RS256"))
                .contains("less than or equal to 10")
        );
        let long = "x".repeat(1001);
        assert!(
            message(&format!("Audience.member.1={long}&SigningAlgorithm=RS256"))
                .contains("at 'audience.1.member' failed to satisfy constraint: Member must have length between 1 and 1000")
        );
        assert!(message("Audience.member.1=&SigningAlgorithm=RS256").contains("audience.1.member"));
        let multibyte = "é".repeat(1000);
        assert!(
            parse(&format!(
                "Audience.member.1={multibyte}&SigningAlgorithm=RS256"
            ))
            .is_ok()
        );
    }

    #[test]
    fn list_indices_must_be_contiguous_positive_integers() {
        for body in [
            "Audience.member.2=a&SigningAlgorithm=RS256",
            "Audience.member.0=a&SigningAlgorithm=RS256",
            "Audience.member.01=a&SigningAlgorithm=RS256",
            "Audience.member.x=a&SigningAlgorithm=RS256",
            "Audience.member.-1=a&SigningAlgorithm=RS256",
            "Audience.member.99999999999999999999999=a&SigningAlgorithm=RS256",
        ] {
            assert!(message(body).contains("at 'audience'"), "{body}");
        }
        assert!(
            message("Audience.member.1.extra=a&SigningAlgorithm=RS256").contains("not recognized")
        );
        assert!(message("Audiences.member.1=a&SigningAlgorithm=RS256").contains("not recognized"));
    }

    #[test]
    fn algorithm_must_be_rs256_or_es384_exactly() {
        assert!(message("Audience.member.1=a").contains("'signingAlgorithm'"));
        for bad in ["rs256", "HS256", "none", ""] {
            assert!(
                message(&format!("Audience.member.1=a&SigningAlgorithm={bad}"))
                    .contains("enum value set: [RS256, ES384]"),
                "{bad}"
            );
        }
    }

    #[test]
    fn duration_bounds_are_inclusive() {
        let with = |d: &str| {
            parse(&format!(
                "Audience.member.1=a&SigningAlgorithm=RS256&DurationSeconds={d}"
            ))
        };
        assert_eq!(with("60").unwrap().duration, Duration::from_secs(60));
        assert_eq!(with("3600").unwrap().duration, Duration::from_secs(3600));
        assert_eq!(
            with("59").unwrap_err().message,
            "1 validation error detected: Value '59' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value greater than or equal to 60"
        );
        assert_eq!(
            with("3601").unwrap_err().message,
            "1 validation error detected: Value '3601' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value less than or equal to 3600"
        );
        for bad in ["", "1e3", "300.0", "99999999999999999999", "ten"] {
            assert!(
                with(bad)
                    .unwrap_err()
                    .message
                    .contains("must be an integer"),
                "{bad}"
            );
        }
    }

    #[test]
    fn tag_limits_are_enforced() {
        let base = "Audience.member.1=a&SigningAlgorithm=RS256";
        let many: String = (1..=51)
            .map(|i| format!("&Tags.member.{i}.Key=k{i}&Tags.member.{i}.Value=v"))
            .collect();
        assert!(message(&format!("{base}{many}")).contains("at 'tags'"));
        let key = "k".repeat(129);
        assert!(
            message(&format!(
                "{base}&Tags.member.1.Key={key}&Tags.member.1.Value=v"
            ))
            .contains("tags.1.member.key")
        );
        let value = "v".repeat(257);
        assert!(
            message(&format!(
                "{base}&Tags.member.1.Key=k&Tags.member.1.Value={value}"
            ))
            .contains("tags.1.member.value")
        );
        assert!(
            message(&format!("{base}&Tags.member.1.Key=k"))
                .contains("Value null at 'tags.1.member.value'")
        );
        assert!(
            message(&format!("{base}&Tags.member.1.Value=v"))
                .contains("Value null at 'tags.1.member.key'")
        );
        assert!(
            message(&format!(
                "{base}&Tags.member.1.Key=k&Tags.member.1.Value=%3Cscript%3E"
            ))
            .contains("regular expression")
        );
        assert!(
            message(&format!("{base}&Tags.member.1.Key=k&Tags.member.1.Other=v"))
                .contains("not recognized")
        );
        let dup = parse(&format!(
            "{base}&Tags.member.1.Key=Team&Tags.member.1.Value=a&Tags.member.2.Key=team&Tags.member.2.Value=b"
        ))
        .unwrap_err();
        assert_eq!(dup.code, "InvalidParameterValue");
    }

    #[test]
    fn echoed_values_are_bounded() {
        let long = "x".repeat(10_000);
        let msg = message(&format!("Audience.member.1=a&SigningAlgorithm={long}"));
        assert!(msg.len() < 300, "{}", msg.len());
    }
}
