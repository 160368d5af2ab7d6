//! The fan-out: every observer sees the pipeline's steps, in order.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;

use super::*;
use crate::Relay;
use crate::deliver::WorkerConfig;
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::deliver::policy::RetryPolicy;
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::ingest::{IngestRequest, RequestId};
use crate::route::EventRoute;

/// Writes down the ingests and attempts it sees, one line each.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    start_time: bool,
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn push(&self, line: String) {
        self.seen.lock().unwrap().push(line);
    }
}

impl Observer for Recorder {
    fn wants_start_time(&self) -> bool {
        self.start_time
    }

    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        let started = if ingest.started.is_some() {
            " timed"
        } else {
            ""
        };
        let line = format!(
            "ingest {} {}{started}",
            ingest.source,
            ingest.outcome.code()
        );
        self.push(line);
    }

    fn on_refused(&self, refused: &RefusedSeen<'_>) {
        let known = if refused.source_known {
            "known"
        } else {
            "unknown"
        };
        let line = format!(
            "refused {} {known} {}",
            refused.source,
            refused.outcome.code()
        );
        self.push(line);
    }

    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        let (destination, number) = (attempt.destination, attempt.number);
        let line = format!(
            "attempt {destination} #{number} {}",
            attempt.outcome.as_str()
        );
        self.push(line);
    }

    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        let (destination, number) = (recorded.destination, recorded.number);
        let line = format!(
            "recorded {destination} #{number} {}",
            recorded.outcome.as_str()
        );
        self.push(line);
    }
}

/// A relay whose `app` handler fails its first attempt, observed by `observers`.
fn relay(observers: &[Arc<Recorder>]) -> Relay {
    let failed_once = Arc::new(Mutex::new(false));
    let app = Destination::handler("app", move |_message: Message| {
        let failed_once = failed_once.clone();
        async move {
            let mut failed = failed_once.lock().unwrap();
            if *failed {
                Ok(())
            } else {
                *failed = true;
                Err(HandlerError::Retry("first attempt fails".into()))
            }
        }
    })
    .policy(RetryPolicy::schedule([Duration::from_millis(10)]));
    let builder = Relay::builder()
        .source(WebhookSource::new("forms", NoSignature))
        .destination(app)
        .route(EventRoute::new("all").to(["app"]));
    let builder = (observers.iter()).fold(builder, |b, o| b.observer(Arc::clone(o)));
    builder.build().unwrap()
}

fn request(source: &str) -> IngestRequest {
    let mut headers = HeaderMap::new();
    headers.insert("idempotency-key", "order-1".parse().unwrap());
    IngestRequest::new(source, headers, Bytes::from_static(b"{}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_observer_sees_one_ingest_and_its_attempts_in_order() {
    let first = Arc::new(Recorder::default());
    let second = Arc::new(Recorder::default());
    let relay = relay(&[Arc::clone(&first), Arc::clone(&second)]);
    let worker = relay.spawn_worker(WorkerConfig::default());
    relay.ingest(request("forms")).await;
    let want = [
        "ingest forms accepted",
        "attempt app #1 retrying",
        "recorded app #1 retrying",
        "attempt app #2 delivered",
        "recorded app #2 delivered",
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while second.lines().len() < want.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            second.lines()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.shutdown().await;
    // The worker may attempt the delivery before ingest has told the observers (it is woken
    // by the commit, on another thread): the attempts are in order, the ingest is seen once.
    for seen in [first.lines(), second.lines()] {
        let attempts: Vec<_> = seen.iter().filter(|l| !l.starts_with("ingest")).collect();
        assert_eq!(attempts, want[1..].iter().collect::<Vec<_>>(), "{seen:?}");
        let ingests: Vec<_> = seen.iter().filter(|l| l.starts_with("ingest")).collect();
        assert_eq!(ingests, [&want[0]], "{seen:?}");
    }
}

#[tokio::test]
async fn refusals_and_unknown_sources_are_told_apart() {
    let recorder = Arc::new(Recorder::default());
    let relay = relay(&[Arc::clone(&recorder)]);
    relay.ingest(request("nobody")).await;
    let id = RequestId::generate();
    relay.refuse("forms", &id, IngestOutcome::PayloadTooLarge);
    relay.refuse("nobody", &id, IngestOutcome::UnknownSource);
    assert_eq!(
        recorder.lines(),
        [
            "ingest nobody unknown_source",
            "refused forms known payload_too_large",
            "refused nobody unknown unknown_source",
        ]
    );
}

#[tokio::test]
async fn the_clock_is_read_only_when_an_observer_wants_it() {
    let untimed = Arc::new(Recorder::default());
    let relay_untimed = relay(&[Arc::clone(&untimed)]);
    relay_untimed.ingest(request("forms")).await;
    assert_eq!(untimed.lines(), ["ingest forms accepted"]);

    let timed = Arc::new(Recorder {
        start_time: true,
        ..Recorder::default()
    });
    let relay_timed = relay(&[Arc::new(Recorder::default()), Arc::clone(&timed)]);
    relay_timed.ingest(request("forms")).await;
    assert_eq!(timed.lines(), ["ingest forms accepted timed"]);
}

#[test]
fn the_fan_out_calls_each_observer_in_order() {
    let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let observers = Observers::new(vec![a.clone(), b.clone()]);
    assert!(!observers.wants_start_time());
    assert!(observers.start_time().is_none());
    let tenant = TenantId::default();
    for number in 1..=2 {
        observers.on_attempt(&AttemptSeen {
            tenant: &tenant,
            event: EventId::new(),
            delivery: DeliveryId::new(),
            destination: "app",
            route: "all",
            number,
            outcome: AttemptOutcome::Retrying,
            status_code: Some(503),
            error: Some("http 503"),
            elapsed: Duration::from_millis(3),
            span: 1,
            started: None,
        });
    }
    let want = ["attempt app #1 retrying", "attempt app #2 retrying"];
    assert_eq!(a.lines(), want);
    assert_eq!(b.lines(), want);
}
