//! An optional second service to compare with: `BENCH_BASELINE_BIN` names
//! another release binary (say, one built without the listener limits),
//! started as a child next to the service under test and measured right
//! after it at every concurrency level, so both numbers come from one run.

use std::net::SocketAddr;
use std::path::PathBuf;

use tonic::transport::Endpoint;

use crate::Config;
use crate::load::{self, GrpcCaller, Pids};
use crate::report::print_row;
use crate::service::{self, Service};
use crate::stats::Stats;

/// The baseline service, its endpoint and the processes its runs watch.
pub struct Baseline {
    pub service: Service,
    endpoint: Endpoint,
    pids: Pids,
}

/// Starts the baseline when `BENCH_BASELINE_BIN` is set; prints why not.
pub async fn start(fake_pids: Pids, fake: SocketAddr) -> Option<Baseline> {
    let bin = PathBuf::from(std::env::var_os("BENCH_BASELINE_BIN")?);
    println!("baseline service: child process {}", bin.display());
    let (mut service, addr) = match service::start_child(&bin, fake) {
        Ok(started) => started,
        Err(e) => {
            println!("no baseline: {e}");
            return None;
        }
    };
    if let Err(e) = service.wait_ready(addr).await {
        println!("no baseline: {e}");
        service.stop().await;
        return None;
    }
    let pids = Pids {
        service: Some(service.pid()),
        fake: fake_pids.fake,
    };
    Some(Baseline {
        service,
        endpoint: load::endpoint(addr),
        pids,
    })
}

impl Baseline {
    /// (b0): the same Introspection load on the baseline.
    pub async fn measure(&self, config: &Config, conc: usize) -> Option<Stats> {
        let conns = conc.div_ceil(16);
        let channels = load::connect(&self.endpoint, conns).await.ok()?;
        let label = format!("b0. baseline/{conns}c");
        let stats = load::measure(&label, conc, config, self.pids, |i| {
            GrpcCaller::new(channels[i % conns].clone())
        })
        .await;
        print_row(&stats);
        Some(stats)
    }
}

/// Throughput of the service under test against the baseline, per level.
pub fn print_comparison(levels: &[(usize, f64, Option<f64>)]) {
    if levels.iter().all(|(_, _, b)| b.is_none()) {
        return;
    }
    println!();
    println!("throughput of the service (b) against the baseline (b0):");
    for &(conc, b, b0) in levels {
        if let Some(b0) = b0 {
            println!(
                "  {conc:>4} streams: {b:>9.0} vs {b0:>9.0} RPC/s ({:+.1}%)",
                (b / b0 - 1.0) * 100.0
            );
        }
    }
}
