//! Where the protected APIs are and how long a call may take, read once at cold start.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

/// Environment variable with the base URL of the protected REST API stage (required).
pub const ENV_REST_URL: &str = "PROTECTED_API_URL";
/// Environment variable with the base URL of the protected HTTP API (optional).
pub const ENV_HTTP_URL: &str = "PROTECTED_HTTP_API_URL";
/// Environment variable with the per-call HTTP timeout in milliseconds (default 5000).
pub const ENV_TIMEOUT_MS: &str = "HTTP_TIMEOUT_MS";

const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);
const MAX_TIMEOUT_MS: u64 = 120_000;
/// Connection set-up gets at most this much of the call's budget.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the caller's settings are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("environment variable {name} is required")]
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// A variable is not valid Unicode.
    #[error("environment variable {name} is not valid unicode")]
    NotUnicode {
        /// The variable.
        name: &'static str,
    },
    /// A base URL is not an absolute URL this function may send tokens to.
    #[error("environment variable {name} is not a usable base url: {reason}")]
    BaseUrl {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The timeout is not a whole number of milliseconds in range.
    #[error(
        "environment variable {ENV_TIMEOUT_MS} must be a whole number from 1 to {MAX_TIMEOUT_MS}"
    )]
    Timeout,
}

/// A base URL the token may be sent to: `https`, or `http` to a loopback host only, with no user
/// info, query or fragment, and no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses and checks a base URL.
    ///
    /// # Errors
    ///
    /// The reason the URL is not acceptable, as a static message.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let url = Url::parse(text.trim()).map_err(|_| "not an absolute url")?;
        let host = url.host_str().ok_or("no host")?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err("http is only allowed to a loopback host; use https"),
            _ => return Err("the scheme must be https"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("user info is not allowed");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("a query or fragment is not allowed");
        }
        let trimmed = url.path().trim_end_matches('/').to_owned();
        let mut url = url;
        url.set_path(&trimmed);
        Ok(Self(url))
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// `self` followed by `path`, provided the result stays on this origin and under this path.
    pub(crate) fn join(&self, path: &str) -> Option<Url> {
        let joined = Url::parse(&format!("{}{path}", self.as_str())).ok()?;
        let same_origin = joined.origin() == self.0.origin();
        let base_path = self.0.path().trim_end_matches('/');
        let under_base = joined
            .path()
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
        (same_origin && under_base && joined.query().is_none()).then_some(joined)
    }
}

/// The caller's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Base URL of the protected REST API stage.
    pub rest_api: BaseUrl,
    /// Base URL of the protected HTTP API, if there is one.
    pub http_api: Option<BaseUrl>,
    /// Limit for one call to the protected API, connection and body included.
    pub timeout: Duration,
}

impl Config {
    /// Reads `PROTECTED_API_URL`, `PROTECTED_HTTP_API_URL` and `HTTP_TIMEOUT_MS` from the process
    /// environment.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable that is missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| match std::env::var(name) {
            Ok(value) => Some(Ok(value)),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => Some(Err(())),
        })
    }

    /// Reads the same variables through `lookup` (`None` when unset, `Some(Err(()))` when not
    /// Unicode); blank values count as unset.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the variable that is missing or invalid.
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<Result<String, ()>>,
    ) -> Result<Self, ConfigError> {
        let read = |name: &'static str| match lookup(name) {
            None => Ok(None),
            Some(Err(())) => Err(ConfigError::NotUnicode { name }),
            Some(Ok(value)) if value.trim().is_empty() => Ok(None),
            Some(Ok(value)) => Ok(Some(value)),
        };
        let base = |name: &'static str, value: String| {
            BaseUrl::parse(&value).map_err(|reason| ConfigError::BaseUrl { name, reason })
        };

        let rest_api = read(ENV_REST_URL)?.ok_or(ConfigError::Missing { name: ENV_REST_URL })?;
        let rest_api = base(ENV_REST_URL, rest_api)?;
        let http_api = read(ENV_HTTP_URL)?
            .map(|value| base(ENV_HTTP_URL, value))
            .transpose()?;
        let timeout = match read(ENV_TIMEOUT_MS)? {
            None => DEFAULT_TIMEOUT,
            Some(value) => parse_timeout(&value)?,
        };
        Ok(Self {
            rest_api,
            http_api,
            timeout,
        })
    }

    /// The limit for establishing a connection: the call's budget, capped at 2 s.
    pub fn connect_timeout(&self) -> Duration {
        self.timeout.min(MAX_CONNECT_TIMEOUT)
    }
}

fn parse_timeout(value: &str) -> Result<Duration, ConfigError> {
    let millis: u64 = value.trim().parse().map_err(|_| ConfigError::Timeout)?;
    if millis == 0 || millis > MAX_TIMEOUT_MS {
        return Err(ConfigError::Timeout);
    }
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let pairs = pairs.to_vec();
        Config::from_vars(move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| Ok(value.to_string()))
        })
    }

    #[test]
    fn defaults_and_trailing_slashes() {
        let config = vars(&[(
            ENV_REST_URL,
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
        )])
        .unwrap();
        assert_eq!(
            config.rest_api.as_str(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
        );
        assert_eq!(config.http_api, None);
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.connect_timeout(), Duration::from_secs(2));

        let config = vars(&[
            (ENV_REST_URL, "http://127.0.0.1:9000/prod"),
            (
                ENV_HTTP_URL,
                "https://xyz.execute-api.eu-west-1.amazonaws.com",
            ),
            (ENV_TIMEOUT_MS, "750"),
        ])
        .unwrap();
        assert_eq!(
            config.http_api.as_ref().unwrap().as_str(),
            "https://xyz.execute-api.eu-west-1.amazonaws.com"
        );
        assert_eq!(config.timeout, Duration::from_millis(750));
        assert_eq!(config.connect_timeout(), Duration::from_millis(750));
    }

    #[test]
    fn missing_rest_url_is_named() {
        assert_eq!(vars(&[]), Err(ConfigError::Missing { name: ENV_REST_URL }));
        assert_eq!(
            vars(&[(ENV_REST_URL, "  ")]),
            Err(ConfigError::Missing { name: ENV_REST_URL })
        );
    }

    #[test]
    fn unsafe_base_urls_are_refused() {
        let cases = [
            (
                "http://api.example.com/prod",
                "http is only allowed to a loopback host; use https",
            ),
            ("ftp://api.example.com", "the scheme must be https"),
            (
                "https://user:pw@api.example.com",
                "user info is not allowed",
            ),
            (
                "https://api.example.com/prod?x=1",
                "a query or fragment is not allowed",
            ),
            (
                "https://api.example.com/prod#x",
                "a query or fragment is not allowed",
            ),
            ("/prod", "not an absolute url"),
            ("data:text/plain,x", "no host"),
        ];
        for (url, reason) in cases {
            assert_eq!(
                vars(&[(ENV_REST_URL, url)]),
                Err(ConfigError::BaseUrl {
                    name: ENV_REST_URL,
                    reason
                }),
                "{url}"
            );
        }
        for loopback in [
            "http://localhost:1/p",
            "http://[::1]:1/p",
            "http://127.0.0.2:1",
        ] {
            assert!(vars(&[(ENV_REST_URL, loopback)]).is_ok(), "{loopback}");
        }
    }

    #[test]
    fn timeout_must_be_in_range() {
        for bad in ["0", "-1", "1.5", "120001", "soon"] {
            assert_eq!(
                vars(&[(ENV_REST_URL, "https://a.example"), (ENV_TIMEOUT_MS, bad)]),
                Err(ConfigError::Timeout),
                "{bad}"
            );
        }
    }

    #[test]
    fn joined_urls_stay_under_the_base() {
        let base = BaseUrl::parse("https://api.example.com/prod").unwrap();
        assert_eq!(
            base.join("/hello").unwrap().as_str(),
            "https://api.example.com/prod/hello"
        );
        assert_eq!(base.join("@evil.com/x"), None);
        assert_eq!(base.join("/../admin"), None);
        assert_eq!(base.join(".evil.com/"), None);
        assert_eq!(base.join("/x?y=1"), None);
        let root = BaseUrl::parse("https://api.example.com/").unwrap();
        assert_eq!(
            root.join("/hello").unwrap().as_str(),
            "https://api.example.com/hello"
        );
    }
}
