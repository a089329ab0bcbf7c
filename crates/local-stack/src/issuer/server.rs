//! The issuer's HTTP face: OIDC discovery and the key set, with switches for failure tests.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Shared;

/// Path of the OIDC discovery document, relative to the issuer (OpenID Connect Discovery §4).
pub(super) const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the key set, where STS publishes it.
pub(super) const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The routes of one issuer.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(JWKS_PATH, get(jwks))
        .with_state(shared)
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let body = {
        let switches = shared.lock_switches();
        match (&switches.discovery_override, switches.discovery_published) {
            (_, false) => None,
            (Some(body), true) => Some(body.clone()),
            (None, true) => Some(shared.discovery_document().to_string()),
        }
    };
    answer(&shared, body).await
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let body = match shared.lock_switches().jwks_override.clone() {
        Some(body) => body,
        None => shared.published_jwks().to_string(),
    };
    answer(&shared, Some(body)).await
}

/// Applies the delay and availability switches, then answers with `body` as JSON (404 for none).
async fn answer(shared: &Shared, body: Option<String>) -> Response {
    let delay = shared.lock_switches().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if !shared.available.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "issuer is down").into_response();
    }
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
