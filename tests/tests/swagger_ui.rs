//! Swagger UI at `/api/v1/docs/` renders the admin API's description in a real browser
//! (Chromium, headless), from assets served by the binary alone and under the dashboard's
//! `Content-Security-Policy`.

use std::process::Command;
use std::time::Duration;

use relay_core::Relay;
use relay_tests::interop::backend;
use relay_tests::serve;

#[tokio::test]
async fn swagger_ui_renders_the_admin_api_in_chromium() {
    let Some(chromium) = backend("RELAY_CHROMIUM", "Swagger UI in Chromium") else {
        return;
    };
    let relay = Relay::builder().build().expect("relay");
    let app = relay_axum::admin::router(relay, Default::default());
    let addr = serve(app).await;
    let url = format!("http://{addr}/api/v1/docs/");
    let dump = tokio::task::spawn_blocking(move || {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg("--virtual-time-budget=10000")
            .arg("--dump-dom")
            .arg(url)
            .output()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), dump)
        .await
        .expect("Chromium finishes")
        .expect("join")
        .expect("run Chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("Relay admin API"),
        "the description's title is not rendered:\n{}\n{}",
        &dom[..dom.len().min(2000)],
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dom.contains("/api/v1/events"), "the operations are listed");
}
