//! Bare axum: the same POSTs answered with 200 and a small JSON body, nothing else. The
//! ceiling that HTTP handling alone (client included) allows on this machine.

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use http::header::CONTENT_TYPE;

use crate::error::BenchError;
use crate::load::{self, Load};
use crate::proc;
use crate::sample::Sample;
use crate::server::AppServer;

/// The same shape and size as the gateway's accepted reply.
const ACCEPTED: &str = r#"{"status":"accepted","event_id":"evt_0196f3a29c1e7bb08d3c2f6a51e0c4d7"}"#;

fn app() -> Router {
    Router::new().route(
        "/webhooks/{source}",
        post(|body: Bytes| async move {
            std::hint::black_box(body);
            ([(CONTENT_TYPE, "application/json")], ACCEPTED)
        }),
    )
}

/// One run against bare axum.
pub async fn measure(load: Load) -> Result<Sample, BenchError> {
    let server = start().await?;
    proc::reset_peak_rss();
    let cpu = proc::CpuClock::start();
    let report = load::run(server.addr, load).await?;
    let cpu = cpu.cores();
    let peak = proc::peak_rss_kib();
    server.stop().await?;
    Ok(Sample {
        peak_rss_kib: peak,
        cpu,
        ..Sample::from_load(report)
    })
}

/// Bare axum on an ephemeral loopback port (the open-loop scenarios drive it themselves).
pub async fn start() -> Result<AppServer, BenchError> {
    AppServer::start(app()).await
}
