//! One request as the gateway sees it, with the API it arrived at and the route it matched.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::config::PayloadVersion;
use super::routes::RouteMatch;
use crate::runtime::clock::{epoch_millis, request_time};

/// Which API flavour answers, with its flavour-only settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Rest,
    Http { integration_payload: PayloadVersion },
}

/// The settings of an API that requests and events need.
#[derive(Debug)]
pub(crate) struct ApiInfo {
    pub(crate) flavor: Flavor,
    pub(crate) api_id: String,
    pub(crate) stage: String,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) stage_variables: BTreeMap<String, String>,
    pub(crate) authorizer_timeout: Duration,
    pub(crate) integration_timeout: Duration,
}

impl ApiInfo {
    pub(crate) fn domain_name(&self) -> String {
        format!("{}.execute-api.{}.amazonaws.com", self.api_id, self.region)
    }

    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`, the form of a
    /// REST `methodArn` and an HTTP API `routeArn` alike.
    pub(crate) fn execute_arn(&self, method: &str, path: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.region,
            self.account_id,
            self.api_id,
            self.stage,
            method,
            path.strip_prefix('/').unwrap_or(path)
        )
    }
}

/// A received request, captured once.
#[derive(Debug)]
pub(crate) struct RequestData {
    pub(crate) method: String,
    /// The path inside the stage (`/hello`).
    pub(crate) path: String,
    /// The path as received (`/prod/hello` on a REST API).
    pub(crate) full_path: String,
    pub(crate) raw_query: String,
    /// Header names lowercased (as HTTP/1.1 servers read them), values decoded lossily, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) source_ip: String,
    pub(crate) protocol: String,
    pub(crate) request_id: String,
    pub(crate) time: SystemTime,
}

impl RequestData {
    fn header_values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of a header, as REST events' single-value maps keep it.
    pub(crate) fn header_last(&self, name: &str) -> Option<&str> {
        self.header_values(name).last()
    }

    /// All values of a header joined with commas, as HTTP API events combine them.
    pub(crate) fn header_joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self.header_values(name).collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    pub(crate) fn user_agent(&self) -> String {
        self.header_last("user-agent")
            .unwrap_or_default()
            .to_owned()
    }

    /// Decoded query parameters in order.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .into_owned()
            .collect()
    }

    pub(crate) fn query_last(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .next_back()
    }

    pub(crate) fn query_joined(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// The `cookies` of payload 2.0: every cookie of every `Cookie` header.
    pub(crate) fn cookies(&self) -> Vec<String> {
        self.header_values("cookie")
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn epoch_millis(&self) -> u64 {
        epoch_millis(self.time)
    }

    pub(crate) fn request_time(&self) -> String {
        request_time(self.time)
    }
}

/// A request bound to its API and matched route.
pub(crate) struct Exchange<'a> {
    pub(crate) api: &'a ApiInfo,
    pub(crate) request: &'a RequestData,
    pub(crate) matched: &'a RouteMatch<'a>,
    /// The REST `methodArn` / HTTP API `routeArn`.
    pub(crate) arn: String,
}

impl<'a> Exchange<'a> {
    pub(crate) fn new(
        api: &'a ApiInfo,
        request: &'a RequestData,
        matched: &'a RouteMatch<'a>,
    ) -> Self {
        let arn = api.execute_arn(&request.method, &request.path);
        Self {
            api,
            request,
            matched,
            arn,
        }
    }

    /// A `$context` variable, for identity sources.
    pub(crate) fn context_variable(&self, name: &str) -> Option<String> {
        let (api, request, route) = (self.api, self.request, self.matched.route);
        let value = match name {
            "accountId" => api.account_id.clone(),
            "apiId" | "domainPrefix" => api.api_id.clone(),
            "domainName" => api.domain_name(),
            "httpMethod" | "http.method" => request.method.clone(),
            "path" => request.full_path.clone(),
            "http.path" => request.path.clone(),
            "protocol" | "http.protocol" => request.protocol.clone(),
            "requestId" => request.request_id.clone(),
            "requestTime" => request.request_time(),
            "requestTimeEpoch" => request.epoch_millis().to_string(),
            "resourceId" => route.resource_id.clone(),
            "resourcePath" => route.resource_path.clone(),
            "routeKey" if matches!(api.flavor, Flavor::Http { .. }) => route.key.clone(),
            "stage" => api.stage.clone(),
            "identity.sourceIp" | "http.sourceIp" => request.source_ip.clone(),
            "identity.userAgent" | "http.userAgent" => request.user_agent(),
            _ => return None,
        };
        Some(value)
    }
}
