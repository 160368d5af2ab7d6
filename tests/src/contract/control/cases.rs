//! The control-plane contract's rows: health, metrics, the OpenAPI description, Swagger UI,
//! the dashboard, the portal and the admin API, each with the answer both adapters give.

use serde_json::{Value, json};

/// Which credential a row sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// None.
    None,
    /// An API key of role `admin`.
    Admin,
    /// An API key of role `viewer`.
    Viewer,
    /// A token no key has.
    Bad,
}

/// One thing checked in an answer.
#[derive(Debug, Clone)]
pub enum Check {
    /// The body is exactly this JSON.
    Json(Value),
    /// The JSON value at this pointer.
    At(&'static str, Value),
    /// The JSON value at this pointer is a string starting with this.
    StartsWith(&'static str, &'static str),
    /// The body is a JSON array.
    Array,
    /// This header starts with this value.
    Header(&'static str, &'static str),
    /// The body contains this text.
    Contains(&'static str),
}

/// One request and its answer.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the row shows.
    pub name: &'static str,
    /// The method.
    pub method: &'static str,
    /// The path and query.
    pub path: &'static str,
    /// The credential.
    pub key: Key,
    /// The body (sent as JSON), if any.
    pub body: Option<&'static str>,
    /// The status.
    pub status: u16,
    /// What else must hold.
    pub checks: Vec<Check>,
}

fn case(name: &'static str, method: &'static str, path: &'static str, key: Key) -> Case {
    Case {
        name,
        method,
        path,
        key,
        body: None,
        status: 200,
        checks: Vec::new(),
    }
}

impl Case {
    fn body(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self
    }

    fn answers(mut self, status: u16, checks: Vec<Check>) -> Self {
        self.status = status;
        self.checks = checks;
        self
    }
}

const CSP: &str = "default-src 'self'";
const JSON: &str = "application/json";

/// Every row, in order (a row may depend on an earlier one's writes).
pub fn cases() -> Vec<Case> {
    use Check::*;
    use Key::{Admin, Bad, None, Viewer};
    let unauthorized = || {
        vec![
            Json(json!({"error": "unauthorized"})),
            Header("www-authenticate", "Bearer"),
        ]
    };
    vec![
        case("healthz", "GET", "/healthz", None).answers(
            200,
            vec![Json(json!({"status": "ok"})), Header("content-type", JSON)],
        ),
        case("readyz", "GET", "/readyz", None).answers(200, vec![Json(json!({"status": "ready"}))]),
        case("metrics", "GET", "/metrics", None).answers(
            200,
            vec![Header("content-type", "text/plain; version=0.0.4")],
        ),
        case("openapi", "GET", "/api/v1/openapi.json", None).answers(
            200,
            vec![
                Header("content-type", JSON),
                StartsWith("/openapi", "3.1"),
                At("/info/title", json!("Relay admin API")),
            ],
        ),
        case("swagger redirect", "GET", "/api/v1/docs", None)
            .answers(303, vec![Header("location", "/api/v1/docs/")]),
        case("swagger page", "GET", "/api/v1/docs/", None).answers(
            200,
            vec![
                Header("content-type", "text/html"),
                Header("content-security-policy", CSP),
                Contains("swagger-ui"),
            ],
        ),
        case(
            "swagger config",
            "GET",
            "/api/v1/docs/swagger-initializer.js",
            None,
        )
        // Relative to `/api/v1/docs/`, so the viewer works under a prefix too.
        .answers(200, vec![Contains("\"../openapi.json\"")]),
        case("swagger unknown file", "GET", "/api/v1/docs/nope.js", None).answers(404, vec![]),
        case("dashboard page", "GET", "/", None).answers(
            200,
            vec![
                Header("content-type", "text/html"),
                Header("content-security-policy", CSP),
                Header("x-frame-options", "DENY"),
                Header("etag", "\""),
                Contains("/dashboard/app.js"),
            ],
        ),
        case("dashboard asset", "GET", "/dashboard/app.js", None)
            .answers(200, vec![Header("content-type", "text/javascript")]),
        case("dashboard unknown asset", "GET", "/dashboard/nope.js", None)
            .answers(404, vec![Contains("not found")]),
        case("portal bad link", "GET", "/portal/pl_nope", None).answers(
            401,
            vec![
                Header("content-type", "text/html"),
                Contains("portal-refused"),
            ],
        ),
        case("no key", "GET", "/api/v1/events", None).answers(401, unauthorized()),
        case("bad key", "GET", "/api/v1/events", Bad).answers(401, unauthorized()),
        case("who am i", "GET", "/api/v1/auth/me", Viewer).answers(
            200,
            vec![
                At("/role", json!("viewer")),
                At("/tenant", json!("default")),
            ],
        ),
        case("viewer lists sources", "GET", "/api/v1/sources", Viewer).answers(200, vec![Array]),
        case("one source", "GET", "/api/v1/sources/raw", Viewer).answers(
            200,
            vec![
                At("/name", json!("raw")),
                At("/ingest_path", json!("/webhooks/raw")),
            ],
        ),
        case("unknown source", "GET", "/api/v1/sources/nope", Viewer)
            .answers(404, vec![Json(json!({"error": "not_found"}))]),
        case("viewer lists events", "GET", "/api/v1/events", Viewer).answers(200, vec![]),
        case(
            "viewer may not create keys",
            "POST",
            "/api/v1/api-keys",
            Viewer,
        )
        .body(r#"{"name":"ci","role":"viewer"}"#)
        .answers(
            403,
            vec![
                At("/error", json!("forbidden")),
                At("/message", json!("needs role admin")),
            ],
        ),
        case("admin lists keys", "GET", "/api/v1/api-keys", Admin).answers(200, vec![Array]),
        case("admin creates a key", "POST", "/api/v1/api-keys", Admin)
            .body(r#"{"name":"ci","role":"viewer"}"#)
            .answers(
                201,
                vec![At("/name", json!("ci")), StartsWith("/token", "rk_")],
            ),
        case(
            "a field error names the field",
            "POST",
            "/api/v1/api-keys",
            Admin,
        )
        .body(r#"{"name":"x","role":"god"}"#)
        .answers(
            422,
            vec![
                At("/error", json!("invalid")),
                At("/fields/0/field", json!("role")),
            ],
        ),
        case("not JSON", "POST", "/api/v1/api-keys", Admin)
            .body("{nope")
            .answers(400, vec![At("/error", json!("invalid_json"))]),
        case("no body", "POST", "/api/v1/api-keys", Admin)
            .answers(422, vec![At("/fields/0/field", json!("body"))]),
        case("unknown API path", "GET", "/api/v1/x", Admin)
            .answers(404, vec![Json(json!({"error": "not_found"}))]),
        case("unknown API path without a key", "GET", "/api/v1/x/y", None)
            .answers(404, vec![Json(json!({"error": "not_found"}))]),
        case("wrong method", "DELETE", "/api/v1/events", Admin).answers(405, vec![]),
        case(
            "a bad query parameter",
            "GET",
            "/api/v1/events?limit=lots",
            Viewer,
        )
        .answers(
            422,
            vec![
                At("/error", json!("invalid")),
                At("/fields/0/field", json!("limit")),
            ],
        ),
        case("bad login", "POST", "/api/v1/auth/login", None)
            .body(r#"{"username":"nobody","password":"wrong-password"}"#)
            .answers(401, vec![At("/error", json!("unauthorized"))]),
        case(
            "logout without a session",
            "POST",
            "/api/v1/auth/logout",
            None,
        )
        .answers(204, vec![Header("set-cookie", "relay_session=;")]),
        case(
            "reload without a file",
            "POST",
            "/api/v1/config/reload",
            Admin,
        )
        .answers(409, vec![At("/error", json!("conflict"))]),
        case("the app keeps its own paths", "GET", "/hello", None)
            .answers(200, vec![Contains("the app")]),
    ]
}
