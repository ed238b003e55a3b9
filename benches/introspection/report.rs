//! The printed report: the introduction, a table row per run, the latency
//! the service adds, and the memory of each process.

use crate::levels::Level;
use crate::load::Pids;
use crate::stats::{Stats, memory_text};
use crate::{Config, fake_server};

pub fn print_intro(config: &Config) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("authlete-grpc introspection benchmark (loopback, fake Authlete)");
    println!(
        "cores: {cores}; warm-up {:.1} s + measured {:.1} s per run; concurrency {:?}; reply body {} bytes",
        config.warmup.as_secs_f64(),
        config.measure.as_secs_f64(),
        config.concurrency,
        fake_server::INTROSPECTION_REPLY.len()
    );
}

/// What this process runs besides the client.
pub fn bench_share(pids: Pids) -> &'static str {
    match (pids.service.is_some(), pids.fake.is_some()) {
        (true, true) => "the client",
        (true, false) => "client + fake Authlete",
        _ => "client + fake Authlete + service",
    }
}

pub fn print_header() {
    println!(
        "{:<26}{:>6}{:>10}{:>7}{:>9}{:>8}{:>8}{:>8}{:>9}{:>9}{:>11}",
        "mode",
        "conc",
        "requests",
        "errors",
        "rps",
        "p50_us",
        "p90_us",
        "p99_us",
        "svc_cpu",
        "fake_cpu",
        "client_cpu"
    );
}

pub fn print_row(s: &Stats) {
    let cpu = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    println!(
        "{:<26}{:>6}{:>10}{:>7}{:>9.0}{:>8.0}{:>8.0}{:>8.0}{:>9}{:>9}{:>11}",
        s.label,
        s.concurrency,
        s.requests,
        s.errors,
        s.rps,
        s.p50_us,
        s.p90_us,
        s.p99_us,
        cpu(s.service_cpu_us),
        cpu(s.fake_cpu_us),
        cpu(s.bench_cpu_us)
    );
}

pub fn print_added_latency(levels: &[Level]) {
    println!();
    println!("added latency of the service (b minus a), and of the gRPC hop alone (c minus a):");
    for Level {
        direct: a,
        grpc: b,
        health: c,
        ..
    } in levels
    {
        let hop = c.as_ref().map_or_else(String::new, |c| {
            format!(
                "; gRPC hop alone p50 {:+.0} us, p99 {:+.0} us",
                c.p50_us - a.p50_us,
                c.p99_us - a.p99_us
            )
        });
        println!(
            "  conc {:>4}: p50 {:+.0} us, p99 {:+.0} us; throughput {:.0} vs {:.0} RPC/s{hop}",
            a.concurrency,
            b.p50_us - a.p50_us,
            b.p99_us - a.p99_us,
            b.rps,
            a.rps
        );
    }
}

/// The throughput ratios the targets are set in: uncached Introspection (b)
/// to the passthrough (p), target at least 0.9x; cached Introspection (f),
/// cached Check (g) and cached ServiceConfiguration (d) to the bare tonic
/// echo (e), target at least 0.8x.
pub fn print_ratios(levels: &[Level]) {
    println!();
    println!("throughput ratios (targets: b/p >= 0.9x, f/e and g/e >= 0.8x; d/e for reference):");
    let ratio = |x: &Stats, y: &Stats| if y.rps > 0.0 { x.rps / y.rps } else { 0.0 };
    let text = |x: Option<&Stats>, y: &Stats| {
        x.map_or_else(
            || "-".to_owned(),
            |x| format!("{:.2}x ({:.0} vs {:.0} RPC/s)", ratio(x, y), x.rps, y.rps),
        )
    };
    for level in levels {
        let vs_passthrough = match &level.passthrough {
            Some(p) => text(Some(&level.grpc), p),
            None => "-".to_owned(),
        };
        println!(
            "  conc {:>4}: uncached Introspection / passthrough {vs_passthrough}; \
             cached Introspection / echo {}; cached Check / echo {}; cached ServiceConfig / echo {}",
            level.grpc.concurrency,
            text(level.cached_introspection.as_ref(), &level.echo),
            text(level.cached_check.as_ref(), &level.echo),
            text(Some(&level.cached), &level.echo),
        );
    }
}

/// The service's memory before the load and after each level's (b); in
/// child mode also this process's, and the child fake's.
pub fn print_memory(pids: Pids, pid: u32, before: &str, bench_before: &str, levels: &[Level]) {
    println!();
    let child_mode = pids.service.is_some();
    let who = if child_mode {
        format!("service process (pid {pid}, alone)")
    } else {
        "bench process (service + fake Authlete + client, in one process)".to_owned()
    };
    println!("memory of the {who}:");
    println!("  before load:        {before}");
    for level in levels {
        let conc = level.grpc.concurrency;
        println!("  after conc {conc:>4}:    {}", level.memory_after);
    }
    if child_mode {
        println!(
            "memory of the bench process ({}): before {bench_before}; after {}",
            bench_share(pids),
            memory_text(std::process::id())
        );
    }
    if let Some(fake_pid) = pids.fake {
        println!(
            "memory of the fake Authlete process: {}",
            memory_text(fake_pid)
        );
    }
}
