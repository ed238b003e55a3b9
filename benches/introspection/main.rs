//! Load benchmark of `IntrospectionService/Introspection` against a fast fake
//! Authlete on loopback.
//!
//! Run with `cargo build --release && cargo bench --bench introspection`.
//!
//! It measures, for several concurrency levels, (a) calling the fake Authlete
//! directly over HTTP/1.1 with the JSON the service sends, (p) a minimal
//! passthrough (tonic -> reqwest -> JSON), (b) calling the service over gRPC,
//! (f) the same and (g) Envoy's ext_authz Check on a service with the
//! introspection cache on, and the
//! baselines of `levels.rs`; then prints throughput, latency percentiles,
//! the latency the service adds, the ratios the targets are set in, and
//! resident memory. It asserts nothing about speed.
//!
//! By default the service runs as a child process (the release binary next to
//! this bench executable), so that its memory is measured alone; without the
//! binary, or with `BENCH_MODE=inproc`, it runs inside this process.
//!
//! Environment: `BENCH_SECS` (measured seconds per run, default 3),
//! `BENCH_WARMUP_SECS` (default 1), `BENCH_CONC` (default `1,64,256`),
//! `BENCH_MAX_REQUESTS` (cap per run, default 2000000), `BENCH_OBS_CONC`
//! and `BENCH_OBS_ROUNDS` (the observability comparison (d): concurrency,
//! default 64, and alternating rounds, default 2), `BENCH_MODE`
//! (`child` or `inproc`), `BENCH_SERVICE_THREADS` (the child's
//! `TOKIO_WORKER_THREADS`; default: tokio's, one per core), `BENCH_FAKE`
//! (`inproc` runs the fake Authlete in this process even when the service is
//! a child; by default it is a child process too when the service is),
//! `BENCH_BASELINE_BIN` (another release binary, measured as "b0" right
//! after the service at every level: see `baseline.rs`).
//!
//! This file is the entry point: the configuration and the order of the
//! runs. `fake` and `fake_server` are the fake Authlete, `service` the service
//! under test, `load` the load loops, `stats` the measurements and `report`
//! the printed report.

mod baseline;
mod connect;
mod echo;
mod fake;
mod fake_server;
mod levels;
mod load;
mod observability;
mod passthrough;
mod report;
mod service;
mod stats;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use fake::Fake;
use levels::{Target, Targets};
use load::{DirectCaller, Pids};
use report::{print_added_latency, print_intro, print_memory, print_ratios};
use service::Service;
use stats::memory_text;

/// The service API key: Authlete's v3 API paths start with `/api/<it>`.
const SERVICE_ID: &str = "1234";
/// The service access token, as a literal for `concat!`.
macro_rules! service_token {
    () => {
        "tok"
    };
}
const SERVICE_TOKEN: &str = service_token!();
/// The `Authorization` header the service sends to Authlete (v3).
const SERVICE_AUTHORIZATION: &str = concat!("Bearer ", service_token!());
/// The health baseline (c) runs only up to this concurrency, to bound the run time.
pub(crate) const HEALTH_MAX_CONC: usize = 64;

// ---------------------------------------------------------------------------
// Settings

struct Config {
    warmup: Duration,
    measure: Duration,
    concurrency: Vec<usize>,
    max_requests: usize,
    force_inproc: bool,
    fake_inproc: bool,
}

pub(crate) fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Self {
        let concurrency = std::env::var("BENCH_CONC")
            .ok()
            .map(|v| {
                v.split(',')
                    .filter_map(|s| s.trim().parse::<usize>().ok())
                    .filter(|c| (1..=4096).contains(c))
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec![1, 64, 256]);
        Self {
            warmup: Duration::from_secs_f64(env_f64("BENCH_WARMUP_SECS", 1.0).min(60.0)),
            measure: Duration::from_secs_f64(env_f64("BENCH_SECS", 3.0).clamp(0.1, 120.0)),
            concurrency,
            max_requests: env_f64("BENCH_MAX_REQUESTS", 2_000_000.0).max(1.0) as usize,
            force_inproc: std::env::var("BENCH_MODE").is_ok_and(|m| m == "inproc"),
            fake_inproc: std::env::var("BENCH_FAKE").is_ok_and(|m| m == "inproc"),
        }
    }
}

// ---------------------------------------------------------------------------
// Orchestration

#[tokio::main]
async fn main() {
    match std::env::var(fake::ROLE_ENV).as_deref() {
        Ok("fake") => return fake::run_process().await,
        Ok("passthrough") => return passthrough::run_process().await,
        Ok("echo") => return echo::run_process().await,
        _ => {}
    }
    let config = Config::from_env();
    let bench_started = Instant::now();
    print_intro(&config);
    let Some((fake, fake_addr, service, addr)) = start(&config).await else {
        return;
    };
    let pid = service.pid();
    let pids = Pids {
        service: service.is_child().then_some(pid),
        fake: fake.pid(),
    };
    let memory_before = memory_text(pid);
    let bench_memory_before = memory_text(std::process::id());
    let Some((echo, echo_child)) = printed(echo::start(pids.service.is_some()).await) else {
        service.stop().await;
        return;
    };
    let echo_pids = Pids {
        service: echo_child.as_ref().and_then(fake::RoleChild::pid),
        fake: None,
    };
    let baseline = baseline::start(pids, fake_addr).await;
    let (passthrough, passthrough_child) = start_passthrough(fake_addr, pids).await;
    let cached = start_cached(&config, fake_addr, pids).await;
    let targets = Targets {
        direct: DirectCaller::new(fake_addr),
        service_addr: addr,
        service: Target::new(addr, pids),
        echo: Target::new(echo, echo_pids),
        passthrough,
        cached: cached.as_ref().map(|(_, t)| t.clone()),
        service_pid: pid,
        baseline: baseline.as_ref(),
    };
    let levels = levels::run_levels(&config, &targets).await;
    drop(passthrough_child);
    drop(echo_child);
    if let Some((service, _)) = cached {
        service.stop().await;
    }
    print_added_latency(&levels);
    print_ratios(&levels);
    print_memory(pids, pid, &memory_before, &bench_memory_before, &levels);
    let compared: Vec<_> = levels
        .iter()
        .map(|l| {
            (
                l.grpc.concurrency,
                l.grpc.rps,
                l.baseline.as_ref().map(|b| b.rps),
            )
        })
        .collect();
    baseline::print_comparison(&compared);
    service.stop().await;
    if let Some(b) = baseline {
        b.service.stop().await;
    }
    let binary = service::release_binary().filter(|_| !config.force_inproc);
    observability::compare(&config, binary.as_deref(), fake_addr, pids.fake).await;
    println!("{}", fake.finish().await);
    println!("total time {:.1} s", bench_started.elapsed().as_secs_f64());
}

/// Starts the fake Authlete and the service, and waits until the service is
/// ready; prints why not and returns `None` when something fails.
async fn start(config: &Config) -> Option<(Fake, SocketAddr, Service, SocketAddr)> {
    let binary = service::release_binary().filter(|_| !config.force_inproc);
    let (fake_addr, fake) = printed(start_fake(config, binary.is_some()).await)?;
    let started = start_service(config, binary.as_deref(), fake_addr).await;
    let (mut service, addr) =
        printed(started.map_err(|e| format!("cannot start the service: {e}")))?;
    if let Err(e) = service.wait_ready(addr).await {
        println!("{e}");
        service.stop().await;
        return None;
    }
    Some((fake, fake_addr, service, addr))
}

/// The minimal passthrough, a child when the service is one.
async fn start_passthrough(
    fake: SocketAddr,
    pids: Pids,
) -> (Option<Target>, Option<fake::RoleChild>) {
    match passthrough::start(fake, pids.service.is_some()).await {
        Ok((addr, child)) => {
            let pids = Pids {
                service: child.as_ref().and_then(fake::RoleChild::pid),
                fake: pids.fake,
            };
            (Some(Target::new(addr, pids)), child)
        }
        Err(e) => {
            println!("no passthrough row: {e}");
            (None, None)
        }
    }
}

/// A second service, with the introspection cache on, started as the
/// first one was.
async fn start_cached(config: &Config, fake: SocketAddr, pids: Pids) -> Option<(Service, Target)> {
    let binary = service::release_binary().filter(|_| !config.force_inproc);
    let started = service::start_cached(binary.as_deref(), fake).await;
    let (mut service, addr) = printed(started.map_err(|e| format!("no cached row: {e}")))?;
    if let Err(e) = service.wait_ready(addr).await {
        println!("no cached row: {e}");
        service.stop().await;
        return None;
    }
    let pids = Pids {
        service: service.is_child().then(|| service.pid()),
        fake: pids.fake,
    };
    Some((service, Target::new(addr, pids)))
}

fn printed<T>(result: Result<T, String>) -> Option<T> {
    result.map_err(|e| println!("{e}")).ok()
}

/// A child process when the service is one, unless `BENCH_FAKE=inproc`.
async fn start_fake(config: &Config, service_in_child: bool) -> Result<(SocketAddr, Fake), String> {
    if service_in_child && !config.fake_inproc {
        println!("fake Authlete: child process (this executable)");
        fake::start_child().await
    } else {
        println!("fake Authlete: in this process");
        fake::start_in_process().await
    }
}

/// A child process running `binary` when there is one, else in-process.
async fn start_service(
    config: &Config,
    binary: Option<&Path>,
    fake: SocketAddr,
) -> Result<(Service, SocketAddr), String> {
    if let Some(bin) = binary {
        println!("service: child process {}", bin.display());
        return service::start_child(bin, fake);
    }
    if !config.force_inproc {
        println!(
            "note: target/release/authlete-grpc not found; run `cargo build --release` first \
             to measure the service as a separate process. Falling back to in-process."
        );
    }
    println!("service: in-process (the fake Authlete and the client share its memory and CPU)");
    service::start_in_process(fake).await
}
