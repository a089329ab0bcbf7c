//! The whole system on loopback: issuers, STS, the three Lambda functions run from their compiled
//! binaries through the Runtime API, a REST API and an HTTP API in front of them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::binaries::{self, BinariesError};
use crate::gateway::{
    self, Gateway, HttpApi, HttpAuthorizer, PayloadVersion, RestApi, RestAuthorizer,
};
use crate::issuer::LocalIssuer;
use crate::runtime::{
    FunctionSpec, Invoke, LambdaFunction, LambdaService, LogFormat, LogSink, StartError,
};
use crate::sts::{LocalSts, StsConfig};
use crate::world::{self, Persona, Realm};

/// The routes of the protected API, as API Gateway route keys.
pub const ROUTES: [&str; 3] = ["GET /hello", "GET /whoami", "POST /orders"];

/// Loopback ports of the local services; 0 picks a free one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The home account's STS endpoint.
    pub sts: u16,
    /// The partner account's STS endpoint.
    pub partner_sts: u16,
    /// The outsider account's STS endpoint.
    pub outsider_sts: u16,
    /// The home account's issuer.
    pub issuer: u16,
    /// The partner account's issuer.
    pub partner_issuer: u16,
    /// The outsider account's issuer.
    pub outsider_issuer: u16,
    /// The REST API.
    pub rest_api: u16,
    /// The HTTP API.
    pub http_api: u16,
    /// The Lambda Invoke API.
    pub lambda: u16,
}

impl Ports {
    /// Fixed ports, so the commands printed for manual use stay the same from run to run.
    pub const FIXED: Self = Self {
        sts: 4510,
        partner_sts: 4511,
        outsider_sts: 4512,
        issuer: 4520,
        partner_issuer: 4521,
        outsider_issuer: 4522,
        rest_api: 4530,
        http_api: 4531,
        lambda: 4540,
    };

    /// Any free ports, for tests that run side by side.
    pub const EPHEMERAL: Self = Self {
        sts: 0,
        partner_sts: 0,
        outsider_sts: 0,
        issuer: 0,
        partner_issuer: 0,
        outsider_issuer: 0,
        rest_api: 0,
        http_api: 0,
        lambda: 0,
    };
}

/// How to run the local stack.
#[derive(Clone)]
pub struct StackOptions {
    /// Where the services listen.
    pub ports: Ports,
    /// The REST API's authorizer result TTL (API Gateway's default is 300 s).
    pub rest_cache_ttl: Duration,
    /// The HTTP API's authorizer result TTL.
    pub http_cache_ttl: Duration,
    /// The authorizer's key cache lifetime (`JWKS_CACHE_TTL_SECONDS`).
    pub key_cache_ttl: Duration,
    /// The authorizer's refetch cool-down for unknown key ids (`JWKS_REFETCH_COOLDOWN_SECONDS`).
    pub refetch_cooldown: Duration,
    /// The `AWS_LAMBDA_LOG_LEVEL` of the functions.
    pub log_level: String,
    /// Where function logs go.
    pub log_sink: Arc<dyn LogSink>,
}

impl StackOptions {
    /// Options for `ports` with API Gateway's default cache TTL and the functions' defaults.
    pub fn new(ports: Ports, log_sink: impl LogSink) -> Self {
        Self {
            ports,
            rest_cache_ttl: Duration::from_secs(300),
            http_cache_ttl: Duration::from_secs(300),
            key_cache_ttl: Duration::from_secs(900),
            refetch_cooldown: Duration::from_secs(30),
            log_level: "info".to_owned(),
            log_sink: Arc::new(log_sink),
        }
    }
}

impl std::fmt::Debug for StackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackOptions")
            .field("ports", &self.ports)
            .field("rest_cache_ttl", &self.rest_cache_ttl)
            .field("http_cache_ttl", &self.http_cache_ttl)
            .finish_non_exhaustive()
    }
}

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// A loopback port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// A local service could not start.
    #[error("cannot start the local {service}: {source}")]
    Service {
        /// Which service.
        service: &'static str,
        /// The error it gave.
        #[source]
        source: std::io::Error,
    },
    /// The function binaries could not be found or built.
    #[error(transparent)]
    Binaries(#[from] BinariesError),
    /// A function could not be started.
    #[error("cannot start function {name}: {source}")]
    Function {
        /// The function's name.
        name: String,
        /// The runtime's error.
        #[source]
        source: StartError,
    },
    /// An API's description was refused.
    #[error("invalid local api: {0}")]
    Gateway(#[from] gateway::ConfigError),
}

/// One account's issuer and STS endpoint.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account's issuer.
    pub issuer: LocalIssuer,
    /// The account's STS endpoint, minting with that issuer.
    pub sts: LocalSts,
}

/// A running local stack; every service stops when it is dropped.
#[derive(Debug)]
pub struct Stack {
    /// The home account, which runs the protected API.
    pub home: Account,
    /// A partner account whose issuer the authorizer trusts.
    pub partner: Account,
    /// An account whose issuer the authorizer does not trust.
    pub outsider: Account,
    /// The authorizer function.
    pub authorizer: LambdaFunction,
    /// The protected handler.
    pub protected: LambdaFunction,
    /// One caller function per persona, by persona name.
    pub callers: BTreeMap<&'static str, LambdaFunction>,
    /// The REST API (stage `prod`, TOKEN authorizer on the `Authorization` header).
    pub rest_api: Gateway,
    /// The REST API's base URL, stage included.
    pub rest_url: String,
    /// The HTTP API (payload 2.0, simple responses, cached per route).
    pub http_api: Gateway,
    /// The HTTP API's base URL.
    pub http_url: String,
    /// The Lambda Invoke API's endpoint URL.
    pub lambda_url: String,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl Stack {
    /// Starts every service and function and waits until they serve.
    ///
    /// # Errors
    ///
    /// A [`StackError`] naming the service, port or function that could not start.
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        let ports = options.ports;
        let home = start_account(Realm::Home, ports.issuer, ports.sts).await?;
        let partner =
            start_account(Realm::Partner, ports.partner_issuer, ports.partner_sts).await?;
        let outsider =
            start_account(Realm::Outsider, ports.outsider_issuer, ports.outsider_sts).await?;

        let rest_listener = bind(ports.rest_api).await?;
        let http_listener = bind(ports.http_api).await?;
        let lambda_listener = bind(ports.lambda).await?;
        let rest_url = format!("{}/prod", url_of(&rest_listener)?);
        let http_url = url_of(&http_listener)?;
        let lambda_url = url_of(&lambda_listener)?;

        let dir = binaries::function_dir()?;
        let trusted = [home.issuer.url(), partner.issuer.url()].join(",");
        let authorizer = start_function(authorizer_spec(&dir, &options, &trusted)).await?;
        let protected = start_function(function_spec(
            &dir,
            "protected-fn",
            "protected-fn",
            &options,
        ))
        .await?;
        let mut callers = BTreeMap::new();
        for persona in world::personas() {
            let sts = match persona.realm {
                Realm::Home => &home.sts,
                Realm::Partner => &partner.sts,
                Realm::Outsider => &outsider.sts,
            };
            let spec = caller_spec(&dir, &options, &persona, sts.url(), &rest_url, &http_url);
            callers.insert(persona.name, start_function(spec).await?);
        }

        let rest_api = rest_gateway(&authorizer, &protected, options.rest_cache_ttl)?;
        let http_api = http_gateway(&authorizer, &protected, options.http_cache_ttl)?;
        let service = LambdaService::new();
        for function in [&authorizer, &protected]
            .into_iter()
            .chain(callers.values())
        {
            service.register(as_invoke(function));
        }

        let servers = vec![
            spawn_server("rest api", rest_api.clone().serve(rest_listener)),
            spawn_server("http api", http_api.clone().serve(http_listener)),
            spawn_server("lambda api", service.serve(lambda_listener)),
        ];
        Ok(Self {
            home,
            partner,
            outsider,
            authorizer,
            protected,
            callers,
            rest_api,
            rest_url,
            http_api,
            http_url,
            lambda_url,
            servers,
        })
    }

    /// The caller function of `persona`.
    ///
    /// # Panics
    ///
    /// When `persona` is not one of [`world::personas`]: a programming error in the caller.
    pub fn caller(&self, persona: &str) -> &LambdaFunction {
        self.callers
            .get(persona)
            .unwrap_or_else(|| panic!("no caller function for persona {persona}"))
    }

    /// The account of `realm`.
    pub fn account(&self, realm: Realm) -> &Account {
        match realm {
            Realm::Home => &self.home,
            Realm::Partner => &self.partner,
            Realm::Outsider => &self.outsider,
        }
    }
}

async fn start_account(
    realm: Realm,
    issuer_port: u16,
    sts_port: u16,
) -> Result<Account, StackError> {
    let issuer = LocalIssuer::start_on(bind(issuer_port).await?)
        .await
        .map_err(|source| StackError::Service {
            service: "issuer",
            source,
        })?;
    let mut principals = BTreeMap::new();
    for persona in world::personas().into_iter().filter(|p| p.realm == realm) {
        principals
            .entry(persona.access_key_id)
            .or_insert_with(|| persona.principal());
    }
    let config = StsConfig::new(principals.into_values().collect());
    let sts = LocalSts::start_on(bind(sts_port).await?, issuer.clone(), config)
        .await
        .map_err(|source| StackError::Service {
            service: "sts",
            source,
        })?;
    Ok(Account { issuer, sts })
}

async fn bind(port: u16) -> Result<TcpListener, StackError> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|source| StackError::Bind { port, source })
}

fn url_of(listener: &TcpListener) -> Result<String, StackError> {
    let address = listener
        .local_addr()
        .map_err(|source| StackError::Service {
            service: "listener",
            source,
        })?;
    Ok(format!("http://{address}"))
}

/// Function `name` running binary `binary`, with the settings every function shares: Lambda's
/// JSON log format, the log level and the sink.
fn function_spec(dir: &Path, binary: &str, name: &str, options: &StackOptions) -> FunctionSpec {
    let sink = Arc::clone(&options.log_sink);
    FunctionSpec::new(name, dir.join(binary))
        .region(world::REGION)
        .account_id(world::HOME_ACCOUNT)
        .log_format(LogFormat::Json)
        .log_level(options.log_level.clone())
        .log_sink(move |line: &crate::runtime::LogLine| sink.line(line))
        .inherit_env("RUST_BACKTRACE")
}

/// The authorizer with the variables, timeout and memory the SAM template gives it, trusting the
/// loopback issuers.
fn authorizer_spec(dir: &Path, options: &StackOptions, trusted_issuers: &str) -> FunctionSpec {
    function_spec(dir, "authorizer", "authorizer", options)
        .timeout(Duration::from_secs(5))
        .memory_mb(256)
        .env("TRUSTED_ISSUERS", trusted_issuers)
        .env("ALLOWED_AUDIENCES", world::AUDIENCE)
        .env("ALLOWED_ALGORITHMS", "RS256,ES384")
        .env("PREFETCH_KEYS", "true")
        .env("HTTP_API_RESPONSE", "simple")
        .env("ALLOW_LOOPBACK_ISSUERS", "true")
        .env("ACCESS_RULES", world::ACCESS_RULES)
        .env(
            "JWKS_CACHE_TTL_SECONDS",
            options.key_cache_ttl.as_secs().max(1).to_string(),
        )
        .env(
            "JWKS_REFETCH_COOLDOWN_SECONDS",
            options.refetch_cooldown.as_secs().to_string(),
        )
}

/// A caller function with the variables the SAM template gives it, running with `persona`'s
/// credentials against its account's STS.
fn caller_spec(
    dir: &Path,
    options: &StackOptions,
    persona: &Persona,
    sts_url: &str,
    rest_url: &str,
    http_url: &str,
) -> FunctionSpec {
    function_spec(dir, "caller-fn", persona.name, options)
        .account_id(&persona.identity.account)
        .timeout(Duration::from_secs(20))
        .memory_mb(256)
        .env("AWS_ACCESS_KEY_ID", persona.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", persona.secret_access_key)
        .env("AWS_ENDPOINT_URL_STS", sts_url)
        .env("TOKEN_AUDIENCE", world::AUDIENCE)
        .env("SIGNING_ALGORITHM", persona.algorithm.as_str())
        .env("TOKEN_DURATION_SECONDS", "300")
        .env("HTTP_TIMEOUT_MS", "5000")
        .env("PROTECTED_API_URL", rest_url)
        .env("PROTECTED_HTTP_API_URL", http_url)
}

async fn start_function(spec: FunctionSpec) -> Result<LambdaFunction, StackError> {
    let name = spec.name().to_owned();
    LambdaFunction::start(spec)
        .await
        .map_err(|source| StackError::Function { name, source })
}

fn as_invoke(function: &LambdaFunction) -> Arc<dyn Invoke> {
    Arc::new(function.clone())
}

/// The REST API as the SAM template declares it: TOKEN authorizer on `Authorization`.
fn rest_gateway(
    authorizer: &LambdaFunction,
    protected: &LambdaFunction,
    ttl: Duration,
) -> Result<Gateway, StackError> {
    let authorizer = RestAuthorizer::token(as_invoke(authorizer), "Authorization").ttl(ttl);
    let api = ROUTES.iter().fold(
        RestApi::new("localrest1", "prod")
            .region(world::REGION)
            .account_id(world::HOME_ACCOUNT)
            .authorizer(authorizer),
        |api, route| api.route(*route, as_invoke(protected)),
    );
    Ok(Gateway::rest(api)?)
}

/// The HTTP API as the SAM template declares it: payload 2.0, simple responses, and the route
/// key among the identity sources so a cached answer is never reused for another route.
fn http_gateway(
    authorizer: &LambdaFunction,
    protected: &LambdaFunction,
    ttl: Duration,
) -> Result<Gateway, StackError> {
    let authorizer = HttpAuthorizer::new(as_invoke(authorizer), PayloadVersion::V2)
        .simple_responses(true)
        .identity_source("$request.header.Authorization")
        .identity_source("$context.routeKey")
        .ttl(ttl);
    let api = ROUTES.iter().fold(
        HttpApi::new("localhttp1")
            .region(world::REGION)
            .account_id(world::HOME_ACCOUNT)
            .authorizer(authorizer)
            .integration_payload(PayloadVersion::V2),
        |api, route| api.route(*route, as_invoke(protected)),
    );
    Ok(Gateway::http(api)?)
}

fn spawn_server(
    name: &'static str,
    server: impl Future<Output = std::io::Result<()>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, server = name, "local server stopped");
        }
    })
}
