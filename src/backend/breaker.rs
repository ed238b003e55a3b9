//! The circuit breaker in front of Authlete: after `failures` consecutive
//! connection failures or timeouts, calls fail at once for a window that
//! doubles on each failed probe (up to `max_open`); when it ends, one call at a
//! time goes through as a probe, and its success closes the breaker.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerOptions {
    /// Consecutive connection failures or timeouts that open it; 0 disables it.
    pub failures: u32,
    /// The first open window.
    pub open: Duration,
    /// The longest open window.
    pub max_open: Duration,
}

impl Default for BreakerOptions {
    fn default() -> Self {
        Self {
            failures: 5,
            open: Duration::from_secs(1),
            max_open: Duration::from_secs(30),
        }
    }
}

/// The breaker's state, as its gauge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Consecutive failures while closed.
    failures: u32,
    /// The current (or next) open window.
    window: Duration,
    /// While open: when the next probe may go.
    until: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Breaker {
    options: BreakerOptions,
    inner: Mutex<Inner>,
}

/// Leave to make one call. A probe that is dropped without a verdict (the
/// caller went away) lets the next call probe instead.
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    settled: bool,
}

impl Breaker {
    pub fn new(options: BreakerOptions) -> Self {
        Self {
            options,
            inner: Mutex::new(Inner {
                state: State::Closed,
                failures: 0,
                window: options.open,
                until: Instant::now(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state now.
    #[cfg(test)]
    pub fn state(&self) -> State {
        self.lock().state
    }

    /// A permit to call, or how long until the breaker lets a call through.
    pub fn admit(&self) -> Result<Permit<'_>, Duration> {
        if self.options.failures == 0 {
            return Ok(self.permit(false));
        }
        let mut inner = self.lock();
        match inner.state {
            State::Closed => Ok(self.permit(false)),
            State::Open => {
                let now = Instant::now();
                if now < inner.until {
                    return Err(inner.until - now);
                }
                inner.state = State::HalfOpen;
                Ok(self.permit(true))
            }
            // One probe at a time; the others wait for its verdict.
            State::HalfOpen => Err(self.options.open.min(inner.window)),
        }
    }

    fn permit(&self, probe: bool) -> Permit<'_> {
        Permit {
            breaker: self,
            probe,
            settled: false,
        }
    }
}

impl Permit<'_> {
    /// Whether this call is the probe of a half-open breaker.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Records the outcome: `failed` is a connection failure or a timeout.
    /// Returns the state when it changed.
    pub fn settle(mut self, failed: bool) -> Option<State> {
        self.settled = true;
        let options = self.breaker.options;
        if options.failures == 0 {
            return None;
        }
        let mut inner = self.breaker.lock();
        let before = inner.state;
        match (failed, self.probe) {
            (false, _) => {
                inner.state = State::Closed;
                inner.failures = 0;
                inner.window = options.open;
            }
            (true, true) => {
                inner.window = (inner.window * 2).min(options.max_open);
                inner.state = State::Open;
                inner.until = Instant::now() + inner.window;
            }
            (true, false) => {
                inner.failures += 1;
                if inner.state == State::Closed && inner.failures >= options.failures {
                    inner.state = State::Open;
                    inner.window = options.open;
                    inner.until = Instant::now() + inner.window;
                }
            }
        }
        (inner.state != before).then_some(inner.state)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            let mut inner = self.breaker.lock();
            if inner.state == State::HalfOpen {
                inner.state = State::Open;
                inner.until = Instant::now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerOptions {
            failures: 2,
            open: Duration::from_millis(40),
            max_open: Duration::from_millis(100),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_a_probe_closes_it() {
        let b = breaker();
        assert_eq!(b.admit().unwrap().settle(true), None);
        // A success in between resets the count.
        assert_eq!(b.admit().unwrap().settle(false), None);
        assert_eq!(b.admit().unwrap().settle(true), None);
        assert_eq!(b.admit().unwrap().settle(true), Some(State::Open));
        let wait = b.admit().unwrap_err();
        assert!(wait <= Duration::from_millis(40) && wait > Duration::ZERO);
        tokio::time::advance(Duration::from_millis(41)).await;
        let probe = b.admit().expect("one probe");
        assert_eq!(b.state(), State::HalfOpen);
        assert!(b.admit().is_err(), "one probe at a time");
        assert_eq!(probe.settle(false), Some(State::Closed));
        assert!(b.admit().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probes_double_the_window_up_to_the_maximum() {
        let b = breaker();
        b.admit().unwrap().settle(true);
        b.admit().unwrap().settle(true);
        for expected in [80, 100, 100] {
            tokio::time::advance(Duration::from_millis(101)).await;
            assert_eq!(b.admit().unwrap().settle(true), Some(State::Open));
            assert_eq!(b.admit().unwrap_err(), Duration::from_millis(expected));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_lets_the_next_call_probe() {
        let b = breaker();
        b.admit().unwrap().settle(true);
        b.admit().unwrap().settle(true);
        tokio::time::advance(Duration::from_millis(41)).await;
        drop(b.admit().unwrap());
        assert!(b.admit().is_ok(), "the next call probes");
    }

    #[test]
    fn zero_failures_disables_it() {
        let b = Breaker::new(BreakerOptions {
            failures: 0,
            ..BreakerOptions::default()
        });
        for _ in 0..10 {
            b.admit().unwrap().settle(true);
        }
        assert_eq!(b.state(), State::Closed);
    }
}
