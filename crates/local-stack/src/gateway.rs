//! A local API Gateway following the documented semantics of REST APIs and HTTP APIs with
//! Lambda authorizers and Lambda proxy integrations.
//!
//! Functions are reached through the [`Invoke`](crate::runtime::Invoke) trait: the local stack
//! plugs in real binaries run by [`LambdaFunction`](crate::runtime::LambdaFunction), tests plug in
//! [`FnInvoke`](crate::runtime::FnInvoke) closures.
//!
//! ```no_run
//! # async fn demo(
//! #     authorizer: std::sync::Arc<dyn local_stack::runtime::Invoke>,
//! #     handler: std::sync::Arc<dyn local_stack::runtime::Invoke>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use local_stack::gateway::{Gateway, RestApi, RestAuthorizer};
//!
//! let api = RestApi::new("abc123", "prod")
//!     .authorizer(RestAuthorizer::token(authorizer, "Authorization"))
//!     .route("GET /hello", handler);
//! let gateway = Gateway::rest(api)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tokio::spawn(gateway.clone().serve(listener));
//! # Ok(()) }
//! ```

mod authorizer;
mod cache;
mod config;
mod counters;
mod events;
mod exchange;
mod identity;
mod policy;
mod proxy;
mod responses;
mod routes;
mod server;

pub use config::{ConfigError, HttpApi, HttpAuthorizer, PayloadVersion, RestApi, RestAuthorizer};
pub use counters::GatewayCounters;
pub use server::Gateway;
