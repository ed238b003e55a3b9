//! The runs at each concurrency level, side by side in one run: (a) the fake
//! directly, (p) the minimal passthrough, (b) Introspection, (b0) the
//! optional baseline, (c) health, (d) cached ServiceConfiguration, (e) the
//! bare tonic echo, (f) cached Introspection, (g) cached Check.

use std::net::SocketAddr;

use tonic::transport::{Channel, Endpoint};

use crate::load::{
    self, Caller, CheckCaller, DirectCaller, DiscoveryCaller, GrpcCaller, HealthCaller, Pids,
};
use crate::report::{bench_share, print_header, print_row};
use crate::stats::{Stats, memory_text};
use crate::{Config, HEALTH_MAX_CONC, baseline};

/// The runs at one concurrency level, and the service's memory after (b).
pub struct Level {
    pub direct: Stats,
    pub passthrough: Option<Stats>,
    pub grpc: Stats,
    pub memory_after: String,
    pub health: Option<Stats>,
    /// (d) cached ServiceConfiguration and (e) the bare echo server.
    pub cached: Stats,
    pub echo: Stats,
    /// (f) Introspection and (g) Envoy's Check on the service with the
    /// introspection cache on.
    pub cached_introspection: Option<Stats>,
    pub cached_check: Option<Stats>,
    pub baseline: Option<Stats>,
}

/// A gRPC server a run calls, and the processes whose CPU it records.
#[derive(Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    pub pids: Pids,
}

impl Target {
    pub fn new(addr: SocketAddr, pids: Pids) -> Self {
        Self {
            endpoint: load::endpoint(addr),
            pids,
        }
    }
}

/// What the runs call.
pub struct Targets<'a> {
    pub direct: DirectCaller,
    /// The service's address, for the Connect rows.
    pub service_addr: SocketAddr,
    pub service: Target,
    pub echo: Target,
    pub passthrough: Option<Target>,
    pub cached: Option<Target>,
    pub service_pid: u32,
    pub baseline: Option<&'a baseline::Baseline>,
}

/// Runs every concurrency level, printing a row per run; stops at the first
/// level that cannot connect to the service.
pub async fn run_levels(config: &Config, targets: &Targets<'_>) -> Vec<Level> {
    println!();
    println!(
        "CPU us per request (from /proc/<pid>/task/*/schedstat): svc_cpu = the server process of the row, \
         fake_cpu = fake Authlete process, client_cpu = this process ({})",
        bench_share(targets.service.pids)
    );
    print_header();
    let mut levels = Vec::new();
    for &conc in &config.concurrency {
        let Some(level) = run_level(config, targets, conc).await else {
            break;
        };
        levels.push(level);
    }
    levels
}

/// One gRPC row: `conc` streams over one HTTP/2 connection per 16.
async fn row<C: Caller>(
    config: &Config,
    target: &Target,
    name: &str,
    conc: usize,
    make: fn(Channel) -> C,
) -> Option<Stats> {
    let conns = conc.div_ceil(16);
    let channels = match load::connect(&target.endpoint, conns).await {
        Ok(channels) => channels,
        Err(e) => {
            println!("cannot connect for {name}: {e}");
            return None;
        }
    };
    let label = format!("{name}/{conns}c");
    let stats = load::measure(&label, conc, config, target.pids, |i| {
        make(channels[i % conns].clone())
    })
    .await;
    print_row(&stats);
    Some(stats)
}

async fn run_level(config: &Config, targets: &Targets<'_>, conc: usize) -> Option<Level> {
    let pids = targets.service.pids;
    let direct = load::measure("a. direct HTTP to fake", conc, config, pids, |_| {
        targets.direct.clone()
    })
    .await;
    print_row(&direct);
    let passthrough = match &targets.passthrough {
        Some(t) => row(config, t, "p. passthrough", conc, GrpcCaller::new).await,
        None => None,
    };
    let service = &targets.service;
    let grpc = row(
        config,
        service,
        "b. gRPC Introspection",
        conc,
        GrpcCaller::new,
    )
    .await?;
    crate::connect::measure(config, targets.service_addr, conc, pids, &grpc).await;
    let memory_after = memory_text(targets.service_pid);
    let baseline = match targets.baseline {
        Some(b) => b.measure(config, conc).await,
        None => None,
    };
    let health = if conc <= HEALTH_MAX_CONC {
        row(config, service, "c. gRPC health", conc, HealthCaller::new).await
    } else {
        None
    };
    let cached = row(
        config,
        service,
        "d. gRPC ServiceConfig",
        conc,
        DiscoveryCaller::new,
    )
    .await?;
    let echo = row(
        config,
        &targets.echo,
        "e. bare tonic echo",
        conc,
        HealthCaller::new,
    )
    .await?;
    let (cached_introspection, cached_check) = match &targets.cached {
        Some(t) => (
            row(config, t, "f. cached Introspection", conc, GrpcCaller::new).await,
            row(config, t, "g. cached Check", conc, CheckCaller::new).await,
        ),
        None => (None, None),
    };
    Some(Level {
        direct,
        passthrough,
        grpc,
        memory_after,
        health,
        cached,
        echo,
        cached_introspection,
        cached_check,
        baseline,
    })
}
