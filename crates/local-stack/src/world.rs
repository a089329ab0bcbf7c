//! The demo world the local stack runs: accounts, roles, the audience and the access rules.
//!
//! Everything here is made up; the shapes (account ids, role and function ARNs, organization and
//! OU ids) follow AWS's formats so the tokens carry realistic claims.

use std::collections::BTreeMap;

use crate::issuer::{Algorithm, Identity};
use crate::sts::Principal;

/// The region every local service claims to run in.
pub const REGION: &str = "us-east-1";
/// The account that runs the protected API.
pub const HOME_ACCOUNT: &str = "111111111111";
/// Another account whose issuer the authorizer trusts.
pub const PARTNER_ACCOUNT: &str = "222222222222";
/// An account whose issuer the authorizer does not trust.
pub const OUTSIDER_ACCOUNT: &str = "333333333333";
/// The organization of the home account.
pub const HOME_ORG: &str = "o-exampleorg1";
/// The audience the protected API accepts and the callers ask for. Not URL-shaped: AWS CLI v1
/// would try to download a parameter that starts with `https://`.
pub const AUDIENCE: &str = "orders-api";

/// The access rules the local authorizer runs with, in the documented rules format.
pub const ACCESS_RULES: &str = r#"{
  "rules": [
    {
      "name": "org-readers",
      "routes": ["GET /hello", "GET /whoami"],
      "callers": { "org_ids": ["o-exampleorg1"] }
    },
    {
      "name": "payments-orders",
      "routes": ["POST /orders"],
      "callers": { "accounts": ["111111111111"], "principal_tags": { "team": ["payments"] } }
    },
    {
      "name": "partner-hello",
      "routes": ["GET /hello"],
      "callers": { "role_arns": ["arn:aws:iam::222222222222:role/partner-*"] }
    }
  ]
}"#;

/// Which local issuer (and STS) a persona's account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    /// The home account, whose issuer is trusted.
    Home,
    /// The partner account, whose issuer is trusted too.
    Partner,
    /// The outsider account, whose issuer is not trusted.
    Outsider,
}

/// A workload with an IAM role that asks STS for tokens.
#[derive(Debug, Clone)]
pub struct Persona {
    /// Short name, also the caller function's name in the local stack.
    pub name: &'static str,
    /// Which account's issuer signs its tokens.
    pub realm: Realm,
    /// The algorithm its caller function asks for.
    pub algorithm: Algorithm,
    /// The local access key id that stands for the role's credentials.
    pub access_key_id: &'static str,
    /// The matching secret key (local only; it signs requests to the local STS).
    pub secret_access_key: &'static str,
    /// The identity STS reports for it.
    pub identity: Identity,
}

impl Persona {
    /// The STS principal for this persona.
    pub fn principal(&self) -> Principal {
        Principal::new(
            self.access_key_id,
            self.secret_access_key,
            self.identity.clone(),
        )
    }
}

/// The orders service's role in the home account, team `payments`, calling with RS256.
pub fn orders_caller() -> Persona {
    Persona {
        name: "orders-caller",
        realm: Realm::Home,
        algorithm: Algorithm::Rs256,
        access_key_id: "AKIALOCALORDERS00001",
        secret_access_key: "local-orders-caller-secret",
        identity: lambda_identity(HOME_ACCOUNT, "orders-caller", "payments", Some(HOME_ORG)),
    }
}

/// The same role as [`orders_caller`], asking for ES384 tokens.
pub fn orders_caller_es384() -> Persona {
    Persona {
        name: "orders-caller-es384",
        algorithm: Algorithm::Es384,
        ..orders_caller()
    }
}

/// A reporting job's role in the home account, team `analytics`: it may read, not order.
pub fn reporting_batch() -> Persona {
    let mut identity =
        lambda_identity(HOME_ACCOUNT, "reporting-batch", "analytics", Some(HOME_ORG));
    identity.lambda_source_function_arn = None;
    identity.ec2_source_instance_arn = Some(format!(
        "arn:aws:ec2:{REGION}:{HOME_ACCOUNT}:instance/i-0123456789abcdef0"
    ));
    identity.ec2_instance_source_vpc = Some("vpc-0a1b2c3d4e5f67890".to_owned());
    Persona {
        name: "reporting-batch",
        realm: Realm::Home,
        algorithm: Algorithm::Rs256,
        access_key_id: "AKIALOCALREPORTING01",
        secret_access_key: "local-reporting-batch-secret",
        identity,
    }
}

/// A partner's role in another account with a trusted issuer, calling with ES384.
pub fn partner_caller() -> Persona {
    Persona {
        name: "partner-caller",
        realm: Realm::Partner,
        algorithm: Algorithm::Es384,
        access_key_id: "AKIALOCALPARTNER0001",
        secret_access_key: "local-partner-caller-secret",
        identity: lambda_identity(PARTNER_ACCOUNT, "partner-caller", "partners", None),
    }
}

/// A role in an account whose issuer nobody configured as trusted.
pub fn outsider() -> Persona {
    Persona {
        name: "outsider",
        realm: Realm::Outsider,
        algorithm: Algorithm::Rs256,
        access_key_id: "AKIALOCALOUTSIDER001",
        secret_access_key: "local-outsider-secret",
        identity: lambda_identity(OUTSIDER_ACCOUNT, "outsider", "payments", Some(HOME_ORG)),
    }
}

/// Every persona, in the order the walk-through meets them.
pub fn personas() -> Vec<Persona> {
    vec![
        orders_caller(),
        orders_caller_es384(),
        reporting_batch(),
        partner_caller(),
        outsider(),
    ]
}

fn lambda_identity(account: &str, role: &str, team: &str, org: Option<&str>) -> Identity {
    let ou_paths = org.map(|org| vec![format!("{org}/r-ab12/ou-ab12-11111111/")]);
    Identity {
        role_arn: format!("arn:aws:iam::{account}:role/{role}"),
        account: account.to_owned(),
        org_id: org.map(str::to_owned),
        ou_paths: ou_paths.unwrap_or_default(),
        principal_tags: BTreeMap::from([("team".to_owned(), team.to_owned())]),
        source_region: REGION.to_owned(),
        lambda_source_function_arn: Some(format!(
            "arn:aws:lambda:{REGION}:{account}:function:{role}"
        )),
        ..Identity::default()
    }
}
