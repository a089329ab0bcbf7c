//! Route tables: which configured route a method and path select, with its path parameters.
//!
//! API Gateway picks the most specific match: literal segments beat `{param}`, which beats a
//! greedy `{proxy+}`; a route with the exact method beats `ANY`; the HTTP API `$default` route
//! catches what nothing else matches.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::config::{ConfigError, RouteSpec};
use crate::runtime::Invoke;

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 0,
            Self::Param(_) => 1,
            Self::Greedy(_) => 2,
        }
    }
}

/// One configured route.
pub(crate) struct Route {
    /// The key as configured: `GET /items/{id}` or `$default`.
    pub(crate) key: String,
    /// The resource path template (`/items/{id}`; `/` for `$default`).
    pub(crate) resource_path: String,
    /// A stable short id standing in for API Gateway's resource id.
    pub(crate) resource_id: String,
    pub(crate) integration: Arc<dyn Invoke>,
    pub(crate) authorized: bool,
    /// `None` for `ANY` and `$default`.
    method: Option<String>,
    segments: Vec<Segment>,
    is_default: bool,
}

/// A route selected for a request.
pub(crate) struct RouteMatch<'a> {
    pub(crate) route: &'a Route,
    pub(crate) path_parameters: BTreeMap<String, String>,
}

/// The parsed routes of one API.
pub(crate) struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Parses every route key; `$default` only when `allow_default` (HTTP APIs).
    pub(crate) fn parse(specs: &[RouteSpec], allow_default: bool) -> Result<Self, ConfigError> {
        let mut seen = HashSet::new();
        let mut routes = Vec::with_capacity(specs.len());
        for spec in specs {
            let route = parse_route(spec, allow_default)?;
            // Parameter names do not tell routes apart: `/x/{a}` and `/x/{b}` are one resource.
            let shape: Vec<(u8, &str)> = route
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => (0, l.as_str()),
                    other => (other.rank(), ""),
                })
                .collect();
            let identity = format!("{:?} {shape:?} {}", route.method, route.is_default);
            if !seen.insert(identity) {
                return Err(ConfigError::DuplicateRoute(spec.key.clone()));
            }
            routes.push(route);
        }
        Ok(Self { routes })
    }

    /// Whether any route needs the authorizer.
    pub(crate) fn any_authorized(&self) -> Option<&str> {
        self.routes
            .iter()
            .find(|r| r.authorized)
            .map(|r| r.key.as_str())
    }

    /// The most specific route for `method` and `path`.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .filter(|route| route.method.as_deref().is_none_or(|m| m == method))
            .filter_map(|route| match_path(route, &parts).map(|params| (route, params)))
            .min_by(|(a, _), (b, _)| specificity(a, b))
            .map(|(route, path_parameters)| RouteMatch {
                route,
                path_parameters,
            })
    }
}

fn specificity(a: &Route, b: &Route) -> Ordering {
    let ranks = |r: &Route| r.segments.iter().map(Segment::rank).collect::<Vec<_>>();
    a.is_default
        .cmp(&b.is_default)
        .then_with(|| ranks(a).cmp(&ranks(b)))
        .then_with(|| a.method.is_none().cmp(&b.method.is_none()))
}

fn match_path(route: &Route, parts: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    if route.is_default {
        return Some(params);
    }
    for (index, segment) in route.segments.iter().enumerate() {
        match segment {
            Segment::Literal(literal) => {
                if parts.get(index) != Some(&literal.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), (*parts.get(index)?).to_owned());
            }
            // A greedy variable needs at least one segment, and is always the last one.
            Segment::Greedy(name) => {
                let rest = parts.get(index..).filter(|rest| !rest.is_empty())?;
                params.insert(name.clone(), rest.join("/"));
                return Some(params);
            }
        }
    }
    (parts.len() == route.segments.len()).then_some(params)
}

fn parse_route(spec: &RouteSpec, allow_default: bool) -> Result<Route, ConfigError> {
    let invalid = |reason| ConfigError::InvalidRouteKey {
        key: spec.key.clone(),
        reason,
    };
    let resource_id = resource_id(&spec.key);
    if spec.key == "$default" {
        if !allow_default {
            return Err(invalid("$default exists only on HTTP APIs"));
        }
        return Ok(Route {
            key: spec.key.clone(),
            resource_path: "/".to_owned(),
            resource_id,
            integration: Arc::clone(&spec.integration),
            authorized: spec.authorized,
            method: None,
            segments: Vec::new(),
            is_default: true,
        });
    }

    let (method, path) = spec
        .key
        .split_once(' ')
        .ok_or_else(|| invalid("expected METHOD /path"))?;
    if !METHODS.contains(&method) {
        return Err(invalid("unknown method"));
    }
    if !path.starts_with('/') {
        return Err(invalid("path must start with /"));
    }
    let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut segments = Vec::with_capacity(raw.len());
    let mut names = HashSet::new();
    for (index, part) in raw.iter().enumerate() {
        let segment = parse_segment(part).ok_or_else(|| invalid("bad path segment"))?;
        if let Segment::Param(name) | Segment::Greedy(name) = &segment
            && !names.insert(name.clone())
        {
            return Err(invalid("repeated path parameter"));
        }
        if matches!(segment, Segment::Greedy(_)) && index + 1 != raw.len() {
            return Err(invalid("a greedy path parameter must be last"));
        }
        segments.push(segment);
    }

    Ok(Route {
        key: spec.key.clone(),
        resource_path: if raw.is_empty() {
            "/".to_owned()
        } else {
            format!("/{}", raw.join("/"))
        },
        resource_id,
        integration: Arc::clone(&spec.integration),
        authorized: spec.authorized,
        method: (method != "ANY").then(|| method.to_owned()),
        segments,
        is_default: false,
    })
}

fn parse_segment(part: &str) -> Option<Segment> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    };
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => match inner.strip_suffix('+') {
            Some(name) if valid_name(name) => Some(Segment::Greedy(name.to_owned())),
            None if valid_name(inner) => Some(Segment::Param(inner.to_owned())),
            _ => None,
        },
        None if !part.contains(['{', '}']) => Some(Segment::Literal(part.to_owned())),
        None => None,
    }
}

/// Six lowercase alphanumerics derived from the key, like API Gateway's resource ids.
fn resource_id(key: &str) -> String {
    // FNV-1a: stable across runs, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| {
            let index = usize::try_from((hash >> (i * 6)) % 36).unwrap_or(0);
            char::from(ALPHABET.get(index).copied().unwrap_or(b'a'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FnInvoke;

    fn table(keys: &[&str]) -> RouteTable {
        let f = FnInvoke::new("f", |_| async { Ok(serde_json::Value::Null) }).into_arc();
        let specs: Vec<RouteSpec> = keys
            .iter()
            .map(|k| RouteSpec {
                key: (*k).to_owned(),
                integration: f.clone(),
                authorized: false,
            })
            .collect();
        RouteTable::parse(&specs, true).unwrap()
    }

    fn chosen(table: &RouteTable, method: &str, path: &str) -> Option<String> {
        table.find(method, path).map(|m| m.route.key.clone())
    }

    #[test]
    fn most_specific_route_wins() {
        let t = table(&[
            "GET /items/special",
            "GET /items/{id}",
            "ANY /{proxy+}",
            "ANY /items/{id}",
        ]);
        assert_eq!(
            chosen(&t, "GET", "/items/special").as_deref(),
            Some("GET /items/special")
        );
        assert_eq!(
            chosen(&t, "GET", "/items/7").as_deref(),
            Some("GET /items/{id}")
        );
        assert_eq!(
            chosen(&t, "POST", "/items/7").as_deref(),
            Some("ANY /items/{id}")
        );
        assert_eq!(
            chosen(&t, "GET", "/other/a/b").as_deref(),
            Some("ANY /{proxy+}")
        );
        assert_eq!(chosen(&t, "GET", "/").as_deref(), None);
    }

    #[test]
    fn greedy_and_params_capture_values() {
        let t = table(&["GET /files/{bucket}/{key+}"]);
        let m = t.find("GET", "/files/b1/dir/a%20b.txt").unwrap();
        assert_eq!(m.path_parameters["bucket"], "b1");
        assert_eq!(m.path_parameters["key"], "dir/a%20b.txt");
        assert!(t.find("GET", "/files/b1").is_none());
    }

    #[test]
    fn default_route_is_the_last_resort() {
        let t = table(&["$default", "GET /hello"]);
        assert_eq!(chosen(&t, "GET", "/hello").as_deref(), Some("GET /hello"));
        assert_eq!(
            chosen(&t, "DELETE", "/anything").as_deref(),
            Some("$default")
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        let f = FnInvoke::new("f", |_| async { Ok(serde_json::Value::Null) }).into_arc();
        for key in [
            "GET",
            "get /x",
            "GET x",
            "GET /{a}/{a}",
            "GET /{p+}/x",
            "GET /{}",
            "GET /a{b}",
        ] {
            let spec = RouteSpec {
                key: key.to_owned(),
                integration: f.clone(),
                authorized: false,
            };
            assert!(
                matches!(
                    RouteTable::parse(&[spec], true),
                    Err(ConfigError::InvalidRouteKey { .. })
                ),
                "{key}"
            );
        }
        let dup = |k: &str| RouteSpec {
            key: k.to_owned(),
            integration: f.clone(),
            authorized: false,
        };
        let twice = RouteTable::parse(&[dup("GET /x/{a}"), dup("GET /x/{b}")], true);
        assert!(matches!(twice, Err(ConfigError::DuplicateRoute(_))));
        let rest_default = RouteTable::parse(&[dup("$default")], false);
        assert!(matches!(
            rest_default,
            Err(ConfigError::InvalidRouteKey { .. })
        ));
    }
}
