//! The decorator that makes calls to Authlete survive what can be survived:
//! the caller's deadline bounds every call, the circuit breaker fails fast
//! while Authlete is unreachable, and idempotent calls are retried on a 503,
//! a 429 or a connection failure (nothing sent), with jittered exponential
//! backoff honouring `Retry-After`, within a retry budget.

use std::sync::Arc;
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

use super::breaker::{Breaker, BreakerOptions, State};
use super::{Backend, BackendError, BoxFuture, Call, Reply, ResilienceMetrics};
use crate::deadline;

/// Retries, deadlines and the breaker.
#[derive(Debug, Clone)]
pub struct ResilienceOptions {
    /// Most retries of one idempotent call (`--authlete-retries`).
    pub retries: u32,
    /// The first backoff; each retry doubles it, with full jitter.
    pub backoff: Duration,
    /// The longest backoff; a longer `Retry-After` is not waited for.
    pub max_backoff: Duration,
    /// Retries allowed, as a percentage of recent calls (10 s window).
    pub retry_budget_percent: u32,
    /// `--authlete-request-timeout-ms`: the longest one call may take.
    pub request_timeout: Duration,
    /// Time kept back from the caller's deadline to answer it in time.
    pub deadline_margin: Duration,
    /// When Authlete counts as unreachable.
    pub breaker: BreakerOptions,
}

impl Default for ResilienceOptions {
    fn default() -> Self {
        Self {
            retries: 2,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            retry_budget_percent: 10,
            request_timeout: Duration::from_secs(10),
            deadline_margin: Duration::from_millis(10),
            breaker: BreakerOptions::default(),
        }
    }
}

/// See the module documentation.
pub struct Resilient {
    inner: Arc<dyn Backend>,
    options: ResilienceOptions,
    budget: TpsBudget,
    breaker: Breaker,
    metrics: ResilienceMetrics,
}

impl Resilient {
    pub fn new(
        inner: Arc<dyn Backend>,
        options: ResilienceOptions,
        metrics: ResilienceMetrics,
    ) -> Self {
        // At least one retry a second, so a quiet service still retries.
        let percent = options.retry_budget_percent as f32 / 100.0;
        Self {
            inner,
            budget: TpsBudget::new(Duration::from_secs(10), 1, percent),
            breaker: Breaker::new(options.breaker),
            options,
            metrics,
        }
    }

    async fn call_with_retries(&self, call: Call) -> Result<Reply, BackendError> {
        let api = call.api.path();
        let idempotent = call.idempotent();
        self.budget.deposit();
        let mut attempt = 0;
        loop {
            let error = match self.attempt(call.clone()).await {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            if !idempotent || attempt >= self.options.retries || !retryable(&error) {
                return Err(error);
            }
            // Authlete asked for a longer pause than a retry may wait: the
            // caller gets the error and its RetryInfo instead.
            if error
                .retry_after()
                .is_some_and(|after| after > self.options.max_backoff)
            {
                return Err(error);
            }
            let delay = self.backoff(attempt, error.retry_after());
            let room =
                deadline::remaining().map(|left| left.saturating_sub(self.options.deadline_margin));
            if room.is_some_and(|room| room <= delay) {
                tracing::info!(
                    api,
                    attempt,
                    reason = error.reason(),
                    "not retried: the caller's deadline leaves no room"
                );
                return Err(error);
            }
            if !self.budget.withdraw() {
                ResilienceMetrics::count(&self.metrics.retry_budget_exhausted, api);
                tracing::warn!(
                    api,
                    reason = error.reason(),
                    "not retried: the retry budget is spent"
                );
                return Err(error);
            }
            attempt += 1;
            ResilienceMetrics::count(&self.metrics.retries, api);
            tracing::warn!(
                api,
                attempt,
                reason = error.reason(),
                delay_ms = delay.as_millis() as u64,
                "retrying an Authlete call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One call, through the breaker and within the caller's deadline.
    async fn attempt(&self, call: Call) -> Result<Reply, BackendError> {
        let api = call.api.path();
        let permit = match self.breaker.admit() {
            Ok(permit) => {
                if permit.is_probe() {
                    self.metrics.breaker_state.set(State::HalfOpen as i64);
                }
                permit
            }
            Err(retry_after) => {
                ResilienceMetrics::count(&self.metrics.breaker_rejections, api);
                return Err(BackendError::CircuitOpen { api, retry_after });
            }
        };
        let left = deadline::remaining().map(|d| d.saturating_sub(self.options.deadline_margin));
        let (limit, callers) = match left {
            Some(left) if left < self.options.request_timeout => (left, true),
            _ => (self.options.request_timeout, false),
        };
        if limit.is_zero() {
            drop(permit);
            return Err(BackendError::DeadlineExceeded { api });
        }
        // The timeout drops the call, and with it the request to Authlete.
        let result = match tokio::time::timeout(limit, self.inner.call(call)).await {
            Ok(result) => result,
            Err(_) if callers => Err(BackendError::DeadlineExceeded { api }),
            Err(_) => Err(BackendError::Timeout {
                api,
                timeout_ms: limit.as_millis() as u64,
            }),
        };
        let failed = matches!(
            result,
            Err(BackendError::Connect { .. } | BackendError::Timeout { .. })
        );
        // The caller's deadline says nothing about Authlete's health.
        if matches!(result, Err(BackendError::DeadlineExceeded { .. })) {
            drop(permit);
        } else if let Some(state) = permit.settle(failed) {
            self.metrics.breaker_state.set(state as i64);
            match state {
                State::Open => tracing::error!(
                    api,
                    "Authlete unreachable: failing fast (circuit breaker open)"
                ),
                State::Closed => {
                    tracing::info!(api, "Authlete reachable again (circuit breaker closed)")
                }
                State::HalfOpen => {}
            }
        }
        result
    }

    /// Full jitter over an exponential ceiling; `Retry-After` is a floor.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self
            .options
            .backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.options.max_backoff);
        let jittered = ceiling.mul_f64(fastrand::f64());
        match retry_after {
            Some(after) => after.max(jittered),
            None => jittered,
        }
    }
}

/// Failures worth repeating: nothing was sent (connect), or Authlete said
/// to come back (503, 429).
fn retryable(error: &BackendError) -> bool {
    matches!(
        error,
        BackendError::Connect { .. }
            | BackendError::Status {
                status: 429 | 503,
                ..
            }
    )
}

impl Backend for Resilient {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        Box::pin(self.call_with_retries(call))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use super::*;
    use crate::backend::Api;

    /// Refuses every connection, counting the attempts.
    struct Refusing(AtomicUsize);

    impl Backend for Refusing {
        fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                Err(BackendError::Connect {
                    api: call.api.path(),
                    detail: "refused".to_owned(),
                })
            })
        }
    }

    fn call() -> Call {
        Call {
            api: Api::Introspection,
            query: Vec::new(),
            body: Some(b"{}".to_vec()),
        }
    }

    #[tokio::test]
    async fn an_open_breaker_fails_in_microseconds_without_calling() {
        let inner = Arc::new(Refusing(AtomicUsize::new(0)));
        let options = ResilienceOptions {
            retries: 0,
            ..ResilienceOptions::default()
        };
        let backend = Resilient::new(inner.clone(), options, ResilienceMetrics::default());
        for _ in 0..5 {
            backend.call(call()).await.unwrap_err();
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 5);
        let n = 10_000;
        let started = Instant::now();
        for _ in 0..n {
            let err = backend.call(call()).await.unwrap_err();
            assert!(matches!(err, BackendError::CircuitOpen { .. }), "{err}");
        }
        let per_call = started.elapsed() / n;
        println!("fail-fast call while open: {per_call:?}");
        assert_eq!(inner.0.load(Ordering::SeqCst), 5, "Authlete is not called");
        assert!(
            per_call < Duration::from_micros(100),
            "{per_call:?} per call"
        );
    }

    #[test]
    fn backoff_is_jittered_below_the_ceiling_and_honours_retry_after() {
        let backend = Resilient::new(
            Arc::new(Refusing(AtomicUsize::new(0))),
            ResilienceOptions::default(),
            ResilienceMetrics::default(),
        );
        for attempt in 0..6 {
            let ceiling = (Duration::from_millis(100) * (1 << attempt)).min(Duration::from_secs(2));
            assert!(backend.backoff(attempt, None) <= ceiling);
            let after = Duration::from_secs(1);
            assert!(backend.backoff(attempt, Some(after)) >= after);
        }
    }
}
