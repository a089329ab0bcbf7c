//! The SAM template's side of the authorizer: the demo rules it writes parse, and the largest
//! environment its parameters allow stays inside Lambda's 4 KB.
//!
//! `sam validate --lint` checks the template's CloudFormation, not what the function will make of
//! the values, so these read `template.yaml` as text.

use authorizer::Rules;

/// Lambda's limit on all environment variables of a function together.
const LAMBDA_ENVIRONMENT_LIMIT: usize = 4096;

/// The longest issuer AWS mints from: the China partition's host is the longer one.
const LONGEST_OWN_ISSUER: &str =
    "https://00000000-0000-0000-0000-000000000000.tokens.sts.global.api.amazonwebservices.com.cn";

/// A role ARN as CloudFormation names a stack's role, at IAM's 64-character name limit.
const CALLER_ROLE: &str = "arn:aws-cn:iam::111122223333:role/sts-authz-CallerRole-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcd";

fn template() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    std::fs::read_to_string(path).expect("template.yaml at the workspace root")
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Every folded block scalar (`>-`) of the template, folded as YAML folds it: lines joined by
/// one space.
fn folded_blocks(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if !line.trim_end().ends_with(">-") {
            continue;
        }
        let body: Vec<&str> = lines[at + 1..]
            .iter()
            .take_while(|next| next.trim().is_empty() || indent(next) > indent(line))
            .map(|next| next.trim())
            .collect();
        blocks.push(body.join(" ").trim().to_owned());
    }
    blocks
}

/// The demo rules documents, with `${CallerRole}` and `${OrderRoles}` left in.
fn demo_rule_documents(text: &str) -> Vec<String> {
    folded_blocks(text)
        .into_iter()
        .filter(|block| block.starts_with(r#"{"rules""#))
        .collect()
}

/// The `MaxLength` of a template parameter.
fn max_length(text: &str, parameter: &str) -> usize {
    let header = format!("  {parameter}:");
    let mut lines = text.lines().skip_while(|line| *line != header).skip(1);
    lines
        .by_ref()
        .take_while(|line| indent(line) > 2 || line.trim().is_empty())
        .find_map(|line| line.trim().strip_prefix("MaxLength: "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("parameter {parameter} has no MaxLength"))
}

/// The names of the authorizer's environment variables and, for fixed ones, their values.
fn authorizer_variables(text: &str) -> Vec<(String, Option<String>)> {
    let mut lines = text
        .lines()
        .skip_while(|line| *line != "  AuthorizerFunction:")
        .skip_while(|line| line.trim() != "Variables:");
    let Some(header) = lines.next() else {
        panic!("AuthorizerFunction has no environment variables");
    };
    let depth = indent(header) + 2;
    lines
        .take_while(|line| indent(line) >= depth || line.trim().is_empty())
        .filter(|line| indent(line) == depth)
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(':')?;
            let value = value.trim();
            let fixed = !value.starts_with('!') && !value.is_empty();
            Some((
                name.to_owned(),
                fixed.then(|| value.trim_matches('"').to_owned()),
            ))
        })
        .collect()
}

/// What a name or value costs when counted as JSON text: quotes around it, a separator, and a
/// backslash before each quote inside it. Lambda does not document how it counts its 4 KB, so
/// this takes the larger reading.
fn cost(value: &str) -> usize {
    value.len() + value.matches('"').count() + 3
}

/// A stand-in for a value of `length` characters, of which `quotes` are quotes.
fn filler(length: usize, quotes: usize) -> String {
    let quotes = quotes.min(length);
    format!("{}{}", "\"".repeat(quotes), "a".repeat(length - quotes))
}

/// Share of quotes in a rules document: the README's example has about one in five; budget for
/// one in four.
const RULES_QUOTE_SHARE: usize = 4;

#[test]
fn demo_rules_of_the_template_parse() {
    let text = template();
    let documents = demo_rule_documents(&text);
    assert_eq!(documents.len(), 2, "{documents:#?}");

    let order_roles =
        r#"arn:aws:iam::111122223333:role/writer-*","arn:aws:iam::444455556666:role/orders"#;
    let mut names = Vec::new();
    for document in &documents {
        let document = document
            .replace("${CallerRole}", CALLER_ROLE)
            .replace("${OrderRoles}", order_roles);
        let rules = Rules::parse(&document, "template.yaml").unwrap_or_else(|e| panic!("{e}"));
        names.push(
            rules
                .rules()
                .iter()
                .map(|r| r.name().to_owned())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        names,
        [vec!["demo-readers", "order-writers"], vec!["demo-readers"]]
    );
}

#[test]
fn largest_authorizer_environment_fits_lambdas_limit() {
    let text = template();
    let variables = authorizer_variables(&text);
    let named: Vec<&str> = variables.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        named,
        [
            "TRUSTED_ISSUERS",
            "ALLOWED_AUDIENCES",
            "ALLOWED_ALGORITHMS",
            "PREFETCH_KEYS",
            "HTTP_API_RESPONSE",
            "ACCESS_RULES"
        ]
    );
    let fixed: usize = variables
        .iter()
        .map(|(name, value)| cost(name) + value.as_deref().map_or(0, cost))
        .sum();

    // The parameters' patterns keep quotes out of issuers, audiences and role ARNs.
    let issuers = LONGEST_OWN_ISSUER.len() + 1 + max_length(&text, "TrustedIssuers");
    let rules_length = max_length(&text, "AccessRules");
    let custom_rules = cost(&filler(rules_length, rules_length / RULES_QUOTE_SHARE));
    let demo_rules = demo_rule_documents(&text)
        .iter()
        .map(|document| {
            // Each comma of OrderRoleArns becomes `","`; the shortest role ARN,
            // `arn:aws:iam::<12 digits>:role/<1 char>`, is 31 characters.
            let length = max_length(&text, "OrderRoleArns");
            let commas = length / 32;
            let roles = filler(length + 2 * commas, 2 * commas);
            let document = document
                .replace("${CallerRole}", CALLER_ROLE)
                .replace("${OrderRoles}", &roles);
            cost(&document)
        })
        .max()
        .unwrap_or(0);
    let largest = fixed
        + cost(&filler(issuers, 0))
        + cost(&filler(max_length(&text, "Audience"), 0))
        + custom_rules.max(demo_rules);
    assert!(
        largest <= LAMBDA_ENVIRONMENT_LIMIT,
        "the authorizer's environment may reach {largest} bytes \
         (custom rules {custom_rules}, demo rules {demo_rules})"
    );
}
