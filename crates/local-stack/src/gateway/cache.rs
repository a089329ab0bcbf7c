//! The authorizer result cache: whole answers keyed by identity source values, for the TTL.
//!
//! API Gateway caches the entire policy, not a per-route decision, and evaluates the cached
//! policy against each new method ARN. That is why a policy naming only the first `methodArn`
//! denies the next route until the entry expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::authorizer::Answer;

/// Bound on stored entries so a stream of distinct tokens cannot grow memory without limit.
const MAX_ENTRIES: usize = 10_000;

/// Identity source values, in configuration order.
type CacheKey = Vec<String>;

pub(crate) struct AuthorizerCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

struct Entry {
    expires: Instant,
    answer: Arc<Answer>,
}

impl AuthorizerCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The answer stored under `key`, if it has not expired.
    pub(crate) fn get(&self, key: &[String]) -> Option<Arc<Answer>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(entry) if entry.expires > Instant::now() => Some(Arc::clone(&entry.answer)),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: Vec<String>, answer: Arc<Answer>) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                expires: now + self.ttl,
                answer,
            },
        );
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
