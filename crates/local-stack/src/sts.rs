//! A local STS endpoint.
