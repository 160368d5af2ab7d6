//! Transforming one GitHub push (the fixture `relay-core/src/transform/fixtures/github_push.json`)
//! for a destination: each built-in that applies to it and a configured `Template`, beside
//! `Payload::parse` (the JSON parse every transform starts from, done once per attempt).
//!
//! `cargo bench -p relay-core --bench transform`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use relay_core::model::event::{Event, EventStatus};
use relay_core::model::ids::{EventId, TenantId};
use relay_core::model::payload::Payload;
use relay_core::model::time::Timestamp;
use relay_core::transform::{
    GithubToDiscord, GithubToSlack, Identity, Template, TransformInput, Transformer,
};
use serde_json::json;

const GITHUB_PUSH: &str = include_str!("../src/transform/fixtures/github_push.json");

fn event() -> Event {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Event {
        tenant: TenantId::default_tenant(),
        id: EventId::new(),
        source: "github".into(),
        event_type: "push".into(),
        idempotency_key: "bench".into(),
        headers,
        body: Bytes::from_static(GITHUB_PUSH.as_bytes()),
        received_at: Timestamp::now(),
        status: EventStatus::Routed,
    }
}

fn transform(c: &mut Criterion) {
    let event = event();
    let payload = Payload::parse(&event.headers, &event.body);
    let input = TransformInput {
        event: &event,
        payload: &payload,
        destination: "d",
    };
    let template = Template::compile(&json!({
        "text": "{{ $.pusher.name }} pushed {{ $.after }} to {{ $.repository.full_name }}",
        "ref": "{{ $.ref }}",
        "message": "{{ $.head_commit.message }}"
    }))
    .expect("valid template");
    let transformers: [(&str, &dyn Transformer); 4] = [
        ("identity", &Identity),
        ("github_to_slack", &GithubToSlack),
        ("github_to_discord", &GithubToDiscord),
        ("template_3_placeholders", &template),
    ];
    let mut group = c.benchmark_group("transform_github_push");
    group.bench_function("payload_parse", |b| {
        b.iter(|| Payload::parse(black_box(&event.headers), black_box(&event.body)))
    });
    for (name, transformer) in transformers {
        assert!(transformer.transform(&input).is_ok(), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| transformer.transform(black_box(&input)))
        });
    }
    group.finish();
}

criterion_group!(benches, transform);
criterion_main!(benches);
