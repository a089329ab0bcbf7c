//! Access rules: which verified callers may call which routes.
//!
//! The document (inline in `ACCESS_RULES` or in the file `ACCESS_RULES_FILE`) is read once at
//! cold start; any fault is reported with the rule's index and name and the field at fault, so
//! the function fails its init instead of denying (or allowing) at random later.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sts_verifier::VerifiedCaller;
use tracing::warn;

use crate::glob::{Glob, GlobError};
use crate::route::{Route, RouteError, RoutePattern};

/// The variable holding the rules document inline.
pub const ACCESS_RULES: &str = "ACCESS_RULES";
/// The variable naming a file holding the rules document.
pub const ACCESS_RULES_FILE: &str = "ACCESS_RULES_FILE";

/// Largest rules document read, in bytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Why the rules document cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// Neither or both of `ACCESS_RULES` and `ACCESS_RULES_FILE` are set.
    #[error("set exactly one of ACCESS_RULES and ACCESS_RULES_FILE")]
    Source,
    /// `ACCESS_RULES_FILE` cannot be read.
    #[error("ACCESS_RULES_FILE {path:?} cannot be read: {source}")]
    Read {
        /// The file named.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The document is larger than one mebibyte.
    #[error("{origin}: document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// Where the document came from.
        origin: String,
    },
    /// The document is not JSON, or not an object with exactly a `rules` array.
    #[error("{origin}: not a rules document: {source}")]
    Document {
        /// Where the document came from.
        origin: String,
        /// What the JSON parser reported.
        #[source]
        source: serde_json::Error,
    },
    /// The `rules` array is empty, which would deny every caller.
    #[error("{origin}: \"rules\" is empty; add at least one rule")]
    Empty {
        /// Where the document came from.
        origin: String,
    },
    /// One rule is at fault.
    #[error("{origin}: rules[{index}]{}: {problem}", display_name(.name))]
    Rule {
        /// Where the document came from.
        origin: String,
        /// The rule's position in the `rules` array, from 0.
        index: usize,
        /// The rule's name, when it has a string one.
        name: Option<String>,
        /// What is wrong with it.
        #[source]
        problem: RuleProblem,
    },
}

fn display_name(name: &Option<String>) -> String {
    name.as_ref()
        .map(|name| format!(" ({name:?})"))
        .unwrap_or_default()
}

/// What is wrong with one rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleProblem {
    /// A field is unknown, missing or of the wrong type.
    #[error("{0}")]
    Shape(#[source] serde_json::Error),
    /// The name is not 1 to 64 characters of `A-Z a-z 0-9 _ . -`.
    #[error("name must be 1 to 64 characters of A-Z a-z 0-9 _ . -")]
    Name,
    /// Another rule has the same name.
    #[error("name is already used by rules[{0}]")]
    DuplicateName(usize),
    /// `routes` is empty.
    #[error("routes is empty; a rule must name at least one route")]
    NoRoutes,
    /// A route pattern does not parse.
    #[error("route {route:?}: {source}")]
    Route {
        /// The route as written.
        route: String,
        /// Why it does not parse.
        #[source]
        source: RouteError,
    },
    /// A condition list is empty, which would match nobody.
    #[error("callers.{0} is an empty list; leave it out to accept any value")]
    EmptyList(&'static str),
    /// An ARN pattern is not usable.
    #[error("callers.{field} value {value:?}: {source}")]
    Glob {
        /// The condition.
        field: &'static str,
        /// The pattern as written.
        value: String,
        /// Why it is not usable.
        #[source]
        source: GlobError,
    },
    /// An ARN pattern does not start with `arn:`.
    #[error("callers.{field} value {value:?} must start with \"arn:\"")]
    NotAnArn {
        /// The condition.
        field: &'static str,
        /// The pattern as written.
        value: String,
    },
    /// An account is not twelve digits.
    #[error("callers.accounts value {0:?} is not twelve digits")]
    Account(String),
    /// An organization id is not `o-` and 10 to 32 lower-case letters or digits.
    #[error("callers.org_ids value {0:?} is not an organization id like o-a1b2c3d4e5")]
    OrgId(String),
    /// An OU path prefix does not start with `o-` and end with `/`.
    #[error("callers.ou_path_prefixes value {0:?} must start with \"o-\" and end with \"/\"")]
    OuPath(String),
    /// A tag condition has an empty key, no values, or an over-long key or value.
    #[error(
        "callers.{field} key {key:?}: keys must be 1-128 characters with 1-256 character values"
    )]
    Tag {
        /// The condition.
        field: &'static str,
        /// The tag key as written.
        key: String,
    },
    /// `request_tags` used without `trust_request_tags`.
    #[error(
        "callers.request_tags are chosen by the caller when minting; set \"trust_request_tags\": \
         true only if an IAM policy constrains aws:RequestTag in the callers' accounts"
    )]
    UntrustedRequestTags,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentSpec {
    rules: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    routes: Vec<String>,
    callers: CallersSpec,
    #[serde(default)]
    trust_request_tags: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallersSpec {
    role_arns: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    org_ids: Option<Vec<String>>,
    ou_path_prefixes: Option<Vec<String>>,
    principal_tags: Option<BTreeMap<String, Vec<String>>>,
    source_function_arns: Option<Vec<String>>,
    request_tags: Option<BTreeMap<String, Vec<String>>>,
}

/// What the rules look at in a verified caller.
///
/// Built from a [`VerifiedCaller`]; tests build it directly.
#[derive(Debug, Clone, Copy)]
pub struct CallerFacts<'a> {
    /// The role ARN (`sub`).
    pub role_arn: &'a str,
    /// The role's account.
    pub account: &'a str,
    /// The AWS Organizations id, when the token carries one.
    pub org_id: Option<&'a str>,
    /// The organizational unit paths.
    pub ou_paths: &'a [String],
    /// The role's principal tags.
    pub principal_tags: &'a BTreeMap<String, String>,
    /// The Lambda function that minted the token, when one did.
    pub source_function_arn: Option<&'a str>,
    /// Tags the caller chose when minting.
    pub request_tags: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a VerifiedCaller> for CallerFacts<'a> {
    fn from(caller: &'a VerifiedCaller) -> Self {
        let aws = caller.aws();
        Self {
            role_arn: caller.role().as_str(),
            account: caller.account().as_str(),
            org_id: aws.org_id.as_deref(),
            ou_paths: &aws.ou_paths,
            principal_tags: &aws.principal_tags,
            source_function_arn: aws.lambda_source_function_arn.as_deref(),
            request_tags: caller.request_tags().as_map(),
        }
    }
}

type TagCondition = Vec<(String, Vec<String>)>;

#[derive(Debug, Default)]
struct Callers {
    role_arns: Option<Vec<Glob>>,
    accounts: Option<Vec<String>>,
    org_ids: Option<Vec<String>>,
    ou_path_prefixes: Option<Vec<String>>,
    principal_tags: Option<TagCondition>,
    source_function_arns: Option<Vec<Glob>>,
    request_tags: Option<TagCondition>,
}

impl Callers {
    fn matches(&self, caller: &CallerFacts<'_>) -> bool {
        self.role_arns
            .as_ref()
            .is_none_or(|globs| any_glob(globs, Some(caller.role_arn)))
            && self
                .accounts
                .as_ref()
                .is_none_or(|list| list.iter().any(|a| a == caller.account))
            && self.org_ids.as_ref().is_none_or(|list| {
                caller
                    .org_id
                    .is_some_and(|org| list.iter().any(|o| o == org))
            })
            && self.ou_path_prefixes.as_ref().is_none_or(|prefixes| {
                caller
                    .ou_paths
                    .iter()
                    .any(|path| prefixes.iter().any(|p| path.starts_with(p)))
            })
            && self
                .principal_tags
                .as_ref()
                .is_none_or(|tags| tags_match(tags, caller.principal_tags))
            && self
                .source_function_arns
                .as_ref()
                .is_none_or(|globs| any_glob(globs, caller.source_function_arn))
            && self
                .request_tags
                .as_ref()
                .is_none_or(|tags| tags_match(tags, caller.request_tags))
    }
}

fn any_glob(globs: &[Glob], text: Option<&str>) -> bool {
    text.is_some_and(|text| globs.iter().any(|glob| glob.matches(text)))
}

fn tags_match(wanted: &TagCondition, actual: &BTreeMap<String, String>) -> bool {
    wanted
        .iter()
        .all(|(key, values)| actual.get(key).is_some_and(|value| values.contains(value)))
}

/// One access rule.
#[derive(Debug)]
pub struct Rule {
    name: String,
    route_ids: Vec<usize>,
    callers: Callers,
}

impl Rule {
    /// The rule's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The parsed access rules.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    /// Every distinct route pattern of every rule.
    patterns: Vec<RoutePattern>,
    /// Pairs `(a, b)` where denying what pattern `a`'s resource allows beyond it would take away
    /// a path pattern `b` allows.
    conflicts: HashSet<(usize, usize)>,
}

impl Rules {
    /// Reads the document from `ACCESS_RULES` or `ACCESS_RULES_FILE`.
    ///
    /// # Errors
    ///
    /// A [`RulesError`]: neither or both set, the file unreadable, or the document invalid.
    pub fn from_env() -> Result<Self, RulesError> {
        let inline = std::env::var(ACCESS_RULES)
            .ok()
            .filter(|text| !text.is_empty());
        let file = std::env::var_os(ACCESS_RULES_FILE).filter(|path| !path.is_empty());
        Self::load(inline.as_deref(), file.as_deref().map(Path::new))
    }

    /// Reads the document from inline text or from a file; exactly one must be given.
    ///
    /// # Errors
    ///
    /// As [`Self::from_env`].
    pub fn load(inline: Option<&str>, file: Option<&Path>) -> Result<Self, RulesError> {
        match (inline, file) {
            (Some(text), None) => Self::parse(text, ACCESS_RULES),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::parse(&text, &format!("{ACCESS_RULES_FILE} {}", path.display()))
            }
            _ => Err(RulesError::Source),
        }
    }

    /// Parses a rules document; `origin` names where it came from in error messages.
    ///
    /// Checks every field: unknown fields, route patterns, ARN patterns, account and organization
    /// ids, OU path prefixes, tag conditions, `request_tags` without `trust_request_tags`,
    /// duplicate names and empty lists. Also logs a warning for routes that cannot share one exact
    /// cached policy (see the README's caching section).
    ///
    /// # Errors
    ///
    /// A [`RulesError`] for the first fault, naming the rule and field.
    pub fn parse(text: &str, origin: &str) -> Result<Self, RulesError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(RulesError::TooLarge {
                origin: origin.to_owned(),
            });
        }
        let document: DocumentSpec =
            serde_json::from_str(text).map_err(|source| RulesError::Document {
                origin: origin.to_owned(),
                source,
            })?;
        if document.rules.is_empty() {
            return Err(RulesError::Empty {
                origin: origin.to_owned(),
            });
        }

        let mut builder = Builder::default();
        for (index, spec) in document.rules.into_iter().enumerate() {
            let name = spec.get("name").and_then(Value::as_str).map(str::to_owned);
            builder
                .add(index, spec)
                .map_err(|problem| RulesError::Rule {
                    origin: origin.to_owned(),
                    index,
                    name,
                    problem,
                })?;
        }
        Ok(builder.finish())
    }

    /// The rules in document order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules whose caller conditions the caller meets.
    pub fn grants<'r>(&'r self, caller: &CallerFacts<'_>) -> Grants<'r> {
        let matched = self
            .rules
            .iter()
            .filter(|rule| rule.callers.matches(caller))
            .collect();
        Grants {
            rules: self,
            matched,
        }
    }

    pub(crate) fn pattern(&self, id: usize) -> &RoutePattern {
        &self.patterns[id]
    }

    pub(crate) fn conflict(&self, overflowing: usize, other: usize) -> bool {
        self.conflicts.contains(&(overflowing, other))
    }
}

/// The rules that match one caller: everything the caller may call.
#[derive(Debug, Clone)]
pub struct Grants<'r> {
    rules: &'r Rules,
    matched: Vec<&'r Rule>,
}

impl<'r> Grants<'r> {
    /// The first matching rule (in document order) that allows `route`.
    pub fn rule_for(&self, route: &Route) -> Option<&'r Rule> {
        self.matched.iter().copied().find(|rule| {
            rule.route_ids
                .iter()
                .any(|&id| self.rules.pattern(id).matches(route))
        })
    }

    /// Whether no rule matches the caller.
    pub fn is_empty(&self) -> bool {
        self.matched.is_empty()
    }

    /// The names of the matching rules, comma-separated in document order.
    pub fn names(&self) -> String {
        self.matched
            .iter()
            .map(|rule| rule.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The rules these grants come from.
    pub fn rules(&self) -> &'r Rules {
        self.rules
    }

    /// The distinct route patterns granted, as ids into [`Rules`].
    pub(crate) fn pattern_ids(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = self
            .matched
            .iter()
            .flat_map(|rule| rule.route_ids.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[derive(Default)]
struct Builder {
    rules: Vec<Rule>,
    names: HashMap<String, usize>,
    patterns: Vec<RoutePattern>,
    pattern_ids: HashMap<String, usize>,
}

impl Builder {
    fn add(&mut self, index: usize, spec: Value) -> Result<(), RuleProblem> {
        let spec: RuleSpec = serde_json::from_value(spec).map_err(RuleProblem::Shape)?;
        if !valid_name(&spec.name) {
            return Err(RuleProblem::Name);
        }
        if let Some(&first) = self.names.get(&spec.name) {
            return Err(RuleProblem::DuplicateName(first));
        }
        if spec.routes.is_empty() {
            return Err(RuleProblem::NoRoutes);
        }
        let mut route_ids = Vec::with_capacity(spec.routes.len());
        for route in &spec.routes {
            let pattern = RoutePattern::parse(route).map_err(|source| RuleProblem::Route {
                route: route.clone(),
                source,
            })?;
            route_ids.push(self.intern(pattern));
        }
        let callers = parse_callers(spec.callers, spec.trust_request_tags)?;

        self.names.insert(spec.name.clone(), index);
        self.rules.push(Rule {
            name: spec.name,
            route_ids,
            callers,
        });
        Ok(())
    }

    fn intern(&mut self, pattern: RoutePattern) -> usize {
        if let Some(&id) = self.pattern_ids.get(pattern.as_str()) {
            return id;
        }
        let id = self.patterns.len();
        self.pattern_ids.insert(pattern.as_str().to_owned(), id);
        self.patterns.push(pattern);
        id
    }

    fn finish(self) -> Rules {
        let mut conflicts = HashSet::new();
        for (a, overflowing) in self.patterns.iter().enumerate() {
            if overflowing.path().is_exact_glob() {
                continue;
            }
            for (b, other) in self.patterns.iter().enumerate() {
                if overflowing.method().overlaps(other.method())
                    && overflowing.path().overflow_meets(other.path())
                {
                    conflicts.insert((a, b));
                    warn!(
                        route = overflowing.as_str(),
                        other = other.as_str(),
                        "routes cannot share one exact cached policy; callers granted both get a \
                         policy for the requested route only"
                    );
                }
            }
        }
        Rules {
            rules: self.rules,
            patterns: self.patterns,
            conflicts,
        }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

fn parse_callers(spec: CallersSpec, trust_request_tags: bool) -> Result<Callers, RuleProblem> {
    if spec.request_tags.is_some() && !trust_request_tags {
        return Err(RuleProblem::UntrustedRequestTags);
    }
    Ok(Callers {
        role_arns: arn_globs("role_arns", spec.role_arns)?,
        accounts: checked_list("accounts", spec.accounts, |account| {
            let ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            ok.then_some(())
                .ok_or_else(|| RuleProblem::Account(account.to_owned()))
        })?,
        org_ids: checked_list("org_ids", spec.org_ids, |org| {
            let ok = org.strip_prefix("o-").is_some_and(|id| {
                (10..=32).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            ok.then_some(())
                .ok_or_else(|| RuleProblem::OrgId(org.to_owned()))
        })?,
        ou_path_prefixes: checked_list("ou_path_prefixes", spec.ou_path_prefixes, |prefix| {
            // Without the closing `/`, `.../ou-1` would also match `.../ou-12/`.
            let ok = prefix.starts_with("o-") && prefix.ends_with('/');
            ok.then_some(())
                .ok_or_else(|| RuleProblem::OuPath(prefix.to_owned()))
        })?,
        principal_tags: tag_condition("principal_tags", spec.principal_tags)?,
        source_function_arns: arn_globs("source_function_arns", spec.source_function_arns)?,
        request_tags: tag_condition("request_tags", spec.request_tags)?,
    })
}

fn checked_list(
    field: &'static str,
    list: Option<Vec<String>>,
    check: impl Fn(&str) -> Result<(), RuleProblem>,
) -> Result<Option<Vec<String>>, RuleProblem> {
    let Some(list) = list else { return Ok(None) };
    if list.is_empty() {
        return Err(RuleProblem::EmptyList(field));
    }
    list.iter().try_for_each(|item| check(item))?;
    Ok(Some(list))
}

fn arn_globs(
    field: &'static str,
    list: Option<Vec<String>>,
) -> Result<Option<Vec<Glob>>, RuleProblem> {
    let Some(list) = checked_list(field, list, |value| {
        if value.starts_with("arn:") {
            Ok(())
        } else {
            Err(RuleProblem::NotAnArn {
                field,
                value: value.to_owned(),
            })
        }
    })?
    else {
        return Ok(None);
    };
    list.into_iter()
        .map(|value| {
            Glob::parse(&value).map_err(|source| RuleProblem::Glob {
                field,
                value,
                source,
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn tag_condition(
    field: &'static str,
    tags: Option<BTreeMap<String, Vec<String>>>,
) -> Result<Option<TagCondition>, RuleProblem> {
    let Some(tags) = tags else { return Ok(None) };
    if tags.is_empty() {
        return Err(RuleProblem::EmptyList(field));
    }
    for (key, values) in &tags {
        let ok = (1..=128).contains(&key.chars().count())
            && !values.is_empty()
            && values
                .iter()
                .all(|value| (1..=256).contains(&value.chars().count()));
        if !ok {
            return Err(RuleProblem::Tag {
                field,
                key: key.clone(),
            });
        }
    }
    Ok(Some(tags.into_iter().collect()))
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/caller-fn";

    struct Facts {
        role_arn: String,
        account: String,
        org_id: Option<String>,
        ou_paths: Vec<String>,
        principal_tags: BTreeMap<String, String>,
        source_function_arn: Option<String>,
        request_tags: BTreeMap<String, String>,
    }

    impl Facts {
        fn new() -> Self {
            Self {
                role_arn: ROLE.into(),
                account: "111122223333".into(),
                org_id: Some("o-a1b2c3d4e5".into()),
                ou_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".into()],
                principal_tags: BTreeMap::from([("team".into(), "payments".into())]),
                source_function_arn: Some(
                    "arn:aws:lambda:eu-west-1:111122223333:function:caller-fn".into(),
                ),
                request_tags: BTreeMap::from([("purpose".into(), "batch".into())]),
            }
        }

        fn view(&self) -> CallerFacts<'_> {
            CallerFacts {
                role_arn: &self.role_arn,
                account: &self.account,
                org_id: self.org_id.as_deref(),
                ou_paths: &self.ou_paths,
                principal_tags: &self.principal_tags,
                source_function_arn: self.source_function_arn.as_deref(),
                request_tags: &self.request_tags,
            }
        }
    }

    fn rules(document: Value) -> Rules {
        Rules::parse(&document.to_string(), "ACCESS_RULES").unwrap()
    }

    fn one_rule(callers: Value) -> Rules {
        rules(json!({"rules": [{
            "name": "r", "routes": ["GET /hello"], "callers": callers, "trust_request_tags": true
        }]}))
    }

    fn error(document: Value) -> String {
        Rules::parse(&document.to_string(), "ACCESS_RULES")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn empty_callers_match_any_verified_caller() {
        let rules = one_rule(json!({}));
        assert_eq!(rules.grants(&Facts::new().view()).names(), "r");
    }

    #[test]
    fn each_condition_must_hold() {
        let cases = [
            json!({"role_arns": ["arn:aws:iam::111122223333:role/caller-*"]}),
            json!({"accounts": ["999988887777", "111122223333"]}),
            json!({"org_ids": ["o-a1b2c3d4e5"]}),
            json!({"ou_path_prefixes": ["o-a1b2c3d4e5/r-ab12/"]}),
            json!({"principal_tags": {"team": ["risk", "payments"]}}),
            json!({"source_function_arns": ["arn:aws:lambda:*:111122223333:function:caller-*"]}),
            json!({"request_tags": {"purpose": ["batch"]}}),
        ];
        for callers in cases {
            assert!(
                !one_rule(callers.clone())
                    .grants(&Facts::new().view())
                    .is_empty(),
                "{callers}"
            );
        }

        let mut facts = Facts::new();
        facts.role_arn = "arn:aws:iam::111122223333:role/other".into();
        facts.account = "999988887777".into();
        facts.org_id = None;
        facts.ou_paths = vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/".into()];
        facts
            .principal_tags
            .insert("team".into(), "risk-not".into());
        facts.source_function_arn = None;
        facts.request_tags.clear();
        let misses = [
            json!({"role_arns": ["arn:aws:iam::111122223333:role/caller-*"]}),
            json!({"accounts": ["111122223333"]}),
            json!({"org_ids": ["o-a1b2c3d4e5"]}),
            json!({"ou_path_prefixes": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]}),
            json!({"principal_tags": {"team": ["risk", "payments"]}}),
            json!({"source_function_arns": ["arn:aws:lambda:*:111122223333:function:*"]}),
            json!({"request_tags": {"purpose": ["batch"]}}),
        ];
        for callers in misses {
            assert!(
                one_rule(callers.clone()).grants(&facts.view()).is_empty(),
                "{callers}"
            );
        }
    }

    #[test]
    fn all_conditions_of_a_rule_are_combined() {
        let rules = one_rule(json!({
            "accounts": ["111122223333"],
            "principal_tags": {"team": ["risk"]}
        }));
        assert!(rules.grants(&Facts::new().view()).is_empty());
    }

    #[test]
    fn first_rule_allowing_the_route_is_reported() {
        let rules = rules(json!({"rules": [
            {"name": "readers", "routes": ["GET /hello", "GET /whoami"], "callers": {}},
            {"name": "writers", "routes": ["POST /orders", "GET /hello"], "callers": {"accounts": ["111122223333"]}},
            {"name": "others", "routes": ["*"], "callers": {"accounts": ["999988887777"]}}
        ]}));
        let grants = rules.grants(&Facts::new().view());
        assert_eq!(grants.names(), "readers,writers");
        assert_eq!(
            grants
                .rule_for(&Route::new("GET", "/hello"))
                .map(Rule::name),
            Some("readers")
        );
        assert_eq!(
            grants
                .rule_for(&Route::new("POST", "/orders"))
                .map(Rule::name),
            Some("writers")
        );
        assert_eq!(
            grants
                .rule_for(&Route::new("DELETE", "/orders"))
                .map(Rule::name),
            None
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let message = error(
            json!({"rules": [{"name": "r", "routes": ["GET /x"], "callers": {"role_arn": []}}]}),
        );
        assert!(
            message.starts_with("ACCESS_RULES: rules[0] (\"r\"): unknown field `role_arn`"),
            "{message}"
        );
        let message = error(
            json!({"rules": [{"name": "r", "routes": ["GET /x"], "callers": {}, "extra": 1}]}),
        );
        assert!(message.contains("unknown field `extra`"), "{message}");
        let message = error(json!({"rules": [], "version": 1}));
        assert!(message.contains("unknown field `version`"), "{message}");
    }

    #[test]
    fn rule_faults_name_the_rule_and_field() {
        let ok = json!({"name": "ok", "routes": ["GET /x"], "callers": {}});
        let cases = [
            (
                json!({"name": "bad name", "routes": ["GET /x"], "callers": {}}),
                "rules[1] (\"bad name\"): name must be 1 to 64 characters of A-Z a-z 0-9 _ . -",
            ),
            (
                json!({"name": "ok", "routes": ["GET /x"], "callers": {}}),
                "rules[1] (\"ok\"): name is already used by rules[0]",
            ),
            (
                json!({"name": "n", "routes": [], "callers": {}}),
                "rules[1] (\"n\"): routes is empty; a rule must name at least one route",
            ),
            (
                json!({"name": "n", "routes": ["GET /orders/{id}"], "callers": {}}),
                "rules[1] (\"n\"): route \"GET /orders/{id}\": {parameter} segments never match a request; use * for one segment",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"accounts": []}}),
                "rules[1] (\"n\"): callers.accounts is an empty list; leave it out to accept any value",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"accounts": ["1234"]}}),
                "rules[1] (\"n\"): callers.accounts value \"1234\" is not twelve digits",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"org_ids": ["o-ABC"]}}),
                "rules[1] (\"n\"): callers.org_ids value \"o-ABC\" is not an organization id like o-a1b2c3d4e5",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"ou_path_prefixes": ["o-a/r-b/ou-c"]}}),
                "rules[1] (\"n\"): callers.ou_path_prefixes value \"o-a/r-b/ou-c\" must start with \"o-\" and end with \"/\"",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"role_arns": ["caller-*"]}}),
                "rules[1] (\"n\"): callers.role_arns value \"caller-*\" must start with \"arn:\"",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"role_arns": ["arn:aws:iam::1:role/a b"]}}),
                "rules[1] (\"n\"): callers.role_arns value \"arn:aws:iam::1:role/a b\": pattern holds whitespace or a control character",
            ),
            (
                json!({"name": "n", "routes": ["GET /x"], "callers": {"principal_tags": {"team": []}}}),
                "rules[1] (\"n\"): callers.principal_tags key \"team\": keys must be 1-128 characters with 1-256 character values",
            ),
        ];
        for (rule, expected) in cases {
            let message = error(json!({"rules": [ok, rule]}));
            assert_eq!(message, format!("ACCESS_RULES: {expected}"));
        }
    }

    #[test]
    fn request_tags_need_explicit_trust() {
        let message = error(json!({"rules": [{
            "name": "batch", "routes": ["POST /orders"], "callers": {"request_tags": {"purpose": ["batch"]}}
        }]}));
        assert!(
            message.starts_with(
                "ACCESS_RULES: rules[0] (\"batch\"): callers.request_tags are chosen by the caller"
            ),
            "{message}"
        );
    }

    #[test]
    fn missing_callers_or_wrong_types_are_shape_errors() {
        let message = error(json!({"rules": [{"name": "n", "routes": ["GET /x"]}]}));
        assert_eq!(
            message,
            "ACCESS_RULES: rules[0] (\"n\"): missing field `callers`"
        );
        let message = error(json!({"rules": [{"name": 7, "routes": ["GET /x"], "callers": {}}]}));
        assert!(
            message.starts_with("ACCESS_RULES: rules[0]: invalid type: integer `7`"),
            "{message}"
        );
    }

    #[test]
    fn documents_that_are_not_rules_are_rejected() {
        assert_eq!(
            error(json!({"rules": []})),
            "ACCESS_RULES: \"rules\" is empty; add at least one rule"
        );
        assert!(
            Rules::parse("not json", "ACCESS_RULES")
                .unwrap_err()
                .to_string()
                .starts_with("ACCESS_RULES: not a rules document")
        );
        assert!(Rules::parse("[]", "ACCESS_RULES").is_err());
        let huge = format!("{{\"rules\": [{}]}}", " ".repeat(MAX_DOCUMENT_BYTES));
        assert!(matches!(
            Rules::parse(&huge, "ACCESS_RULES"),
            Err(RulesError::TooLarge { .. })
        ));
    }

    #[test]
    fn exactly_one_source_is_required() {
        assert!(matches!(Rules::load(None, None), Err(RulesError::Source)));
        let both = Rules::load(Some("{}"), Some(Path::new("/nonexistent")));
        assert!(matches!(both, Err(RulesError::Source)));
        let missing = Rules::load(None, Some(Path::new("/nonexistent/rules.json"))).unwrap_err();
        assert!(matches!(missing, RulesError::Read { .. }), "{missing:?}");
    }

    #[test]
    fn file_source_is_named_in_errors() {
        let dir = std::env::temp_dir().join(format!("authorizer-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.json");
        std::fs::write(
            &path,
            r#"{"rules": [{"name": "n", "routes": ["GET x"], "callers": {}}]}"#,
        )
        .unwrap();
        let message = Rules::load(None, Some(&path)).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "ACCESS_RULES_FILE {}: rules[0] (\"n\"): route \"GET x\": path must start with /",
                path.display()
            )
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn shared_patterns_are_interned_once() {
        let rules = rules(json!({"rules": [
            {"name": "a", "routes": ["GET /hello"], "callers": {}},
            {"name": "b", "routes": ["GET /hello", "POST /orders"], "callers": {}}
        ]}));
        assert_eq!(rules.patterns.len(), 2);
        assert_eq!(rules.grants(&Facts::new().view()).pattern_ids(), [0, 1]);
    }

    #[test]
    fn conflicting_patterns_are_found_at_load() {
        let rules = rules(json!({"rules": [
            {"name": "a", "routes": ["GET /a/*/c", "GET /a/*/*/c", "POST /a/*/*/c"], "callers": {}}
        ]}));
        assert!(rules.conflict(0, 1));
        assert!(!rules.conflict(0, 2));
        assert!(!rules.conflict(1, 0));
        assert!(!rules.conflict(0, 0));
    }
}
