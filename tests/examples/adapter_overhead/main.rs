//! The cost of an adapter: the same ingest (source `raw`, no signature, in-memory store, no
//! routes, a 1 KiB JSON body, a new idempotency key per request) served by actix-web with
//! `RelayMiddleware`, axum with `RelayLayer`, and each framework's bare handler calling
//! `Relay::ingest` itself; plus each framework answering a static reply without Relay, the
//! ceiling. Every server runs one worker thread; the load generator runs on the main thread
//! over keep-alive connections, so on a 2-core machine both have a core. The load generator
//! limits throughput, so the figure that tells the servers apart is their CPU time per
//! request (the server's threads, from `/proc/self/task/*/schedstat`).
//!
//! Run with: `cargo run --release -p relay-tests --example adapter_overhead -- [REQUESTS] [CONCURRENCY]`
//! (defaults 20000 and 16). Every configuration runs three rounds, interleaved, each on a fresh
//! server and relay; the table shows the round with the median server CPU per request.

mod cpu;
mod load;
mod servers;

use load::Stats;
use servers::Server;

const ROUNDS: usize = 3;

fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().map_or(20_000, |a| a.parse().expect("REQUESTS"));
    let concurrency: usize = args.next().map_or(16, |a| a.parse().expect("CONCURRENCY"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mut rounds: Vec<Vec<Stats>> = vec![Vec::new(); Server::ALL.len()];
    for round in 1..=ROUNDS {
        for (server, results) in Server::ALL.iter().zip(&mut rounds) {
            let running = server.start();
            let stats = runtime.block_on(load::run(running.addr, requests, concurrency));
            runtime.block_on(running.stop());
            eprintln!("round {round}: {:<34} {stats}", server.name());
            results.push(stats);
        }
    }
    println!("{requests} requests, {concurrency} concurrent, median of {ROUNDS} rounds\n");
    println!("| server | server CPU per request | req/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for (server, mut results) in Server::ALL.iter().zip(rounds) {
        results.sort_by_key(|stats| stats.cpu);
        let median = &results[ROUNDS / 2];
        println!(
            "| {} | {:.1} µs | {:.0} | {} µs | {} µs |",
            server.name(),
            median.cpu.as_secs_f64() * 1e6,
            median.per_second,
            median.p50.as_micros(),
            median.p99.as_micros()
        );
    }
}
