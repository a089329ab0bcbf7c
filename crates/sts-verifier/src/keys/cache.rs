//! The per-issuer key cache: fresh keys serve from memory, and fetches are rare and shared.
//!
//! Rules, per issuer:
//! - keys younger than the TTL serve without any fetch;
//! - a fetch happens when the keys are missing, older than the TTL, or lack the wanted `kid`, but
//!   at most once per cool-down window, whatever triggered it, so a flood of tokens naming random
//!   key ids (or a flood during an outage) costs one request per window;
//! - concurrent callers that need a fetch wait for the one in flight instead of starting their own;
//! - when a fetch fails, the last keys keep serving until they are `max_stale` past the TTL;
//! - keys pinned from a file never expire and are never fetched.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::sync::Mutex;

use super::fetch::Fetcher;
use super::{FetchError, KeySet, VerificationKey};
use crate::error::VerifyError;
use crate::identity::SigningAlgorithm;

/// Timing rules shared by every issuer.
#[derive(Debug, Clone)]
pub(crate) struct CachePolicy {
    pub(crate) ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) algorithms: Vec<SigningAlgorithm>,
}

/// Keys of every trusted issuer.
#[derive(Debug)]
pub(crate) struct KeyCache {
    issuers: Vec<IssuerKeys>,
    fetcher: Fetcher,
    policy: CachePolicy,
}

#[derive(Debug)]
struct IssuerKeys {
    issuer: String,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Keys from the operator's file.
    Pinned(KeySet),
    /// Keys fetched from the issuer.
    Fetched(Fetched),
}

#[derive(Debug, Default)]
struct Fetched {
    state: RwLock<State>,
    /// Held for the whole of a fetch, so callers arriving meanwhile wait for its result. It keeps
    /// the discovered `jwks_uri`, which only the fetching caller needs.
    in_flight: Mutex<Option<Url>>,
}

/// What the last fetches left behind.
#[derive(Debug, Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<FetchError>,
    /// Counts finished fetch attempts, so a waiter can tell whether one happened while it waited.
    attempts: u64,
}

/// What a cache lookup ended with, before it becomes a [`VerifyError`].
enum Outcome {
    /// Usable keys exist (the answer when no particular key was asked for).
    Ready,
    Found(Arc<VerificationKey>),
    UnknownKey,
    Unavailable(FetchError),
}

impl KeyCache {
    /// A cache for `issuers`, with `pinned` key sets taking the place of fetching for theirs.
    pub(crate) fn new(
        issuers: &[String],
        mut pinned: Vec<(String, KeySet)>,
        fetcher: Fetcher,
        policy: CachePolicy,
    ) -> Self {
        let issuers = issuers
            .iter()
            .map(|issuer| {
                let source = match pinned.iter().position(|(name, _)| name == issuer) {
                    Some(index) => Source::Pinned(pinned.swap_remove(index).1),
                    None => Source::Fetched(Fetched::default()),
                };
                IssuerKeys {
                    issuer: issuer.clone(),
                    source,
                }
            })
            .collect();
        Self {
            issuers,
            fetcher,
            policy,
        }
    }

    /// The trusted issuer equal to `iss`, as configured; `None` for any other text.
    pub(crate) fn trusted_issuer(&self, iss: &str) -> Option<&str> {
        self.issuers
            .iter()
            .find(|keys| keys.issuer == iss)
            .map(|keys| keys.issuer.as_str())
    }

    /// The key `kid` of the trusted `issuer`, fetching under the rules above when needed.
    ///
    /// # Errors
    ///
    /// [`VerifyError::UnknownKey`] when usable keys exist but none has this id,
    /// [`VerifyError::KeysUnavailable`] when no usable keys exist (or `issuer` is not trusted).
    pub(crate) async fn key(
        &self,
        issuer: &str,
        kid: &str,
    ) -> Result<Arc<VerificationKey>, VerifyError> {
        let Some(entry) = self.issuers.iter().find(|keys| keys.issuer == issuer) else {
            return Err(unavailable(issuer, FetchError::NoUsableKeys));
        };
        let outcome = match &entry.source {
            Source::Pinned(keys) => match keys.get(kid) {
                Some(key) => Outcome::Found(Arc::clone(key)),
                None => Outcome::UnknownKey,
            },
            Source::Fetched(fetched) => self.fetched_key(issuer, fetched, Some(kid)).await,
        };
        match outcome {
            Outcome::Found(key) => Ok(key),
            Outcome::Ready | Outcome::UnknownKey => Err(VerifyError::UnknownKey {
                kid: kid.to_owned(),
            }),
            Outcome::Unavailable(source) => Err(unavailable(issuer, source)),
        }
    }

    /// Makes sure every fetched issuer has usable keys, fetching those that have none.
    ///
    /// # Errors
    ///
    /// [`VerifyError::KeysUnavailable`] for the first issuer left without usable keys.
    pub(crate) async fn prefetch(&self) -> Result<(), VerifyError> {
        for entry in &self.issuers {
            if let Source::Fetched(fetched) = &entry.source
                && let Outcome::Unavailable(source) =
                    self.fetched_key(&entry.issuer, fetched, None).await
            {
                return Err(unavailable(&entry.issuer, source));
            }
        }
        Ok(())
    }

    /// Looks `kid` up (or, for `None`, only makes sure keys exist), fetching once if the rules
    /// allow it.
    async fn fetched_key(&self, issuer: &str, fetched: &Fetched, kid: Option<&str>) -> Outcome {
        let observed = {
            let state = fetched.read();
            if let Some(outcome) = state.fresh_answer(kid, &self.policy) {
                return outcome;
            }
            if !state.may_fetch(&self.policy) {
                tracing::debug!(issuer, "key fetch skipped: within the refetch cool-down");
                return state.answer(kid, &self.policy);
            }
            state.attempts
        };

        let mut jwks_uri = fetched.in_flight.lock().await;
        {
            let state = fetched.read();
            if state.attempts != observed {
                // Another caller fetched while this one waited: share its result.
                return state.answer(kid, &self.policy);
            }
        }

        let result = self.fetch(issuer, &mut jwks_uri).await;
        let mut state = fetched
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        state.record(issuer, result);
        drop(jwks_uri);
        state.answer(kid, &self.policy)
    }

    /// Fetches the key set within the fetch timeout, discovering its URL first if need be.
    async fn fetch(&self, issuer: &str, jwks_uri: &mut Option<Url>) -> Result<KeySet, FetchError> {
        let timeout = self.policy.fetch_timeout;
        let work = async {
            let uri = match jwks_uri.as_ref() {
                Some(uri) => uri.clone(),
                None => {
                    let uri = self.fetcher.discover(issuer).await?;
                    jwks_uri.insert(uri).clone()
                }
            };
            self.fetcher.key_set(&uri, &self.policy.algorithms).await
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout)))
    }
}

impl Fetched {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The answer from keys younger than the TTL, unless they lack `kid` (then a refetch may
    /// find it).
    fn fresh_answer(&self, kid: Option<&str>, policy: &CachePolicy) -> Option<Outcome> {
        let keys = self.keys.as_ref()?;
        if self.fetched_at?.elapsed() >= policy.ttl {
            return None;
        }
        match kid {
            None => Some(Outcome::Ready),
            Some(kid) => keys.get(kid).map(|key| Outcome::Found(Arc::clone(key))),
        }
    }

    fn may_fetch(&self, policy: &CachePolicy) -> bool {
        self.last_attempt
            .is_none_or(|at| at.elapsed() >= policy.cooldown)
    }

    /// The answer from whatever keys are still servable (fresh, or stale within `max_stale`).
    fn answer(&self, kid: Option<&str>, policy: &CachePolicy) -> Outcome {
        let servable = match (&self.keys, self.fetched_at) {
            (Some(keys), Some(at))
                if at.elapsed() < policy.ttl.saturating_add(policy.max_stale) =>
            {
                Some(keys)
            }
            _ => None,
        };
        match (servable, kid) {
            (Some(keys), Some(kid)) => match (keys.get(kid), &self.last_error) {
                (Some(key), _) => Outcome::Found(Arc::clone(key)),
                // The refetch that could have found this key failed, so whether the issuer
                // publishes it is unknown: an outage to retry, not proof of a forged token.
                (None, Some(error)) => Outcome::Unavailable(error.clone()),
                (None, None) => Outcome::UnknownKey,
            },
            (Some(_), None) => Outcome::Ready,
            (None, _) => {
                Outcome::Unavailable(self.last_error.clone().unwrap_or(FetchError::StaleKeys))
            }
        }
    }

    fn record(&mut self, issuer: &str, result: Result<KeySet, FetchError>) {
        let now = Instant::now();
        self.attempts += 1;
        self.last_attempt = Some(now);
        match result {
            Ok(keys) => {
                tracing::debug!(issuer, keys = keys.len(), "issuer keys fetched");
                self.keys = Some(Arc::new(keys));
                self.fetched_at = Some(now);
                self.last_error = None;
            }
            Err(error) => {
                if self.keys.is_some() {
                    tracing::warn!(issuer, %error, "key fetch failed; cached keys are kept");
                } else {
                    tracing::error!(issuer, %error, "key fetch failed and no keys are cached");
                }
                self.last_error = Some(error);
            }
        }
    }
}

fn unavailable(issuer: &str, source: FetchError) -> VerifyError {
    VerifyError::KeysUnavailable {
        issuer: issuer.to_owned(),
        source,
    }
}
