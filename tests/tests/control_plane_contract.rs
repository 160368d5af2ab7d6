//! The control-plane contract (health, metrics, OpenAPI, Swagger UI, dashboard, portal,
//! admin API) through both adapters: the same rows, the same answers.

use axum::Router;
use axum::routing::get;
use relay_axum::RelayLayer;
use relay_tests::actix::serve_actix_gateway;
use relay_tests::contract::control;
use relay_tests::serve;

#[tokio::test]
async fn the_control_plane_contract_through_axum() {
    control::run(|relay| async move {
        let app = Router::new()
            .route("/hello", get(|| async { "the app" }))
            .merge(relay_axum::admin::router(relay.clone(), Default::default()))
            .merge(relay_axum::health::routes(relay.clone()))
            .merge(relay_axum::metrics::routes(None).expect("the metrics recorder"))
            .merge(relay_axum::agent::routes(relay.clone()))
            .layer(RelayLayer::new(relay));
        serve(app).await
    })
    .await;
}

#[tokio::test]
async fn the_control_plane_contract_through_actix() {
    control::run(|relay| async move { serve_actix_gateway(relay) }).await;
}
