//! The web dashboard: a no-build single-page app (plain HTML, CSS and ES modules, charts
//! drawn as SVG) compiled into the binary and served by the admin router.
//!
//! The control plane answers `GET /` with the page ([`index`]) and `GET /dashboard/{file}`
//! with its assets ([`file`]); an unknown asset is a 404. The files live in
//! `relay-admin/dashboard/` and are embedded with `include_str!`, so building the crate needs
//! no Node. The app talks only to the admin API under `/api/v1` (it logs in with
//! `POST /api/v1/auth/login`, which sets the session cookie). Its scripts find the API and
//! their files relative to their own URL, and the page links its files under
//! [`AdminOptions::prefix`](crate::AdminOptions::prefix) ([`index_under`]), so it works
//! wherever the [control plane](crate::ControlPlane) is mounted: at the root of an app or
//! nested under a path such as `/ops`.
//!
//! Every answer carries a strict `Content-Security-Policy` (`default-src 'self'`, no inline
//! script or style, no framing), `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//! `Cache-Control: no-cache` and an `ETag`, so a browser revalidates (304) instead of
//! downloading again, and picks up a new version as soon as the gateway is upgraded.
//!
//! ```
//! let page = relay_admin::dashboard::index(&http::HeaderMap::new());
//! assert_eq!(page.status(), 200);
//! ```

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::reply::{self, Reply};
use crate::request::{Path, State};
use crate::state::AdminState;

/// The `Content-Security-Policy` of every dashboard answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its name under `/dashboard/` (`index.html` is served at `/`).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
}

macro_rules! assets {
    ($(($name:literal, $type:expr)),* $(,)?) => {
        /// Every file of the dashboard.
        pub const ASSETS: &[Asset] = &[$(Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../dashboard/", $name)),
        }),*];
    };
}

const JS: &str = "text/javascript; charset=utf-8";

assets![
    ("index.html", "text/html; charset=utf-8"),
    ("app.css", "text/css; charset=utf-8"),
    ("console.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
    ("app.js", JS),
    ("api.js", JS),
    ("ui.js", JS),
    ("format.js", JS),
    ("chart.js", JS),
    ("json-view.js", JS),
    ("health.js", JS),
    ("attempt-view.js", JS),
    ("page-login.js", JS),
    ("page-overview.js", JS),
    ("page-events.js", JS),
    ("page-event.js", JS),
    ("page-dead-letters.js", JS),
    ("page-audit.js", JS),
    ("page-sources.js", JS),
    ("page-destinations.js", JS),
    ("page-destination.js", JS),
    ("links.js", JS),
    ("page-routes.js", JS),
    ("page-agents.js", JS),
    ("page-access.js", JS),
];

/// The embedded file called `name`, if any.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// A strong validator of the file's content (FNV-1a, 64 bits).
fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

fn security_headers(response: &mut Reply) {
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

fn serve(asset: &'static Asset, request: &HeaderMap) -> Reply {
    serve_body(asset.content_type, Cow::Borrowed(asset.body), request)
}

fn serve_body(content_type: &'static str, body: Cow<'static, str>, request: &HeaderMap) -> Reply {
    let tag = etag(&body);
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut response = if fresh {
        reply::empty(StatusCode::NOT_MODIFIED)
    } else {
        reply::with_body(StatusCode::OK, content_type, body.into_owned())
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    security_headers(&mut response);
    response
}

fn not_found() -> Reply {
    let mut response = reply::with_body(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "not found",
    );
    security_headers(&mut response);
    response
}

/// `GET /`: the page (`304` when the browser's copy is current), at the root of an app.
pub fn index(headers: &HeaderMap) -> Reply {
    index_under("", headers)
}

/// `GET /` of a control plane mounted under `prefix` (e.g. `/ops`; `""` at the root): the
/// page, linking its files as `{prefix}/dashboard/…`, so it works whether the browser opened
/// `/ops` or `/ops/`.
///
/// ```
/// let page = relay_admin::dashboard::index_under("/ops", &http::HeaderMap::new());
/// let html = String::from_utf8_lossy(page.body());
/// assert!(html.contains(r#"src="/ops/dashboard/app.js""#));
/// ```
pub fn index_under(prefix: &str, headers: &HeaderMap) -> Reply {
    match asset("index.html") {
        Some(page) => serve_body(page.content_type, page_under(page.body, prefix), headers),
        None => not_found(),
    }
}

/// The page's relative links (`dashboard/…`) made absolute under `prefix`.
fn page_under(page: &'static str, prefix: &str) -> Cow<'static, str> {
    let prefix = prefix.trim_end_matches('/');
    Cow::Owned(page.replace("=\"dashboard/", &format!("=\"{prefix}/dashboard/")))
}

/// `GET /dashboard/{name}`: an asset (`404` for an unknown one).
pub fn file(name: &str, headers: &HeaderMap) -> Reply {
    match asset(name) {
        Some(found) if found.name != "index.html" => serve(found, headers),
        _ => not_found(),
    }
}

pub(crate) async fn index_route(State(state): State<AdminState>, headers: HeaderMap) -> Reply {
    index_under(state.options.mount_prefix(), &headers)
}

pub(crate) async fn file_route(Path(name): Path<String>, headers: HeaderMap) -> Reply {
    file(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for a in ASSETS {
            for line in a.body.lines() {
                let Some(rest) = line.split(" from './").nth(1) else {
                    continue;
                };
                let name = rest.split('\'').next().unwrap_or_default();
                assert!(asset(name).is_some(), "{} imports {name}", a.name);
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard");
        for entry in std::fs::read_dir(dir).expect("the dashboard folder") {
            let name = entry.expect("entry").file_name();
            let name = name.to_string_lossy();
            assert!(asset(&name).is_some(), "{name} is not embedded");
        }
        let index = asset("index.html").map(|a| a.body).unwrap_or_default();
        assert!(index.contains("src=\"dashboard/app.js\""));
        // The scripts name no absolute path of the control plane: they work under a prefix.
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for absolute in [
                "'/api/v1",
                "`/api/v1",
                "'/dashboard/",
                "`/dashboard/",
                "'/portal/",
            ] {
                assert!(!a.body.contains(absolute), "{} uses {absolute}", a.name);
            }
        }
        assert!(!index.contains("style=") && !index.contains("<script>"));
    }

    #[test]
    fn the_page_links_its_files_under_the_prefix() {
        for (prefix, expected) in [
            ("", "/dashboard/app.css"),
            ("/ops", "/ops/dashboard/app.css"),
            ("/ops/", "/ops/dashboard/app.css"),
        ] {
            let page = index_under(prefix, &HeaderMap::new());
            let html = String::from_utf8_lossy(page.body()).into_owned();
            assert!(
                html.contains(&format!("href=\"{expected}\"")),
                "{prefix}: {html}"
            );
            assert!(!html.contains("=\"dashboard/"), "{prefix}: {html}");
        }
        let root = index(&HeaderMap::new());
        let ops = index_under("/ops", &HeaderMap::new());
        assert_ne!(root.headers()[header::ETAG], ops.headers()[header::ETAG]);
    }

    #[test]
    fn etags_differ_by_content() {
        assert_eq!(etag("a"), etag("a"));
        assert_ne!(etag("a"), etag("b"));
        let names: std::collections::BTreeSet<_> = ASSETS.iter().map(|a| etag(a.body)).collect();
        assert_eq!(names.len(), ASSETS.len());
    }
}
