//! Authorizer settings other than the verifier's and the rules, read once at cold start.

use std::fmt;

/// The header carrying the bearer token (REQUEST and HTTP API events).
pub const TOKEN_HEADER: &str = "TOKEN_HEADER";
/// Whether to fetch the issuers' keys during the init phase.
pub const PREFETCH_KEYS: &str = "PREFETCH_KEYS";
/// The answer form for HTTP API payload 2.0 events.
pub const HTTP_API_RESPONSE: &str = "HTTP_API_RESPONSE";

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct SettingsError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// How to answer HTTP API payload 2.0 events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{"isAuthorized": bool, "context": {...}}`: an answer for the request's route only.
    #[default]
    Simple,
    /// An IAM policy over the whole API, built like the REST answer.
    Policy,
}

impl fmt::Display for HttpApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Simple => "simple",
            Self::Policy => "policy",
        })
    }
}

/// The authorizer's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    token_header: String,
    prefetch_keys: bool,
    http_api_response: HttpApiResponse,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_header: "authorization".to_owned(),
            prefetch_keys: true,
            http_api_response: HttpApiResponse::Simple,
        }
    }
}

impl Settings {
    /// Reads `TOKEN_HEADER`, `PREFETCH_KEYS` and `HTTP_API_RESPONSE` from the environment.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the variable whose value cannot be used.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    ///
    /// Defaults: header `authorization`, prefetch on, simple HTTP API answers. Empty values count
    /// as unset.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] when the header name is not an HTTP token, `PREFETCH_KEYS` is not
    /// `true`/`false`, or `HTTP_API_RESPONSE` is not `simple`/`policy`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name| lookup(name).filter(|value| !value.trim().is_empty());
        let mut settings = Self::default();
        if let Some(header) = get(TOKEN_HEADER) {
            settings = settings.with_token_header(&header)?;
        }
        if let Some(flag) = get(PREFETCH_KEYS) {
            settings.prefetch_keys = match flag.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(error(
                        PREFETCH_KEYS,
                        format!("{flag:?} is not true or false"),
                    ));
                }
            };
        }
        if let Some(form) = get(HTTP_API_RESPONSE) {
            settings.http_api_response = match form.trim().to_ascii_lowercase().as_str() {
                "simple" => HttpApiResponse::Simple,
                "policy" => HttpApiResponse::Policy,
                _ => {
                    return Err(error(
                        HTTP_API_RESPONSE,
                        format!("{form:?} is not simple or policy"),
                    ));
                }
            };
        }
        Ok(settings)
    }

    /// These settings with another token header.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] for `TOKEN_HEADER` when `name` is not an HTTP field name (RFC 9110
    /// §5.1 token characters).
    pub fn with_token_header(mut self, name: &str) -> Result<Self, SettingsError> {
        let name = name.trim();
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || name.len() > 256 || !name.bytes().all(tchar) {
            return Err(error(
                TOKEN_HEADER,
                format!("{name:?} is not a header name"),
            ));
        }
        self.token_header = name.to_ascii_lowercase();
        Ok(self)
    }

    /// These settings with another HTTP API answer form.
    pub fn with_http_api_response(mut self, form: HttpApiResponse) -> Self {
        self.http_api_response = form;
        self
    }

    /// The token header's name, lower case.
    pub fn token_header(&self) -> &str {
        &self.token_header
    }

    /// Whether to fetch keys during the init phase.
    pub fn prefetch_keys(&self) -> bool {
        self.prefetch_keys
    }

    /// The answer form for HTTP API payload 2.0 events.
    pub fn http_api_response(&self) -> HttpApiResponse {
        self.http_api_response
    }
}

fn error(variable: &'static str, message: String) -> SettingsError {
    SettingsError { variable, message }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let settings = from(&[]).unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.token_header(), "authorization");
        assert!(settings.prefetch_keys());
        assert_eq!(settings.http_api_response(), HttpApiResponse::Simple);
    }

    #[test]
    fn values_are_read_case_insensitively() {
        let settings = from(&[
            ("TOKEN_HEADER", "X-Caller-Token"),
            ("PREFETCH_KEYS", "FALSE"),
            ("HTTP_API_RESPONSE", "Policy"),
        ])
        .unwrap();
        assert_eq!(settings.token_header(), "x-caller-token");
        assert!(!settings.prefetch_keys());
        assert_eq!(settings.http_api_response(), HttpApiResponse::Policy);
    }

    #[test]
    fn unusable_values_name_their_variable() {
        let cases = [
            (
                ("TOKEN_HEADER", "x token"),
                "TOKEN_HEADER: \"x token\" is not a header name",
            ),
            (
                ("TOKEN_HEADER", "x:y"),
                "TOKEN_HEADER: \"x:y\" is not a header name",
            ),
            (
                ("PREFETCH_KEYS", "maybe"),
                "PREFETCH_KEYS: \"maybe\" is not true or false",
            ),
            (
                ("HTTP_API_RESPONSE", "iam"),
                "HTTP_API_RESPONSE: \"iam\" is not simple or policy",
            ),
        ];
        for (pair, message) in cases {
            assert_eq!(from(&[pair]).unwrap_err().to_string(), message);
        }
    }
}
