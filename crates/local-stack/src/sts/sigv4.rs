//! Verification of AWS Signature Version 4 on a received request, done independently of the SDK
//! that signed it: the canonical request is rebuilt from what arrived and the signature
//! recomputed with the secret key of the access key id the `Credential` names.

use std::time::{Duration, SystemTime};

use aws_lc_rs::{digest, hmac};
use http::{HeaderMap, Method, Uri};

use super::clock::parse_amz_date;
use super::error::StsError;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's `X-Amz-Date` may be from now; AWS allows 15 minutes either way.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    pub(crate) access_key_id: &'a str,
    date: &'a str,
    pub(crate) region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Reads the request's `Authorization` header.
    ///
    /// A missing header is `MissingAuthenticationToken`; a malformed one `IncompleteSignature`.
    pub(crate) fn from_headers(headers: &'a HeaderMap) -> Result<Self, StsError> {
        let value = headers.get(http::header::AUTHORIZATION).ok_or_else(|| {
            StsError::new(
                http::StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
        })?;
        let value = value
            .to_str()
            .map_err(|_| StsError::incomplete_signature("Authorization header is not ASCII"))?;
        Self::parse(value)
    }

    fn parse(value: &'a str) -> Result<Self, StsError> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| {
                StsError::incomplete_signature(format!(
                    "Authorization header requires the {ALGORITHM} algorithm"
                ))
            })?;
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=').ok_or_else(|| {
                StsError::incomplete_signature("Authorization header component is not name=value")
            })?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(StsError::incomplete_signature(format!(
                    "Authorization header repeats {name}"
                )));
            }
        }
        let missing = |name: &str| {
            StsError::incomplete_signature(format!("Authorization header requires '{name}'"))
        };
        let credential = credential.ok_or_else(|| missing("Credential"))?;
        let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;

        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
            return Err(StsError::incomplete_signature(
                "Credential should be scoped to a valid region, service and aws4_request",
            ));
        };
        if access_key_id.is_empty() || date.len() != 8 || region.is_empty() {
            return Err(StsError::incomplete_signature(
                "Credential scope is malformed",
            ));
        }
        Ok(Self {
            access_key_id,
            date,
            region,
            service,
            signed_headers: signed_headers.split(';').collect(),
            signature,
        })
    }

    /// Checks the signature against `secret_access_key` and the request as received.
    ///
    /// # Errors
    ///
    /// `SignatureDoesNotMatch` when the scope, the time or the signature is wrong.
    pub(crate) fn verify(
        &self,
        secret_access_key: &str,
        request: &SignedRequest<'_>,
        now: SystemTime,
    ) -> Result<(), StsError> {
        if self.service != "sts" {
            return Err(StsError::signature_mismatch(format!(
                "Credential should be scoped to correct service: 'sts', not '{}'",
                self.service.chars().take(32).collect::<String>()
            )));
        }
        let amz_date = header(request.headers, "x-amz-date")
            .ok_or_else(|| StsError::incomplete_signature("X-Amz-Date header is required"))?;
        check_time(amz_date, self.date, now)?;
        if !self.signed_headers.contains(&"host") {
            return Err(StsError::signature_mismatch(
                "'Host' must be a signed header",
            ));
        }

        let canonical = canonical_request(request, &self.signed_headers)?;
        let scope = format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        );
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
        );
        let key = signing_key(secret_access_key, self.date, self.region, self.service);
        let claimed = decode_hex(self.signature).ok_or_else(mismatch)?;
        hmac::verify(&key, string_to_sign.as_bytes(), &claimed).map_err(|_| mismatch())
    }
}

/// What of the received request the signature covers.
#[derive(Debug)]
pub(crate) struct SignedRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

fn mismatch() -> StsError {
    StsError::signature_mismatch(
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details.",
    )
}

fn check_time(amz_date: &str, scope_date: &str, now: SystemTime) -> Result<(), StsError> {
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| StsError::incomplete_signature("X-Amz-Date is not YYYYMMDDTHHMMSSZ"))?;
    if !amz_date.starts_with(scope_date) {
        return Err(StsError::signature_mismatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP",
        ));
    }
    let skew = match now.duration_since(signed_at) {
        Ok(age) => age,
        Err(ahead) => ahead.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(StsError::signature_mismatch(format!(
            "Signature expired: {amz_date} is more than 15 minutes from the server's time"
        )));
    }
    Ok(())
}

/// The SigV4 canonical request (method, URI, query, headers, signed header list, payload hash).
fn canonical_request(request: &SignedRequest<'_>, signed: &[&str]) -> Result<String, StsError> {
    let mut sorted = signed.to_vec();
    sorted.sort_unstable();
    if sorted != signed || sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(StsError::signature_mismatch(
            "SignedHeaders must be lower-case, sorted and unique",
        ));
    }
    let mut headers = String::new();
    for name in signed {
        let value = header_values(request.headers, name).ok_or_else(|| {
            StsError::signature_mismatch(format!(
                "signed header '{}' is missing from the request",
                name.chars().take(64).collect::<String>()
            ))
        })?;
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&value);
        headers.push('\n');
    }
    let payload = hex(digest::digest(&digest::SHA256, request.body).as_ref());
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{}\n{payload}",
        request.method.as_str(),
        canonical_path(request.uri.path()),
        canonical_query(request.uri.query().unwrap_or("")),
        signed.join(";"),
    ))
}

/// All values of a header, each trimmed with inner runs of spaces collapsed, joined by commas.
fn header_values(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|value| {
            let text = String::from_utf8_lossy(value.as_bytes());
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Non-S3 services sign the path URI-encoded a second time, so each `%` becomes `%25`.
fn canonical_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    uri_encode(path, false)
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (uri_encode(&name, true), uri_encode(&value, true)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and `/` unless
/// `encode_slash`).
fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte);
        if unreserved || (byte == b'/' && !encode_slash) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let date_key = step(format!("AWS4{secret}").as_bytes(), date);
    let region_key = step(date_key.as_ref(), region);
    let service_key = step(region_key.as_ref(), service);
    let signing = step(service_key.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, signing.as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "get-vanilla" case of AWS's SigV4 test suite: its published canonical request and
    /// signature for the example credentials `AKIDEXAMPLE` /
    /// `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, scoped to `us-east-1/service`.
    #[test]
    fn aws_test_suite_vanilla_get_verifies() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let method = Method::GET;
        let uri: Uri = "/".parse().unwrap();
        let request = SignedRequest {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&request, &["host", "x-amz-date"]).unwrap();
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );

        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "service",
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
        );
        assert_eq!(
            hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref()),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn authorization_header_parts_are_read() {
        let auth = Authorization::parse(
            "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/eu-west-1/sts/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00ff",
        )
        .unwrap();
        assert_eq!(auth.access_key_id, "AKIDLOCAL");
        assert_eq!(auth.region, "eu-west-1");
        assert_eq!(auth.signed_headers, vec!["host", "x-amz-date"]);
    }

    #[test]
    fn malformed_authorization_headers_are_incomplete_signatures() {
        for bad in [
            "",
            "Bearer abc",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=A/20240101/r/sts/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=A/20240101/r/sts, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=/20240101/r/sts/aws4_request, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=A/20240101/r/sts/aws4_request/x, SignedHeaders=h, Signature=0",
            "AWS4-HMAC-SHA256 Credential=A/2024/r/sts/aws4_request, SignedHeaders=h, Signature=0",
            "AWS4-HMAC-SHA256 Credential, SignedHeaders=h, Signature=0",
            "AWS4-HMAC-SHA256 Signature=1, Signature=2, Credential=A/20240101/r/sts/aws4_request, SignedHeaders=h",
        ] {
            let err = Authorization::parse(bad).unwrap_err();
            assert_eq!(err.code, "IncompleteSignature", "{bad}");
        }
    }

    #[test]
    fn stale_or_future_dates_are_rejected() {
        let now = parse_amz_date("20240101T120000Z").unwrap();
        assert_eq!(check_time("20240101T121500Z", "20240101", now), Ok(()));
        assert_eq!(check_time("20240101T114500Z", "20240101", now), Ok(()));
        for late in ["20240101T121501Z", "20240101T114459Z"] {
            let err = check_time(late, "20240101", now).unwrap_err();
            assert_eq!(err.code, "SignatureDoesNotMatch");
            assert!(
                err.message.starts_with("Signature expired"),
                "{}",
                err.message
            );
        }
        let err = check_time("20240101T120000Z", "20231231", now).unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", "  one   two ".parse().unwrap());
        headers.append("x-a", "three".parse().unwrap());
        assert_eq!(
            header_values(&headers, "x-a").as_deref(),
            Some("one two,three")
        );
        assert_eq!(header_values(&headers, "x-b"), None);
    }

    #[test]
    fn paths_are_double_encoded() {
        assert_eq!(canonical_path("/a%20b/c"), "/a%2520b/c");
        assert_eq!(canonical_path(""), "/");
        assert_eq!(
            canonical_query("b=2&a=1&a=0&c=x%2Fy"),
            "a=0&a=1&b=2&c=x%2Fy"
        );
    }
}
