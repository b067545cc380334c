//! One policy for every frontend against a Mist API that rate-limits, fails and stalls:
//! a deadline per call, retries of reads, and a client-side rate budget per token.
//!
//! [`Resilient`] wraps any [`HttpTransport`], so stdio, HTTP, the CLI and the edge behave alike:
//! - every call has a deadline ([`Policy::request_timeout`]) that covers its retries and waits;
//! - a GET answered 502, 503 or 504, or whose connection failed or was reset, is tried again with
//!   jittered exponential backoff, at most [`Policy::max_tries`] times in all;
//! - a 429 with `Retry-After` (seconds or an HTTP date) is waited out and tried again when the wait
//!   fits in [`Policy::retry_after_cap`] and the deadline; otherwise the 429 is the answer (the API
//!   error then says when to retry);
//! - POST, PUT and DELETE are sent once, whatever happens;
//! - a token bucket per Mist token ([`RateBudget`]) keeps calls under the hourly limit: a call
//!   beyond it waits briefly, or fails at once with the time until the budget frees.
//!
//! Time comes from a [`Clock`] the host provides (tokio natively, timers of the JS host on the
//! edge): there are no timers in the core.

use crate::api::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use crate::catalog::Method;
use futures_util::future::{Either, select};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Time as the host knows it.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Clock: Send + Sync {
    /// A monotonic time, for deadlines and the budget.
    fn now(&self) -> Duration;
    /// Seconds since the Unix epoch, to read `Retry-After` dates.
    fn unix_seconds(&self) -> u64;
    /// Waits.
    async fn sleep(&self, duration: Duration);
}

/// The limits of calls to Mist.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Time for a whole call, retries and waits included (`--request-timeout`).
    pub request_timeout: Duration,
    /// Tries of a read in all (first try included).
    pub max_tries: u32,
    /// The first backoff; it doubles on each retry (a random part of it is waited).
    pub backoff: Duration,
    /// The longest `Retry-After` waited out before trying again.
    pub retry_after_cap: Duration,
    /// Calls per hour per Mist token (`--rate-limit`); `None` for no client-side budget.
    pub calls_per_hour: Option<u32>,
    /// The longest wait for the budget before failing fast.
    pub budget_wait_cap: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            request_timeout: Duration::from_secs(30),
            max_tries: 3,
            backoff: Duration::from_millis(250),
            retry_after_cap: Duration::from_secs(10),
            calls_per_hour: Some(5000),
            budget_wait_cap: Duration::from_secs(2),
        }
    }
}

/// Buckets kept before the full ones are forgotten.
const MAX_BUCKETS: usize = 1024;

/// A token bucket per Mist token: `calls_per_hour` calls at once, then one more every
/// `3600 / calls_per_hour` seconds. Tokens are kept as SHA-256 digests, never in clear.
#[derive(Debug)]
pub struct RateBudget {
    per_hour: u32,
    buckets: Mutex<HashMap<[u8; 32], Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    at: Duration,
}

impl RateBudget {
    /// A budget of `per_hour` calls per hour per token.
    pub fn new(per_hour: u32) -> Self {
        RateBudget {
            per_hour: per_hour.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.per_hour) / 3600.0
    }

    /// Takes one call for `token` at `now`: `Ok` when it may go, else the time until it may.
    pub fn take(&self, token: &str, now: Duration) -> Result<(), Duration> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let capacity = f64::from(self.per_hour);
        // Tokens unused for long enough to have refilled are forgotten: random tokens sent by a
        // client cannot grow the map without bound.
        if buckets.len() >= MAX_BUCKETS {
            let per_second = self.per_second();
            buckets.retain(|_, b| {
                b.available + now.saturating_sub(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            available: capacity,
            at: now,
        });
        let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
        bucket.available = (bucket.available + elapsed * self.per_second()).min(capacity);
        bucket.at = now;
        if bucket.available >= 1.0 {
            bucket.available -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.available;
            Err(Duration::try_from_secs_f64(missing / self.per_second()).unwrap_or(Duration::MAX))
        }
    }

    /// Calls left now for `token` (whole calls).
    pub fn remaining(&self, token: &str, now: Duration) -> u32 {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get(&key) {
            None => self.per_hour,
            Some(b) => {
                let elapsed = now.saturating_sub(b.at).as_secs_f64();
                (b.available + elapsed * self.per_second()).min(f64::from(self.per_hour)) as u32
            }
        }
    }
}

/// An [`HttpTransport`] that applies a [`Policy`] around another one.
pub struct Resilient<T, C> {
    inner: T,
    clock: C,
    policy: Policy,
    budget: Option<RateBudget>,
    seed: AtomicU64,
}

impl<T, C: Clock> Resilient<T, C> {
    /// Wraps `inner` with `policy`, timed by `clock`.
    pub fn new(inner: T, clock: C, policy: Policy) -> Self {
        let budget = policy.calls_per_hour.map(RateBudget::new);
        let seed = AtomicU64::new(clock.now().as_nanos() as u64 | 1);
        Resilient {
            inner,
            clock,
            policy,
            budget,
            seed,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Calls left now in the budget of the token sent as `authorization` (`None`: no budget).
    pub fn calls_left(&self, authorization: &str) -> Option<u32> {
        self.budget
            .as_ref()
            .map(|b| b.remaining(authorization, self.clock.now()))
    }

    /// A number in `[0, 1)` for jitter (xorshift: unpredictability is not needed here).
    fn random(&self) -> f64 {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn timeout_error(&self) -> TransportError {
        TransportError::Timeout {
            seconds: self.policy.request_timeout.as_secs().max(1),
        }
    }
}

/// What to do after one try.
enum Next {
    Answer(Result<HttpResponse, TransportError>),
    RetryAfter(Duration, Result<HttpResponse, TransportError>),
}

/// The `Authorization` value of a request, the budget's key.
fn token_of(request: &HttpRequest) -> &str {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `Retry-After` as a wait: delta seconds, or an HTTP date relative to `now_unix`.
pub fn retry_after(response: &HttpResponse, now_unix: u64) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now_unix)))
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<T: HttpTransport, C: Clock> HttpTransport for Resilient<T, C> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let deadline = self
            .clock
            .now()
            .checked_add(self.policy.request_timeout)
            .unwrap_or(Duration::MAX);
        let left = |clock: &C| deadline.saturating_sub(clock.now());
        if let Some(budget) = &self.budget {
            // The cap holds for the whole wait of this call, not for each turn: calls that
            // share a spent budget take the freed calls in turns, and a loser of every turn
            // fails once the cap is reached instead of waiting out the request timeout.
            let give_up = self
                .clock
                .now()
                .checked_add(self.policy.budget_wait_cap)
                .unwrap_or(Duration::MAX);
            loop {
                let now = self.clock.now();
                match budget.take(token_of(&request), now) {
                    Ok(()) => break,
                    Err(wait)
                        if now.saturating_add(wait) <= give_up && wait < left(&self.clock) =>
                    {
                        self.clock.sleep(wait).await;
                    }
                    Err(wait) => {
                        return Err(TransportError::RateBudget {
                            per_hour: budget.per_hour,
                            seconds: wait.as_secs().max(1),
                        });
                    }
                }
            }
        }
        let is_read = request.method == Method::Get;
        let mut tries = 0;
        loop {
            tries += 1;
            let remaining = left(&self.clock);
            if remaining.is_zero() {
                return Err(self.timeout_error());
            }
            let attempt = self.inner.send(request.clone());
            let outcome = match select(attempt, self.clock.sleep(remaining)).await {
                Either::Left((outcome, _)) => outcome,
                Either::Right(_) => return Err(self.timeout_error()),
            };
            let next = match &outcome {
                _ if !is_read || tries >= self.policy.max_tries => Next::Answer(outcome),
                Ok(r) if r.status == 429 => match retry_after(r, self.clock.unix_seconds()) {
                    Some(wait)
                        if wait <= self.policy.retry_after_cap && wait < left(&self.clock) =>
                    {
                        Next::RetryAfter(wait, outcome)
                    }
                    _ => Next::Answer(outcome),
                },
                Ok(r) if matches!(r.status, 502..=504) => {
                    Next::RetryAfter(self.backoff(tries), outcome)
                }
                Err(TransportError::Connect(_) | TransportError::Reset(_)) => {
                    Next::RetryAfter(self.backoff(tries), outcome)
                }
                _ => Next::Answer(outcome),
            };
            match next {
                Next::Answer(outcome) => return outcome,
                Next::RetryAfter(wait, outcome) => {
                    // A retry is a call to Mist too: it spends the budget, and never waits for it.
                    let spent = self
                        .budget
                        .as_ref()
                        .is_some_and(|b| b.take(token_of(&request), self.clock.now()).is_err());
                    if wait >= left(&self.clock) || spent {
                        return outcome;
                    }
                    tracing::debug!(tries, wait_ms = wait.as_millis() as u64, "retrying a read");
                    self.clock.sleep(wait).await;
                }
            }
        }
    }
}

impl<T, C: Clock> Resilient<T, C> {
    /// The wait before try `tries + 1`: a random part of `backoff * 2^(tries - 1)`.
    fn backoff(&self, tries: u32) -> Duration {
        let full = self
            .policy
            .backoff
            .checked_mul(2u32.saturating_pow(tries.saturating_sub(1)))
            .unwrap_or(Duration::MAX)
            .min(Duration::from_secs(60));
        full.mul_f64(0.5 + self.random() / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_lets_a_burst_through_then_frees_one_call_at_a_time() {
        let budget = RateBudget::new(3600); // one call per second once spent
        let t0 = Duration::from_secs(100);
        for _ in 0..3600 {
            assert!(budget.take("Token a", t0).is_ok());
        }
        let wait = budget.take("Token a", t0).expect_err("spent");
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(
            budget.take("Token b", t0).is_ok(),
            "another token has its own budget"
        );
        assert!(budget.take("Token a", t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(budget.remaining("Token a", t0 + Duration::from_secs(1)), 0);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let answer = |v: &str| HttpResponse {
            status: 429,
            headers: vec![("retry-after".into(), v.into())],
            body: Vec::new(),
        };
        assert_eq!(retry_after(&answer("7"), 0), Some(Duration::from_secs(7)));
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        let date = answer("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            retry_after(&date, 784_111_770),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&date, 784_111_800), Some(Duration::ZERO));
        assert_eq!(retry_after(&answer("soon"), 0), None);
    }
}
