//! `relay agent` end to end, with real processes on loopback: a gateway (`relay serve`), an
//! agent (`relay agent`) and a local receiver the gateway itself is never told about.
//!
//! - events reach the receiver through the agent; the agent is killed with SIGKILL while
//!   events are being delivered and started again: every event arrives at least once, and
//!   each delivery has exactly one recorded success;
//! - a revoked token is refused (the agent exits 3 with the reason), a rotated one works;
//! - an agent whose `--forward` is outside its destination's `allow_targets` is refused;
//! - with no agent connected, deliveries wait unattempted, and go out when it connects;
//! - one agent sends each destination to its own local URL (two real receivers);
//! - the status (online, node, last seen, version, targets) and the audit entries of
//!   connections and refused credentials.

#[path = "agent/gateway.rs"]
mod gateway;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use gateway::Gateway;
use relay_tests::{Receiver, eventually};
use reqwest::Method;
use serde_json::Value;

const EVENTS: usize = 60;

/// `http://127.0.0.1:PORT/` of a receiver's `http://127.0.0.1:PORT/hook`.
fn origin(receiver: &Receiver) -> String {
    receiver.url.trim_end_matches("hook").to_owned()
}

fn numbers(receiver: &Receiver) -> BTreeSet<u64> {
    (receiver.received().iter())
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_sigkilled_agent_and_are_recorded_once() {
    let receiver = Receiver::ok().await;
    let gateway = Gateway::start(&origin(&receiver)).await;
    let token = gateway.create_agent("laptop").await;
    let mut agent = gateway.agent(&token, &receiver.url, "agent-1.log");
    // `relay agent` connects by itself; the first events may wait for it (agent_offline).

    let mut events = Vec::new();
    for n in 0..EVENTS / 3 {
        events.push(gateway.send("app", n).await);
    }
    eventually(Duration::from_secs(60), || {
        let count = receiver.count();
        async move { (count >= 5).then_some(()) }
    })
    .await
    .unwrap_or_else(|| panic!("nothing came through the agent: {}", gateway.log()));

    // Kill the agent while the rest of the events are being sent and delivered.
    for n in EVENTS / 3..EVENTS / 3 + 4 {
        events.push(gateway.send("app", n).await);
    }
    agent.kill().expect("SIGKILL the agent");
    agent.wait().expect("reap");
    for n in EVENTS / 3 + 4..EVENTS * 2 / 3 {
        events.push(gateway.send("app", n).await);
    }
    let mut agent = gateway.agent(&token, &receiver.url, "agent-2.log");
    for n in EVENTS * 2 / 3..EVENTS {
        events.push(gateway.send("app", n).await);
    }

    let all: BTreeSet<u64> = (0..EVENTS as u64).collect();
    eventually(Duration::from_secs(90), || {
        let got = numbers(&receiver);
        let all = all.clone();
        async move { (got == all).then_some(()) }
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "missing events {:?}; gateway log:\n{}",
            all.difference(&numbers(&receiver)).collect::<Vec<_>>(),
            gateway.log()
        )
    });

    let mut offline = 0;
    for event in &events {
        let deliveries = gateway.settled(event, "delivered").await;
        assert_eq!(deliveries.len(), 1);
        let log = deliveries[0]["attempt_log"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let delivered = log.iter().filter(|a| a["outcome"] == "delivered").count();
        assert_eq!(delivered, 1, "one recorded success: {log:?}");
        assert_eq!(
            log.last().map(|a| a["outcome"].clone()),
            Some("delivered".into())
        );
        let numbers: Vec<u64> = log.iter().filter_map(|a| a["number"].as_u64()).collect();
        assert_eq!(
            numbers,
            (1..=log.len() as u64).collect::<Vec<_>>(),
            "each attempt once"
        );
        offline += log
            .iter()
            .filter(|a| {
                a["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("agent_offline"))
            })
            .count();
    }
    println!(
        "{EVENTS} events, {} requests at the receiver, {offline} agent_offline attempts",
        receiver.count()
    );
    let (status, agents) = gateway.api(Method::GET, "/api/v1/agents", None).await;
    assert_eq!(status, 200);
    assert_eq!(agents[0]["name"], "laptop");
    assert_eq!(agents[0]["connected_target"], receiver.url.as_str());
    assert_eq!(agents[0]["online"], true, "{agents}");
    assert_eq!(agents[0]["targets"], serde_json::json!([receiver.url]));
    assert!(agents[0]["node"].is_string(), "{agents}");
    assert!(agents[0]["last_seen"].is_string(), "{agents}");
    assert_eq!(agents[0]["version"], env!("CARGO_PKG_VERSION"), "{agents}");
    assert!(agents[0].get("token").is_none(), "{agents}");
    agent.kill().expect("stop the agent");
    agent.wait().expect("reap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_are_refused_and_rotated_ones_work() {
    let receiver = Receiver::ok().await;
    let gateway = Gateway::start(&origin(&receiver)).await;
    let token = gateway.create_agent("laptop").await;

    let (status, _) = gateway
        .api(Method::POST, "/api/v1/agents/laptop/revoke", None)
        .await;
    assert_eq!(status, 200);
    let refused = gateway.agent_until_exit(&token, &receiver.url);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refused this agent (401)"), "{stderr}");

    let (status, rotated) = gateway
        .api(Method::POST, "/api/v1/agents/laptop/rotate", None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = rotated["token"].as_str().expect("a new token").to_owned();
    assert_ne!(fresh, token);
    let refused = gateway.agent_until_exit(&token, &receiver.url);
    assert_eq!(refused.status.code(), Some(3));

    let mut agent = gateway.agent(&fresh, &receiver.url, "agent.log");
    let event = gateway.send("app", 1).await;
    gateway.settled(&event, "delivered").await;
    assert_eq!(numbers(&receiver), BTreeSet::from([1]));
    agent.kill().expect("stop the agent");
    agent.wait().expect("reap");

    // An unknown token and a malformed one are refused the same way.
    let unknown = format!("rag_laptop_{}", "0".repeat(64));
    assert_eq!(
        gateway
            .agent_until_exit(&unknown, &receiver.url)
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        gateway
            .agent_until_exit("nonsense", &receiver.url)
            .status
            .code(),
        Some(3)
    );
    // Connections and refusals are audited under the agent.
    let (status, audit) = gateway
        .api(
            Method::GET,
            "/api/v1/audit?object_kind=agent&limit=100",
            None,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["items"].as_array().cloned().unwrap_or_default();
    let count = |action: &str| entries.iter().filter(|e| e["action"] == action).count();
    assert!(count("refuse") >= 4, "{audit}");
    assert!(count("connect") >= 1, "{audit}");
    assert!(count("disconnect") >= 1, "{audit}");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "refuse" && e["actor"] == "agent:laptop"),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_forward_outside_its_allow_list() {
    let receiver = Receiver::ok().await;
    let gateway = Gateway::start(&origin(&receiver)).await;
    let token = gateway.create_agent("laptop").await;
    let elsewhere = "http://127.0.0.1:9/admin";
    let refused = gateway.agent_until_exit(&token, elsewhere);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("(403)") && stderr.contains("outside the allow_targets"),
        "{stderr}"
    );
    assert!(gateway.log().contains("its targets do not fit"));
    // Nothing is delivered anywhere: the event waits for an allowed agent.
    let event = gateway.send("app", 7).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 0);
    let deliveries = gateway.deliveries(&event).await;
    assert_ne!(deliveries[0]["status"], "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_agent_deliveries_wait_unattempted_until_it_connects() {
    let receiver = Receiver::ok().await;
    let gateway = Gateway::start(&origin(&receiver)).await;
    let event = gateway.send("lonely", 1).await;
    // Longer than several worker polls (and `ghost`'s whole retry budget, were it attempted).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deliveries = gateway.deliveries(&event).await;
    assert_eq!(deliveries[0]["status"], "pending", "{deliveries:?}");
    assert_eq!(deliveries[0]["attempts"], 0, "{deliveries:?}");
    let (status, agents) = gateway.api(Method::GET, "/api/v1/agents", None).await;
    assert_eq!(status, 200);
    assert_eq!(agents, serde_json::json!([]), "no agent yet");

    let token = gateway.create_agent("ghost").await;
    let (_, agents) = gateway.api(Method::GET, "/api/v1/agents", None).await;
    assert_eq!(agents[0]["online"], false, "{agents}");
    assert!(agents[0].get("last_seen").is_none(), "{agents}");
    let mut agent = gateway.agent(&token, &receiver.url, "ghost.log");
    let deliveries = gateway.settled(&event, "delivered").await;
    let log = deliveries[0]["attempt_log"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(log.len(), 1, "one attempt, once the agent is here: {log:?}");
    assert_eq!(numbers(&receiver), BTreeSet::from([1]));
    agent.kill().expect("stop the agent");
    agent.wait().expect("reap");
    let offline = eventually(Duration::from_secs(30), || async {
        let (_, agents) = gateway.api(Method::GET, "/api/v1/agents", None).await;
        (agents[0]["online"] == false).then_some(agents)
    })
    .await
    .expect("offline once its connection is gone");
    assert!(offline[0]["last_seen"].is_string(), "{offline}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_destination_goes_to_its_own_local_url() {
    let billing = Receiver::ok().await;
    let crm = Receiver::ok().await;
    let gateway = Gateway::start_two(&origin(&billing), &origin(&crm)).await;
    let token = gateway.create_agent("laptop").await;
    // `local` (source `app`) to the billing receiver, `crm` (source `crm`) to the other.
    let forwards = [format!("local={}", billing.url), format!("crm={}", crm.url)];
    let mut agent = gateway.agent_forwarding(&token, &forwards, "agent.log");
    let mut events = Vec::new();
    for n in 0..5 {
        events.push(gateway.send("app", n).await);
        events.push(gateway.send("crm", 100 + n).await);
    }
    for event in &events {
        gateway.settled(event, "delivered").await;
    }
    assert_eq!(numbers(&billing), (0..5).collect());
    assert_eq!(numbers(&crm), (100..105).collect());
    let (_, agents) = gateway.api(Method::GET, "/api/v1/agents", None).await;
    let mut targets: Vec<String> = (agents[0]["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    targets.sort();
    let mut expected = forwards.to_vec();
    expected.sort();
    assert_eq!(targets, expected, "{agents}");
    agent.kill().expect("stop the agent");
    agent.wait().expect("reap");

    // A bound destination without a URL, or a URL outside its allow list: refused.
    let only_billing = [format!("local={}", billing.url)];
    let refused = gateway.agent_until_exit_forwarding(&token, &only_billing);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no URL for destination \"crm\""),
        "{stderr}"
    );
    let swapped = [
        format!("local={}", billing.url),
        format!("crm={}", billing.url),
    ];
    let refused = gateway.agent_until_exit_forwarding(&token, &swapped);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("outside the allow_targets"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_mirrors_a_source_with_a_line_per_event_and_cleans_up() {
    let receiver = Receiver::ok().await;
    let gateway = Gateway::start(&origin(&receiver)).await;
    let mut listen = gateway.listen("lonely", &receiver.url);
    let listening = |gateway: &Gateway| {
        let log = gateway.read("listen.log");
        log.contains("connected; forwarding")
    };
    eventually(Duration::from_secs(30), || {
        let up = listening(&gateway);
        async move { up.then_some(()) }
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "relay listen did not connect: {}",
            gateway.read("listen.log")
        )
    });
    let temporary = |names: Vec<String>| {
        names
            .into_iter()
            .filter(|n| n.starts_with("listen-lonely-"))
            .count()
    };
    assert_eq!(temporary(gateway.names("/api/v1/agents").await), 1);
    assert_eq!(temporary(gateway.names("/api/v1/routes").await), 1);
    assert_eq!(temporary(gateway.names("/api/v1/destinations").await), 1);

    gateway.send("lonely", 5).await;
    let line = eventually(Duration::from_secs(30), || {
        let out = gateway.read("listen.out");
        async move { out.lines().next().map(str::to_owned) }
    })
    .await
    .unwrap_or_else(|| panic!("no line printed: {}", gateway.read("listen.log")));
    assert_eq!(numbers(&receiver), BTreeSet::from([5]));
    // `200 test.event 3ms attempt 1 msg_…`, without color: standard output is not a terminal.
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[..2], ["200", "test.event"], "{line}");
    assert!(fields[2].ends_with("ms") && fields[4] == "1", "{line}");
    assert!(!line.contains('\x1b'), "{line:?}");

    let status = support::terminate(&mut listen);
    assert!(status.success(), "{}", gateway.read("listen.log"));
    assert!(gateway.read("listen.log").contains("removed"));
    assert_eq!(temporary(gateway.names("/api/v1/agents").await), 0);
    assert_eq!(temporary(gateway.names("/api/v1/routes").await), 0);
    assert_eq!(temporary(gateway.names("/api/v1/destinations").await), 0);
}

/// A CA and a certificate it issued for 127.0.0.1: (chain PEM, key PEM, CA PEM).
fn test_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "relay agent test CA");
    let ca_pem = ca.self_signed(&ca_key).expect("CA certificate").pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("leaf params");
    let cert = leaf.signed_by(&key, &issuer).expect("leaf certificate");
    (
        format!("{}{ca_pem}", cert.pem()),
        key.serialize_pem(),
        ca_pem,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_connects_over_tls_and_needs_to_trust_the_gateway() {
    let receiver = Receiver::ok().await;
    let (chain, key, ca) = test_certificates();
    let gateway = Gateway::start_tls(&origin(&receiver), (&chain, &key, &ca)).await;
    let token = gateway.create_agent("laptop").await;

    // Without the CA, the certificate is not trusted: the agent keeps retrying, never connects.
    let mut untrusting = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .args([
            "agent",
            "--gateway",
            &gateway.url(),
            "--forward",
            &receiver.url,
        ])
        .env("RELAY_AGENT_TOKEN", &token)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(
            std::fs::File::create(gateway.dir.path().join("untrusting.log")).expect("log"),
        ))
        .spawn()
        .expect("start relay agent");
    let complained = eventually(Duration::from_secs(30), || {
        let log = gateway.read("untrusting.log");
        async move { log.contains("cannot reach the gateway").then_some(log) }
    })
    .await
    .expect("the agent reports the failed handshake");
    assert!(complained.contains("certificate"), "{complained}");
    untrusting.kill().expect("stop");
    untrusting.wait().expect("reap");

    let mut agent = gateway.agent(&token, &receiver.url, "agent.log");
    let event = gateway.send("app", 3).await;
    gateway.settled(&event, "delivered").await;
    assert_eq!(numbers(&receiver), BTreeSet::from([3]));
    assert!(gateway.read("agent.log").contains("connected; forwarding"));
    agent.kill().expect("stop the agent");
    agent.wait().expect("reap");

    // `relay listen` over HTTPS: the admin API calls and the WebSocket trust the same CA.
    let mut listen = gateway.listen("lonely", &receiver.url);
    eventually(Duration::from_secs(30), || {
        let log = gateway.read("listen.log");
        async move { log.contains("connected; forwarding").then_some(()) }
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "relay listen did not connect: {}",
            gateway.read("listen.log")
        )
    });
    gateway.send("lonely", 4).await;
    eventually(Duration::from_secs(30), || {
        let out = gateway.read("listen.out");
        async move { out.starts_with("200 test.event").then_some(()) }
    })
    .await
    .unwrap_or_else(|| panic!("no line printed: {}", gateway.read("listen.log")));
    assert!(support::terminate(&mut listen).success());
}
