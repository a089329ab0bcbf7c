//! A local outbound identity federation issuer.
