//! The minted token, a secret that never shows in `Debug` or `Display` output.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// A web identity token minted by STS, with the expiration STS reported.
///
/// The token is a bearer credential: anyone holding it can call the audiences it names until it
/// expires. `Debug` and `Display` therefore print only the expiration; read the token itself with
/// [`Token::secret`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    secret: Arc<str>,
    expiration: SystemTime,
}

impl Token {
    pub(crate) fn new(secret: String, expiration: SystemTime) -> Self {
        Self {
            secret: secret.into(),
            expiration,
        }
    }

    /// The compact JWT (`header.payload.signature`), to be sent as `Authorization: Bearer …`.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// When STS says the token stops being valid (its `exp` claim).
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("secret", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unix = self
            .expiration
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        write!(
            f,
            "<redacted web identity token, expires at unix time {unix}>"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn debug_and_display_never_show_the_token() {
        let expiration = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_300);
        let token = Token::new("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl".into(), expiration);

        let debug = format!("{token:?}");
        let pretty = format!("{token:#?}");
        let display = token.to_string();

        for shown in [&debug, &pretty, &display] {
            assert!(!shown.contains("eyJ"), "{shown}");
            assert!(!shown.contains("c2lnbmF0dXJl"), "{shown}");
        }
        assert_eq!(
            display,
            "<redacted web identity token, expires at unix time 1700000300>"
        );
        assert!(debug.starts_with("Token { secret: \"<redacted>\", expiration: "));
        assert_eq!(token.secret(), "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl");
        assert_eq!(token.expiration(), expiration);
    }
}
