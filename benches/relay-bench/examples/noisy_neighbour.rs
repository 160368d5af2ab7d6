//! Noisy neighbour: does one tenant hammering the gateway at 10x its ingest limit slow
//! another tenant down? And what does a daily quota (one store counter per event) cost?
//!
//! One process, one gateway (axum + `RelayLayer` over a `Relay` on a fresh `SqliteStore`,
//! `synchronous=FULL`), two tenants with a source `s` each (no signature, no routes: ingest
//! only). In alternating rounds:
//!
//! - **solo**: the quiet tenant sends `--quiet-rate` requests/s on one keep-alive connection
//!   for `--seconds`; every latency is recorded;
//! - **noisy**: the same, while the noisy tenant (limited to `--limit` requests/s) offers 10x
//!   that over 8 connections; its 200s and 429s are counted.
//!
//! Then the quota cost: the most events/s one tenant gets accepted over 64 connections
//! without limits, and with a `daily_quota` (never reached), alternating.
//!
//! Run with (release mode matters):
//!
//! ```text
//! cargo run --release -p relay-bench --example noisy_neighbour -- 3 10
//! ```
//!
//! (arguments: rounds, seconds per measurement.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use relay_core::Relay;
use relay_core::control::admin::{Principal, TenantLimits};
use relay_core::control::credentials::Keyring;
use relay_core::model::ids::TenantId;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::net::TcpStream;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Requests/s the noisy tenant is allowed.
const LIMIT: u32 = 100;
/// Requests/s the quiet tenant sends.
const QUIET_RATE: u32 = 100;

struct Gateway {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn gateway(tenants: &[(&str, TenantLimits)]) -> Result<Gateway, Error> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())?;
    let relay = Relay::builder()
        .store(Arc::new(store))
        .keyring(Keyring::generate())
        .build()?;
    let platform = Principal::system(TenantId::default());
    for (name, limits) in tenants {
        relay.tenants().create(&platform, name, *limits).await?;
        let tenant = TenantId::new(*name);
        let spec = serde_json::from_value(serde_json::json!({"name": "s", "scheme": "none"}))?;
        (relay.scoped(&tenant).await?)
            .objects()
            .create_source(&Principal::system(tenant), spec)
            .await?;
    }
    let app = axum::Router::new().layer(relay_axum::RelayLayer::new(relay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Gateway { addr, _dir: dir })
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

/// Sends on one keep-alive connection to `path` until `until`, one request every `every`
/// (`None`: as fast as answers come); returns each request's latency.
async fn connection(
    addr: SocketAddr,
    path: String,
    every: Option<Duration>,
    until: Instant,
    counts: Arc<Counts>,
    id: u64,
) -> Result<Vec<Duration>, Error> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut latencies = Vec::new();
    let mut next = Instant::now();
    let mut n = 0u64;
    while Instant::now() < until {
        if let Some(every) = every {
            tokio::time::sleep_until(next.into()).await;
            next += every;
        }
        n += 1;
        let request = http::Request::post(path.as_str())
            .header("host", "bench")
            .header("idempotency-key", format!("{id}-{n}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{\"bench\":true}")))?;
        let started = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        latencies.push(started.elapsed());
        let counter = match status {
            200 => &counts.ok,
            429 => &counts.limited,
            _ => &counts.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    Ok(latencies)
}

/// `connections` connections to `path` for `seconds`, together sending `rate` requests/s
/// (`None`: as fast as they can). Returns the latencies and the counts.
async fn load(
    addr: SocketAddr,
    path: &str,
    connections: u64,
    rate: Option<u32>,
    seconds: u64,
    tag: u64,
) -> Result<(Vec<Duration>, Arc<Counts>), Error> {
    let counts = Arc::new(Counts::default());
    let until = Instant::now() + Duration::from_secs(seconds);
    let every = rate.map(|r| Duration::from_secs(connections) / r);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (path, counts) = (path.to_owned(), Arc::clone(&counts));
        let id = tag * 1_000 + c;
        tasks.push(tokio::spawn(connection(
            addr, path, every, until, counts, id,
        )));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    latencies.sort_unstable();
    Ok((latencies, counts))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().map_or(Ok(3), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(10), |a| a.parse())?;
    let limited = TenantLimits {
        rate_per_second: Some(LIMIT),
        burst: Some(LIMIT),
        ..TenantLimits::default()
    };
    let gw = gateway(&[("quiet", TenantLimits::default()), ("noisy", limited)]).await?;
    println!(
        "| round | quiet alone p50 / p99 (ms) | quiet beside noisy p50 / p99 (ms) | noisy offered/s | noisy 200/s | noisy 429/s |"
    );
    println!("|---|---|---|---|---|---|");
    let (mut solo50, mut solo99, mut noisy50, mut noisy99) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let tag = round * 10;
        let (solo, _) = load(
            gw.addr,
            "/webhooks/quiet/s",
            1,
            Some(QUIET_RATE),
            seconds,
            tag,
        )
        .await?;
        let quiet = load(
            gw.addr,
            "/webhooks/quiet/s",
            1,
            Some(QUIET_RATE),
            seconds,
            tag + 1,
        );
        let noisy = load(
            gw.addr,
            "/webhooks/noisy/s",
            8,
            Some(LIMIT * 10),
            seconds,
            tag + 2,
        );
        let ((beside, _), (_, counts)) = tokio::try_join!(quiet, noisy)?;
        let per_s = |n: &AtomicU64| n.load(Ordering::Relaxed) as f64 / seconds as f64;
        let (ok, limited) = (per_s(&counts.ok), per_s(&counts.limited));
        let offered = ok + limited + per_s(&counts.other);
        let row = [
            percentile(&solo, 0.5),
            percentile(&solo, 0.99),
            percentile(&beside, 0.5),
            percentile(&beside, 0.99),
        ];
        println!(
            "| {} | {:.2} / {:.2} | {:.2} / {:.2} | {offered:.0} | {ok:.0} | {limited:.0} |",
            round + 1,
            row[0],
            row[1],
            row[2],
            row[3]
        );
        solo50.push(row[0]);
        solo99.push(row[1]);
        noisy50.push(row[2]);
        noisy99.push(row[3]);
    }
    let (s50, s99, n50, n99) = (
        median(solo50),
        median(solo99),
        median(noisy50),
        median(noisy99),
    );
    println!(
        "\nmedian: quiet p50 {s50:.2} ms alone, {n50:.2} ms beside noisy ({:.2}x); p99 {s99:.2} ms, {n99:.2} ms ({:.2}x)",
        n50 / s50,
        n99 / s99
    );

    let quota = TenantLimits {
        daily_quota: Some(u64::MAX / 2),
        ..TenantLimits::default()
    };
    let gw = gateway(&[("plain", TenantLimits::default()), ("counted", quota)]).await?;
    println!("\n| round | no quota events/s | daily_quota events/s |");
    println!("|---|---|---|");
    let (mut plain, mut counted) = (vec![], vec![]);
    for round in 0..rounds {
        let mut rates = [0.0; 2];
        for (i, path) in ["/webhooks/plain/s", "/webhooks/counted/s"]
            .into_iter()
            .enumerate()
        {
            let tag = 100 + round * 10 + i as u64;
            let (_, counts) = load(gw.addr, path, 64, None, seconds, tag).await?;
            rates[i] = counts.ok.load(Ordering::Relaxed) as f64 / seconds as f64;
        }
        println!("| {} | {:.0} | {:.0} |", round + 1, rates[0], rates[1]);
        plain.push(rates[0]);
        counted.push(rates[1]);
    }
    let (p, c) = (median(plain), median(counted));
    println!(
        "\nmedian: {p:.0} events/s without a quota, {c:.0} with ({:.0}%)",
        100.0 * c / p
    );
    Ok(())
}
