//! Abuse of the real `relay` binary: oversized bodies, slow uploads and slow heads, a flood of
//! requests to unknown sources, malformed signature headers for every scheme, header floods,
//! deeply nested JSON and non-UTF-8 bytes in the path, the headers and the body.
//!
//! Nothing may panic, nothing may answer a 5xx (the contract's only 5xx is 503, for a store
//! that cannot commit, and the store here is fine), the process must stay up and keep
//! accepting genuine webhooks, and its peak memory (VmHWM) must stay bounded. Every stage
//! prints what it tried. `RELAY_LONG_FAULTS=1` sends 100,000 requests to unknown sources
//! instead of 10,000.

mod support;

#[path = "abuse/raw.rs"]
mod raw;
#[path = "abuse/setup.rs"]
mod setup;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use relay_tests::{Receiver, eventually, github_signature};
use support::{free_port, start_logged, terminate};

use raw::{post_raw, request};
use setup::{SECRET, SIGNED, malformed_values, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_is_refused_without_a_panic_a_5xx_or_unbounded_memory() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &dir.path().join("relay.db"), addr, &receiver.url);
    let log = dir.path().join("relay.log");
    let mut gateway = start_logged(&config, addr, &[], &log).await;
    let pid = gateway.id();
    let mut tried = 0usize;

    tried += oversized_bodies(addr).await;
    tried += slow_senders(addr).await;
    tried += unknown_source_flood(addr).await;
    tried += malformed_signatures(addr).await;
    tried += header_floods(addr).await;
    tried += deep_json(addr).await;
    tried += non_utf8(addr).await;

    assert!(gateway.try_wait().expect("wait").is_none(), "relay died");
    // Still serving genuine webhooks, and delivering them.
    let body = br#"{"ref":"refs/heads/main","after":"abuse-survived"}"#;
    let signature = github_signature(SECRET, body);
    let headers: [(&str, &[u8]); 4] = [
        ("x-hub-signature-256", signature.as_bytes()),
        ("x-github-event", b"push"),
        ("x-github-delivery", b"genuine-1"),
        ("content-type", b"application/json"),
    ];
    let reply = post_raw(addr, "/webhooks/github", &headers, body).await;
    assert_eq!(reply.status, Some(200), "{reply:?}");
    let delivered = eventually(Duration::from_secs(30), || {
        let got = receiver
            .received()
            .iter()
            .any(|r| r.body.as_ref() == body.as_slice());
        async move { got.then_some(()) }
    })
    .await;
    assert!(delivered.is_some(), "the genuine webhook was not delivered");

    let peak_kib = peak_memory_kib(pid);
    let status = terminate(&mut gateway);
    assert!(status.success(), "graceful stop after abuse, got {status}");
    let log = std::fs::read_to_string(&log).expect("read log");
    assert!(!log.contains("panicked"), "relay panicked:\n{log}");
    println!(
        "abuse: {tried} requests tried; no panic, no 5xx; peak memory {} MiB",
        peak_kib / 1024
    );
    assert!(peak_kib < 512 * 1024, "peak memory {peak_kib} KiB");
}

/// 413 for a declared length over the limit before a byte of the body is sent, and for a
/// chunked body once it passes the limit.
async fn oversized_bodies(addr: SocketAddr) -> usize {
    let head = "POST /webhooks/small HTTP/1.1\r\nhost: relay\r\ncontent-length: 100000000\r\n\r\n";
    let started = Instant::now();
    let reply = request(addr, head.as_bytes(), Duration::from_secs(20)).await;
    assert_eq!(reply.status, Some(413), "declared 100 MB: {reply:?}");
    assert!(reply.text.contains("payload_too_large"), "{reply:?}");
    println!(
        "abuse: 100 MB declared, 0 sent: 413 in {:?}",
        started.elapsed()
    );
    let total = 64 << 20;
    let reply = raw::chunked_flood(addr, "/webhooks/small", total).await;
    // The server answers and closes; a reset may reach the client before the answer does,
    // but then it must have stopped reading long before the end.
    let refused =
        reply.reply.status == Some(413) || (reply.reply.status.is_none() && reply.written < total);
    assert!(refused, "chunked 64 MiB: {:?}", reply.reply.status);
    println!(
        "abuse: chunked body to a 64 KiB limit: 413 after the client wrote {} KiB",
        reply.written / 1024
    );
    2
}

/// A body trickling in, a head trickling in: both cut off near `request_timeout_ms` (2 s).
async fn slow_senders(addr: SocketAddr) -> usize {
    let started = Instant::now();
    let body = raw::trickle_body(addr, "/webhooks/open", 1_000).await;
    let body_secs = started.elapsed().as_secs_f64();
    assert!(
        matches!(body.status, None | Some(400 | 408)),
        "slow body: {body:?}"
    );
    assert!(
        body_secs < 30.0,
        "the slow body was cut off after {body_secs:.1} s"
    );
    let started = Instant::now();
    let reply = raw::trickle_head(addr).await;
    let head_secs = started.elapsed().as_secs_f64();
    assert!(
        matches!(reply.status, None | Some(408)),
        "slow head: {reply:?}"
    );
    assert!(
        head_secs < 30.0,
        "the slow head was cut off after {head_secs:.1} s"
    );
    println!(
        "abuse: slow body cut off after {body_secs:.1} s (answer {:?}), slow head after \
         {head_secs:.1} s (answer {:?})",
        body.status, reply.status
    );
    2
}

async fn unknown_source_flood(addr: SocketAddr) -> usize {
    let total = if std::env::var("RELAY_LONG_FAULTS").as_deref() == Ok("1") {
        100_000
    } else {
        10_000
    };
    let clients = 32;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let http = relay_core::tls::client();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        return;
                    }
                    let url = format!("http://{addr}/webhooks/nobody-{i}");
                    let response = http.post(url).body("{}").send().await.expect("answer");
                    assert_eq!(response.status(), 404);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("flood task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "abuse: {total} requests to unknown sources from {clients} clients: all 404, \
         {:.0} requests/s",
        total as f64 / secs
    );
    total
}

async fn malformed_signatures(addr: SocketAddr) -> usize {
    let values = malformed_values();
    let mut tried = 0;
    for (source, names) in SIGNED {
        for value in &values {
            let mut headers: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, &value[..])).collect();
            headers.push(("content-type", b"application/json"));
            let path = format!("/webhooks/{source}");
            let reply = post_raw(addr, &path, &headers, br#"{"type":"x","id":"1"}"#).await;
            tried += 1;
            assert!(
                matches!(reply.status, Some(401) | Some(400)),
                "{source} with {:?}: {reply:?}",
                String::from_utf8_lossy(&value[..value.len().min(40)])
            );
        }
    }
    println!(
        "abuse: {tried} malformed signature headers over {} schemes: all refused",
        SIGNED.len()
    );
    tried
}

/// 200 headers, one 1 MiB header: refused (431) or the connection closed; never a 5xx.
async fn header_floods(addr: SocketAddr) -> usize {
    let many: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| (format!("x-flood-{i}"), b"v".to_vec()))
        .collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
    let reply = post_raw(addr, "/webhooks/open", &many, b"{}").await;
    assert!(
        matches!(reply.status, None | Some(431)),
        "200 headers: {reply:?}"
    );
    let huge = vec![b'h'; 1 << 20];
    let reply = post_raw(addr, "/webhooks/open", &[("x-huge", &huge[..])], b"{}").await;
    assert!(
        matches!(reply.status, None | Some(431)),
        "1 MiB header: {reply:?}"
    );
    println!(
        "abuse: 200 headers and a 1 MiB header refused ({:?})",
        reply.status
    );
    2
}

/// Nesting far past the parser's depth limit is stored raw, not parsed (no stack overflow).
async fn deep_json(addr: SocketAddr) -> usize {
    let mut tried = 0;
    for depth in [65, 1_000, 100_000, 400_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            let key = format!("deep-{depth}-{open}");
            let headers: [(&str, &[u8]); 2] = [
                ("idempotency-key", key.as_bytes()),
                ("content-type", b"application/json"),
            ];
            let reply = post_raw(addr, "/webhooks/open", &headers, body.as_bytes()).await;
            tried += 1;
            let status = reply.status;
            assert!(
                matches!(status, Some(200 | 413)),
                "depth {depth}: {reply:?}"
            );
        }
    }
    println!("abuse: {tried} deeply nested JSON bodies (65 to 400,000 levels) accepted raw");
    tried
}

/// Non-UTF-8 bytes in the path, in header values and in bodies (JSON- and form-typed).
async fn non_utf8(addr: SocketAddr) -> usize {
    let mut tried = 0;
    for path in ["/webhooks/%FF%FE", "/webhooks/op%C3%28en", "/webhooks/%00"] {
        let reply = post_raw(addr, path, &[], b"{}").await;
        tried += 1;
        assert!(matches!(reply.status, Some(400 | 404)), "{path}: {reply:?}");
    }
    let bodies: [&[u8]; 4] = [
        b"\xff\xfe\xfd",
        b"{\"a\":\"\xff\"}",
        b"a=\xff&b=%FF",
        b"\x00\x00",
    ];
    for (i, body) in bodies.iter().enumerate() {
        for content_type in ["application/json", "application/x-www-form-urlencoded"] {
            let key = format!("utf8-{i}-{content_type}");
            let headers: [(&str, &[u8]); 4] = [
                ("idempotency-key", key.as_bytes()),
                ("x-event-type", b"\xff\xfe"),
                ("x-other", b"caf\xe9"),
                ("content-type", content_type.as_bytes()),
            ];
            let reply = post_raw(addr, "/webhooks/open", &headers, body).await;
            tried += 1;
            assert_eq!(
                reply.status,
                Some(200),
                "body {i} as {content_type}: {reply:?}"
            );
        }
    }
    let headers: [(&str, &[u8]); 1] = [("idempotency-key", b"\xff\x80")];
    let reply = post_raw(addr, "/webhooks/open", &headers, b"{}").await;
    tried += 1;
    assert_eq!(reply.status, Some(200), "non-UTF-8 key: {reply:?}");
    println!("abuse: {tried} requests with non-UTF-8 paths, headers and bodies: no 5xx");
    tried
}

/// The process's peak resident memory (VmHWM) in KiB.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}
