//! (d) The cost of observability: the same gRPC Introspection load on a
//! service started three times, with nothing, with metrics
//! (`--metrics-listen`, scraped once a second as Prometheus would), and with
//! metrics and traces (OTLP to a receiver in this process, sampler ratio
//! 1.0). Rounds alternate the variants so drift hits them alike; the report
//! prints each variant's throughput and CPU per request and its ratio to
//! the plain service.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use crate::load::{self, GrpcCaller, Pids};
use crate::report::print_row;
use crate::service::{self, Variant};
use crate::stats::Stats;
use crate::{Config, env_f64};

/// Counts the spans it receives, like a collector that keeps up.
#[derive(Default, Clone)]
struct Sink(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn start_sink() -> Result<(SocketAddr, Sink), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let sink = Sink::default();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(sink.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Ok((addr, sink))
}

/// Scrapes `/metrics` every second while the load runs.
fn scrape_every_second(addr: SocketAddr) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let _ = client.get(format!("http://{addr}/metrics")).send().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

const VARIANTS: [(&str, Variant); 3] = [
    ("d. plain", Variant::Plain),
    ("d. metrics", Variant::Metrics),
    ("d. metrics+traces(1.0)", Variant::Traces),
];

/// Runs the comparison at one concurrency and prints it.
pub async fn compare(
    config: &Config,
    binary: Option<&Path>,
    fake: SocketAddr,
    fake_pid: Option<u32>,
) {
    let conc = env_f64("BENCH_OBS_CONC", 64.0).clamp(1.0, 4096.0) as usize;
    let rounds = env_f64("BENCH_OBS_ROUNDS", 2.0).clamp(1.0, 20.0) as usize;
    let (otlp, sink) = match start_sink().await {
        Ok(s) => s,
        Err(e) => return println!("cannot start the OTLP receiver: {e}"),
    };
    println!();
    println!(
        "(d) observability cost: gRPC Introspection, concurrency {conc}, {rounds} alternating rounds"
    );
    crate::report::print_header();
    let mut totals: Vec<Vec<Stats>> = VARIANTS.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (i, (label, variant)) in VARIANTS.iter().enumerate() {
            if *variant == Variant::Traces && binary.is_none() {
                continue; // traces need the binary: one global subscriber per process
            }
            match run(config, binary, fake, fake_pid, otlp, *variant, label, conc).await {
                Ok(stats) => {
                    print_row(&stats);
                    totals[i].push(stats);
                }
                Err(e) => println!("{label}: {e}"),
            }
        }
    }
    println!(
        "spans received by the OTLP receiver: {}",
        sink.0.load(Ordering::Relaxed)
    );
    summarize(&totals);
}

#[allow(clippy::too_many_arguments)]
async fn run(
    config: &Config,
    binary: Option<&Path>,
    fake: SocketAddr,
    fake_pid: Option<u32>,
    otlp: SocketAddr,
    variant: Variant,
    label: &str,
    conc: usize,
) -> Result<Stats, String> {
    let (mut svc, addr, metrics) = match binary {
        Some(bin) => service::start_variant(bin, fake, variant, otlp)?,
        None => service::start_in_process_variant(fake, variant).await?,
    };
    svc.wait_ready(addr).await?;
    let scraper = metrics.map(scrape_every_second);
    let pids = Pids {
        service: svc.is_child().then_some(svc.pid()),
        fake: fake_pid,
    };
    let conns = conc.div_ceil(16);
    let channels = load::connect(&load::endpoint(addr), conns)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let stats = load::measure(label, conc, config, pids, |i| {
        GrpcCaller::new(channels[i % conns].clone())
    })
    .await;
    if let Some(s) = scraper {
        s.abort();
    }
    svc.stop().await;
    Ok(stats)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn summarize(totals: &[Vec<Stats>]) {
    let rps = |i: usize| mean(totals[i].iter().map(|s| s.rps));
    let cpu = |i: usize| mean(totals[i].iter().filter_map(|s| s.service_cpu_us));
    let Some(base_rps) = rps(0) else {
        return;
    };
    println!();
    println!(
        "{:<26}{:>10}{:>12}{:>14}{:>12}",
        "variant", "mean rps", "vs plain", "svc_cpu us/rq", "vs plain"
    );
    for (i, (label, _)) in VARIANTS.iter().enumerate() {
        let Some(r) = rps(i) else { continue };
        let c = cpu(i);
        let c_ratio = match (c, cpu(0)) {
            (Some(c), Some(b)) if b > 0.0 => format!("{:.3}", c / b),
            _ => "-".to_owned(),
        };
        println!(
            "{:<26}{:>10.0}{:>12.3}{:>14}{:>12}",
            label,
            r,
            r / base_rps,
            c.map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
            c_ratio
        );
    }
}
