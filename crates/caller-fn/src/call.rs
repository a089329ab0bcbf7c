//! The HTTP call to the protected API and the reading of its answer.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Response, Url};
use serde_json::Value;
use token_source::Token;

use crate::config::Config;
use crate::error::CallerError;
use crate::event::CallRequest;

/// Largest answer body read from the protected API.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Builds the one HTTP client the function reuses: bounded connect and total time, and no
/// redirects, so the bearer token is only ever sent to the configured URL.
///
/// # Errors
///
/// The reqwest error when the TLS backend cannot be initialised.
pub fn http_client(config: &Config) -> Result<Client, reqwest::Error> {
    Client::builder()
        .connect_timeout(config.connect_timeout())
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The protected API's answer: status and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// Sends `request` to `url` with `token` as the bearer credential and reads the answer.
pub(crate) async fn send(
    client: &Client,
    config: &Config,
    url: Url,
    request: &CallRequest,
    token: &Token,
) -> Result<Answer, CallerError> {
    let mut builder = client
        .request(request.method.clone(), url.clone())
        .bearer_auth(token.secret())
        .header(ACCEPT, "application/json");
    if let Some(body) = &request.body {
        builder = builder.json(body);
    }
    let response = builder
        .send()
        .await
        .map_err(|err| transport_error(err, &url, config))?;
    let status = response.status().as_u16();
    let body = read_body(response, &url, config).await?;
    Ok(Answer { status, body })
}

fn transport_error(err: reqwest::Error, url: &Url, config: &Config) -> CallerError {
    let url = url.to_string();
    if err.is_timeout() {
        CallerError::ApiTimeout {
            url,
            timeout_ms: config.timeout.as_millis(),
        }
    } else if err.is_connect() {
        CallerError::ApiUnreachable { url, source: err }
    } else {
        CallerError::ApiRequest { url, source: err }
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`]; JSON when the content type says so and it parses, else
/// text, and `null` when empty.
async fn read_body(
    mut response: Response,
    url: &Url,
    config: &Config,
) -> Result<Value, CallerError> {
    let too_large = || CallerError::ResponseTooLarge {
        url: url.to_string(),
        limit: MAX_RESPONSE_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("json"));

    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| transport_error(err, url, config))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }

    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    if is_json && let Ok(json) = serde_json::from_slice(&bytes) {
        return Ok(json);
    }
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}
