//! The hub: connections, outcomes, drains, per-destination URLs.

use super::*;

fn frame() -> DeliverFrame {
    DeliverFrame {
        id: 0,
        delivery_id: "d".into(),
        destination: "dest".into(),
        event_type: "push".into(),
        attempt: 1,
        target: String::new(),
        headers: Vec::new(),
        body: String::new(),
        timeout_ms: 1000,
    }
}

fn a() -> HeldAgent {
    HeldAgent::new(crate::model::ids::TenantId::default(), "a")
}

fn to(url: &str) -> AgentTargets {
    AgentTargets::single(url)
}

fn allowed() -> Vec<String> {
    vec!["http://127.0.0.1:3000/".into()]
}

#[tokio::test]
async fn offline_answer_and_late_outcomes() {
    let hub = AgentHub::default();
    let offline = hub
        .deliver(&a(), &allowed(), frame(), Duration::from_secs(1))
        .await;
    assert!(
        matches!(offline, Err(AgentFailure::Offline(_))),
        "{offline:?}"
    );

    let mut session = hub.connect(&a(), to("http://127.0.0.1:3000/x"));
    let answering = {
        let hub = hub.clone();
        tokio::spawn(async move {
            let sent = session.frames.recv().await.unwrap();
            assert_eq!(sent.target, "http://127.0.0.1:3000/x");
            let outcome = OutcomeFrame {
                id: sent.id,
                status: Some(204),
                latency_ms: 1,
                error: None,
                excerpt: None,
                retry_after_secs: None,
            };
            assert!(hub.complete(&a(), session.id, outcome.clone()));
            // The same outcome again is not waited for any more.
            assert!(!hub.complete(&a(), session.id, outcome));
            session
        })
    };
    let outcome = hub
        .deliver(&a(), &allowed(), frame(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(outcome.status, Some(204));
    let session = answering.await.unwrap();

    // Outside the allow list: nothing is sent.
    let refused = hub
        .deliver(
            &a(),
            &["http://127.0.0.1:4000/".into()],
            frame(),
            Duration::from_secs(1),
        )
        .await;
    assert!(matches!(refused, Err(AgentFailure::Offline(m)) if m.contains("allow_targets")));

    // A reconnection replaces the session; the old one's disconnect does not remove it.
    let newer = hub.connect(&a(), to("http://127.0.0.1:3000/"));
    hub.disconnect(&a(), session.id);
    assert_eq!(hub.held().len(), 1);
    hub.disconnect(&a(), newer.id);
    assert!(hub.held().is_empty());
}

#[tokio::test]
async fn a_dropped_connection_fails_the_attempt_waiting_on_it() {
    let hub = AgentHub::default();
    let session = hub.connect(&a(), to("http://127.0.0.1:3000/"));
    let waiting = {
        let hub = hub.clone();
        tokio::spawn(async move {
            hub.deliver(&a(), &allowed(), frame(), Duration::from_secs(60))
                .await
        })
    };
    while hub
        .state()
        .agents
        .get(&a())
        .is_some_and(|c| c.pending.is_empty())
    {
        tokio::task::yield_now().await;
    }
    hub.disconnect(&a(), session.id);
    let result = waiting.await.unwrap();
    assert!(matches!(result, Err(AgentFailure::Offline(m)) if m.contains("disconnected")));
}

#[tokio::test]
async fn no_answer_is_a_timeout() {
    let hub = AgentHub::default();
    let _session = hub.connect(&a(), to("http://127.0.0.1:3000/"));
    let result = hub
        .deliver(&a(), &allowed(), frame(), Duration::from_millis(20))
        .await;
    assert!(matches!(result, Err(AgentFailure::Timeout { .. })));
}

#[tokio::test]
async fn each_destination_goes_to_its_own_url() {
    let hub = AgentHub::default();
    let targets = AgentTargets::parse([
        "http://127.0.0.1:3000/default",
        "billing=http://127.0.0.1:3000/billing",
    ])
    .unwrap();
    let mut session = hub.connect(&a(), targets);
    for (destination, url) in [
        ("billing", "http://127.0.0.1:3000/billing"),
        ("dest", "http://127.0.0.1:3000/default"),
    ] {
        let mut sent = frame();
        sent.destination = destination.into();
        let waiting = {
            let hub = hub.clone();
            tokio::spawn(async move {
                hub.deliver(&a(), &allowed(), sent, Duration::from_millis(50))
                    .await
            })
        };
        let got = session.frames.recv().await.unwrap();
        assert_eq!(got.target, url);
        assert!(matches!(
            waiting.await.unwrap(),
            Err(AgentFailure::Timeout { .. })
        ));
    }
    assert!(hub.is_connected(&a()));
    assert_eq!(hub.held(), vec![a()]);
}

#[tokio::test]
async fn a_draining_connection_takes_outcomes_but_no_new_attempts() {
    let hub = AgentHub::default();
    let mut session = hub.connect(&a(), to("http://127.0.0.1:3000/"));
    let waiting = {
        let hub = hub.clone();
        tokio::spawn(async move {
            hub.deliver(&a(), &allowed(), frame(), Duration::from_secs(60))
                .await
        })
    };
    let sent = session.frames.recv().await.unwrap();
    assert!(hub.drain(&a(), session.id));
    assert!(!hub.is_connected(&a()));
    assert!(hub.held().is_empty());
    let refused = hub
        .deliver(&a(), &allowed(), frame(), Duration::from_secs(1))
        .await;
    assert!(matches!(refused, Err(AgentFailure::Offline(_))));
    let outcome = OutcomeFrame {
        id: sent.id,
        status: Some(200),
        latency_ms: 1,
        error: None,
        excerpt: None,
        retry_after_secs: None,
    };
    assert!(hub.complete(&a(), session.id, outcome));
    assert_eq!(waiting.await.unwrap().unwrap().status, Some(200));
    hub.disconnect(&a(), session.id);
    assert!(hub.state().draining.is_empty());
}
