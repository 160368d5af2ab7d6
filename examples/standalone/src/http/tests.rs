//! The server over real loopback connections.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use super::{Options, TrustedProxies, serve};

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_serves_on() {
    let app = Router::new().route("/ok", get(|| async { "fine" })).route(
        "/bug",
        get(|| async {
            let empty: Vec<u8> = Vec::new();
            format!("{}", empty[3])
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let options = Options {
        request_timeout: Duration::from_secs(5),
        tls: None,
        trusted_proxies: Arc::new(TrustedProxies::default()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, options, async move {
        let _ = stopped.await;
    }));
    let client = relay_core::tls::client();
    for _ in 0..3 {
        let response = client
            .get(format!("{base}/bug"))
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()["content-type"].to_str().ok(),
            Some("application/json")
        );
        assert_eq!(
            response.text().await.expect("body"),
            r#"{"error":"internal"}"#
        );
        let response = client.get(format!("{base}/ok")).send().await.expect("ok");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "fine");
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .expect("the server task did not panic");
}
