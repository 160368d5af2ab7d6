//! Routing one GitHub push against 1,000 routes, each with three JSONPath conditions (an
//! `eq`, a `starts_with` and a regex `matches` over every commit message), beside the same
//! 1,000 routes with source and event-type globs only.
//!
//! `cargo bench -p relay-core --bench routing`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use relay_core::route::{ConditionSpec, EventRoute, Op, Route, RouteInput, RouteTable};
use serde_json::{Value, json};

const ROUTES: usize = 1_000;

fn routes(with_conditions: bool) -> RouteTable {
    let routes = (0..ROUTES)
        .map(|i| {
            let route = EventRoute::new(format!("route-{i:04}"))
                .source("github")
                .event_types(["push", "pull_request.*"])
                .to([format!("d{}", i % 50)])
                .priority((i % 7) as i32);
            let route = if with_conditions {
                let git_ref = if i % 100 == 0 {
                    "refs/heads/main".to_owned()
                } else {
                    format!("refs/heads/b{i}")
                };
                route
                    .conditions([
                        ConditionSpec::new("$.ref", Op::Eq, Some(json!(git_ref))),
                        ConditionSpec::new(
                            "$.repository.full_name",
                            Op::StartsWith,
                            Some(json!("octo-org/")),
                        ),
                        ConditionSpec::new(
                            "$.commits[*].message",
                            Op::Matches,
                            Some(json!("(?i)fix")),
                        ),
                    ])
                    .expect("valid conditions")
            } else {
                route
            };
            Arc::new(route) as Arc<dyn Route>
        })
        .collect();
    RouteTable::new(routes)
}

fn routing(c: &mut Criterion) {
    let payload: Value =
        serde_json::from_str(include_str!("../src/transform/fixtures/github_push.json"))
            .expect("fixture");
    let headers = HeaderMap::new();
    let input = RouteInput {
        source: "github",
        event_type: "push",
        headers: &headers,
        payload: Some(&payload),
    };
    let mut group = c.benchmark_group("route_1_event");
    for (name, with_conditions) in [
        ("1000_routes_3_conditions", true),
        ("1000_routes_globs_only", false),
    ] {
        let table = routes(with_conditions);
        assert!(!table.plan(&input).is_empty());
        group.bench_function(name, |b| b.iter(|| table.plan(black_box(&input))));
    }
    group.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
