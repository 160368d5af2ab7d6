//! Operating through the admin API end to end: find a failed event, replay and redrive it
//! (idempotently), discard; lockout after failed logins; no secret in the audit log.

use std::time::Duration;

use relay_core::model::event::DeliveryStatus;
use relay_tests::admin::{AdminApi, DESTINATION};
use relay_tests::{Answer, Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};

async fn wait_state(api: &AdminApi, event: &str, state: &str) -> Value {
    let path = format!("/api/v1/events/{event}");
    eventually(Duration::from_secs(15), || async {
        let detail = api.get(&path).await;
        (detail["state"] == state).then_some(detail)
    })
    .await
    .unwrap_or_else(|| panic!("event {event} never became {state}"))
}

#[tokio::test]
async fn dead_letters_are_found_replayed_once_and_discarded() {
    let receiver = Receiver::start([], Answer::Status(503)).await;
    let api = AdminApi::start(&receiver, 2).await;
    let first = api.pipeline.send("order-1").await.to_string();
    let second = api.pipeline.send("order-2").await.to_string();
    let third = api.pipeline.send("order-3").await.to_string();
    for event in [&first, &second, &third] {
        wait_state(&api, event, "dead_lettered").await;
    }

    let page = api.get("/api/v1/events?state=dead_lettered&limit=2").await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["items"][0]["id"], third.as_str(), "newest first");
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = api
        .get(&format!(
            "/api/v1/events?state=dead_lettered&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest["items"][0]["id"], first.as_str());
    let found = api.get("/api/v1/events?q=order-2").await;
    assert_eq!(found["items"][0]["id"], second.as_str());

    let detail = api.get(&format!("/api/v1/events/{first}")).await;
    let attempts = detail["deliveries"][0]["attempt_log"]
        .as_array()
        .expect("attempts");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], 503);

    receiver.answer_from_now(Answer::Status(200));
    let before = receiver.count();
    let dead = api.get("/api/v1/dead-letters").await;
    let one = dead["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["event_id"] == first.as_str())
        .expect("the first event's dead letter")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let replay_one = format!("/api/v1/dead-letters/{one}/replay");
    let (status, body) = api
        .call(Method::POST, &replay_one, Some(&api.operator), None)
        .await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(1)));
    let (status, body) = api
        .call(Method::POST, &replay_one, Some(&api.operator), None)
        .await;
    assert_eq!(
        (status, body["count"].as_u64()),
        (200, Some(0)),
        "replaying twice moves nothing"
    );
    wait_state(&api, &first, "delivered").await;

    let (status, body) = api
        .call(
            Method::POST,
            "/api/v1/dead-letters/discard",
            Some(&api.operator),
            Some(json!({"event_id": third})),
        )
        .await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(1)));
    let bulk = json!({"destination": DESTINATION});
    let (status, body) = api
        .call(
            Method::POST,
            "/api/v1/dead-letters/replay",
            Some(&api.operator),
            Some(bulk.clone()),
        )
        .await;
    assert_eq!(
        (status, body["count"].as_u64()),
        (200, Some(1)),
        "only the second is still dead"
    );
    let (_, body) = api
        .call(
            Method::POST,
            "/api/v1/dead-letters/replay",
            Some(&api.operator),
            Some(bulk),
        )
        .await;
    assert_eq!(body["count"].as_u64(), Some(0));
    wait_state(&api, &second, "delivered").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.count() - before,
        2,
        "each replayed dead letter delivered once"
    );
    let discarded = api.get(&format!("/api/v1/events/{third}")).await;
    assert_eq!(discarded["deliveries"][0]["status"], "discarded");

    let path = format!("/api/v1/events/{first}/replay");
    let (_, body) = api
        .call(Method::POST, &path, Some(&api.operator), Some(json!({})))
        .await;
    assert_eq!(
        body["skipped"],
        json!([DESTINATION]),
        "delivered destinations are skipped"
    );
    let (_, body) = api
        .call(
            Method::POST,
            &path,
            Some(&api.operator),
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(body["scheduled"].as_array().map(Vec::len), Some(1));
    let relay = api.pipeline.relay.clone();
    let event = first.parse().expect("event id");
    eventually(Duration::from_secs(15), || {
        let relay = relay.clone();
        async move {
            let d = relay
                .store()
                .deliveries(&Default::default(), event)
                .await
                .ok()?;
            (d[0].status == DeliveryStatus::Delivered && d[0].attempts == 4).then_some(())
        }
    })
    .await
    .expect("a forced replay delivers again");

    let audit = api.get("/api/v1/audit?object_kind=dead_letters").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["replay", "replay", "discard", "replay", "replay"],
        "a dead letter sent again is audited with the word of the button and the API: replay"
    );
    assert!(
        audit["items"][0]["actor"]
            .as_str()
            .unwrap_or("")
            .starts_with("key:key_")
    );
}

#[tokio::test]
async fn five_failed_logins_lock_the_username_for_an_hour() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    for name in ["ann", "bob"] {
        let user = json!({"username": name, "password": "the right password", "role": "viewer"});
        let (status, _) = api
            .call(Method::POST, "/api/v1/users", Some(&api.admin), Some(user))
            .await;
        assert_eq!(status, 201);
    }
    let login = |name: &str, password: &str| json!({"username": name, "password": password});
    for attempt in 1..=4 {
        let (status, body) = api
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(login("ann", "wrong")),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "attempt {attempt}"
        );
    }
    let response = relay_core::tls::client()
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&login("ann", "wrong"))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((3500..=3601).contains(&retry_after), "{retry_after}");
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login("ann", "the right password")),
        )
        .await;
    assert_eq!(status, 429, "the right password is refused while locked");
    let response = relay_core::tls::client()
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&login("bob", "the right password"))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        response.status().as_u16(),
        200,
        "other users are not locked"
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("pair").to_owned();
    let me = relay_core::tls::client()
        .get(format!("{}/api/v1/auth/me", api.base))
        .header("cookie", &session)
        .send()
        .await
        .expect("answer");
    let me: Value = me.json().await.expect("json");
    assert_eq!(
        (me["actor"].as_str(), me["role"].as_str()),
        (Some("user:bob"), Some("viewer"))
    );
    let users = api.get("/api/v1/users").await;
    let ann = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "ann")
        .expect("ann");
    assert!(ann["locked_until"].is_string());
}

#[tokio::test]
async fn no_secret_reaches_the_audit_log_or_listings() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    let password = "correct horse battery staple";
    let (status, user) = api
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&api.admin),
            Some(json!({"username": "carol", "password": password, "role": "operator"})),
        )
        .await;
    assert_eq!(status, 201);
    assert!(!user.to_string().contains(password));
    let (_, key) = api
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&api.admin),
            Some(json!({"name": "ci", "role": "viewer"})),
        )
        .await;
    let token = key["token"].as_str().expect("the token, once").to_owned();
    // rk_<id>_<secret>: the secret part (base64url, so it may itself contain underscores).
    let secret_part = token.splitn(3, '_').nth(2).expect("secret part").to_owned();
    assert!(secret_part.len() >= 40, "{}", secret_part.len());
    let keys = api.get("/api/v1/api-keys").await;
    assert!(
        keys.as_array()
            .expect("keys")
            .iter()
            .all(|k| k.get("token").is_none())
    );
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().expect("id")),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    for _ in 0..2 {
        let _ = api
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "carol", "password": "guess"})),
            )
            .await;
    }

    let audit = api.get("/api/v1/audit?limit=200").await.to_string();
    let stored = format!(
        "{:?}",
        api.pipeline
            .relay
            .store()
            .audit_entries(&Default::default(), &Default::default(), 500)
            .await
            .expect("entries")
    );
    for (what, text) in [("API", &audit), ("store", &stored)] {
        for secret in [
            password,
            token.as_str(),
            secret_part.as_str(),
            api.admin.as_str(),
            api.viewer.as_str(),
        ] {
            assert!(!text.contains(secret), "{what} audit log contains a secret");
        }
    }
    assert!(
        audit.contains("[redacted]"),
        "a secret change is recorded, redacted"
    );
    assert!(audit.contains("\"revoke\""));
    assert!(!format!("{user:?}{keys:?}").contains(password));
}
