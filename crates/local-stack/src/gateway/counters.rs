//! Counters tests read to tell cached decisions from fresh ones.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a gateway's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GatewayCounters {
    /// Requests received.
    pub requests: u64,
    /// Times the authorizer function was invoked.
    pub authorizer_invocations: u64,
    /// Times a cached authorizer answer was used instead.
    pub authorizer_cache_hits: u64,
    /// Times an integration function was invoked.
    pub integration_invocations: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    authorizer_invocations: AtomicU64,
    authorizer_cache_hits: AtomicU64,
    integration_invocations: AtomicU64,
}

impl Counters {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn authorizer_invocation(&self) {
        self.authorizer_invocations.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn cache_hit(&self) {
        self.authorizer_cache_hits.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn integration_invocation(&self) {
        self.integration_invocations.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn snapshot(&self) -> GatewayCounters {
        GatewayCounters {
            requests: self.requests.load(Ordering::SeqCst),
            authorizer_invocations: self.authorizer_invocations.load(Ordering::SeqCst),
            authorizer_cache_hits: self.authorizer_cache_hits.load(Ordering::SeqCst),
            integration_invocations: self.integration_invocations.load(Ordering::SeqCst),
        }
    }
}
