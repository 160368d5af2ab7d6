//! The catalog: names, dangling references, delivery planning.
use super::*;
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::route::EventRoute;

fn destination(name: &str) -> Destination {
    Destination::http(name, "http://127.0.0.1:9/").unwrap()
}

fn source(name: &str) -> Arc<dyn Source> {
    Arc::new(WebhookSource::new(name, NoSignature))
}

#[test]
fn dangling_names_are_refused() {
    let route = |r: EventRoute| -> Vec<Arc<dyn Route>> { vec![Arc::new(r)] };
    let err = Catalog::new(
        vec![],
        vec![],
        route(EventRoute::new("r").to(["nope"])),
        vec![],
    );
    assert!(matches!(
        err,
        Err(CatalogError::Dangling {
            kind: "destination",
            ..
        })
    ));
    let err = Catalog::new(
        vec![],
        vec![destination("d")],
        route(EventRoute::new("r").source("s").to(["d"])),
        vec![],
    );
    assert!(matches!(
        err,
        Err(CatalogError::Dangling { kind: "source", .. })
    ));
    let err = Catalog::new(
        vec![source("s")],
        vec![destination("d")],
        route(EventRoute::new("r").to(["d"]).transformer("t")),
        vec![],
    );
    assert!(matches!(
        err,
        Err(CatalogError::Dangling {
            kind: "transformer",
            ..
        })
    ));
}

#[test]
fn planned_deliveries_carry_the_route_key_else_the_destination_key() {
    use crate::deliver::ordering::{OnDeadLetter, OrderingKey};
    let key = |s: &str| s.parse::<OrderingKey>().unwrap();
    let routes: Vec<Arc<dyn Route>> = vec![
        Arc::new(
            EventRoute::new("keyed")
                .to(["a"])
                .ordering_key(key("$.order.id").on_dead_letter(OnDeadLetter::Block)),
        ),
        Arc::new(EventRoute::new("plain").to(["b", "c"])),
    ];
    let destinations = vec![
        destination("a").ordering(key("$.customer")),
        destination("b").ordering(key("header:x-customer")),
        destination("c"),
    ];
    let catalog = Catalog::new(vec![], destinations, routes, vec![]).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-customer", "cus_9".parse().unwrap());
    let payload = serde_json::json!({"order": {"id": 7}, "customer": "cus_1"});
    let plan = catalog.plan_deliveries(&RouteInput {
        source: "s",
        event_type: "t",
        headers: &headers,
        payload: Some(&payload),
    });
    let got: Vec<_> = plan
        .iter()
        .map(|d| {
            let ordering = d.ordering.as_ref();
            (
                d.destination.as_str(),
                ordering.map(|o| o.key.as_str()),
                ordering.map(|o| o.on_dead_letter),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a", Some("7"), Some(OnDeadLetter::Block)),
            ("b", Some("cus_9"), Some(OnDeadLetter::Skip)),
            ("c", None, None),
        ]
    );
    // A key that reads nothing leaves the delivery unordered.
    let plan = catalog.plan_deliveries(&RouteInput {
        source: "s",
        event_type: "t",
        headers: &http::HeaderMap::new(),
        payload: None,
    });
    assert!(plan.iter().all(|d| d.ordering.is_none()));
}

#[test]
fn duplicates_are_refused_and_identity_is_built_in() {
    let err = Catalog::new(vec![source("s"), source("s")], vec![], vec![], vec![]);
    assert!(matches!(
        err,
        Err(CatalogError::Duplicate { kind: "source", .. })
    ));
    let routes: Vec<Arc<dyn Route>> = vec![Arc::new(
        EventRoute::new("r").to(["d"]).transformer("identity"),
    )];
    let catalog = Catalog::new(vec![], vec![destination("d")], routes, vec![]).unwrap();
    assert!(catalog.transformer_for_route("r").is_some());
    for name in [
        "github_to_slack",
        "github_to_discord",
        "calendar_to_database",
    ] {
        let routes: Vec<Arc<dyn Route>> =
            vec![Arc::new(EventRoute::new("r").to(["d"]).transformer(name))];
        let catalog = Catalog::new(vec![], vec![destination("d")], routes, vec![]).unwrap();
        assert!(catalog.transformer_for_route("r").is_some(), "{name}");
    }
}
