//! What a run measured: latency percentiles, CPU time from
//! /proc/<pid>/task/*/schedstat and memory from /proc/<pid>/status.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// The figures of one run.
pub struct Stats {
    pub label: String,
    /// CPU time of the service process per measured request, in µs.
    pub service_cpu_us: Option<f64>,
    /// CPU time of the fake Authlete process per measured request, in µs.
    pub fake_cpu_us: Option<f64>,
    /// CPU time of this process per measured request, in µs.
    pub bench_cpu_us: Option<f64>,
    pub concurrency: usize,
    pub requests: usize,
    pub errors: u64,
    pub rps: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
}

/// The `q` quantile (nearest rank) of latencies sorted in ns, in µs.
pub fn percentile_us(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_ns.len() as f64).ceil() as usize).clamp(1, sorted_ns.len());
    sorted_ns[rank - 1] as f64 / 1000.0
}

/// CPU time per request in µs, when there were requests.
pub fn per_request_us(cpu: Option<Duration>, requests: usize) -> Option<f64> {
    cpu.filter(|_| requests > 0)
        .map(|d| d.as_secs_f64() * 1e6 / requests as f64)
}

/// CPU time of a process: the sum of its threads' `sum_exec_runtime` from
/// /proc/<pid>/task/*/schedstat (nanosecond precision; utime/stime in
/// /proc/<pid>/stat are tick-sampled and badly overcount a mostly idle
/// process). Threads that exit in between are not counted.
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        total += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

/// CPU time spent by `pid` between `from` and `to`.
async fn cpu_between(pid: u32, from: Instant, to: Instant) -> Option<Duration> {
    tokio::time::sleep_until(from.into()).await;
    let a = cpu_time(pid)?;
    tokio::time::sleep_until(to.into()).await;
    Some(cpu_time(pid)?.saturating_sub(a))
}

/// A task that samples a process's CPU time at the start and the end of a
/// window; it samples nothing without a process.
pub struct CpuProbe(Option<JoinHandle<Option<Duration>>>);

impl CpuProbe {
    pub fn start(pid: Option<u32>, from: Instant, to: Instant) -> Self {
        Self(pid.map(|pid| tokio::spawn(cpu_between(pid, from, to))))
    }

    /// The CPU time spent in the window, once it has ended.
    pub async fn finish(self) -> Option<Duration> {
        match self.0 {
            Some(h) => h.await.ok().flatten(),
            None => None,
        }
    }
}

/// (VmRSS, VmHWM) in KiB from /proc/<pid>/status.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The resident and peak resident memory of a process, as printed.
pub fn memory_text(pid: u32) -> String {
    match memory_kib(pid) {
        Some((rss, hwm)) => format!(
            "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
        None => "unavailable (no /proc)".to_owned(),
    }
}
