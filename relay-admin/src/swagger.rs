//! Swagger UI for the admin API at `/api/v1/docs/`, its files vendored in the binary
//! (utoipa-swagger-ui's `vendored` feature), reading `/api/v1/openapi.json`. Public, like the
//! description it shows; trying a call needs a key. Every answer carries the dashboard's
//! `Content-Security-Policy` and `X-Content-Type-Options: nosniff`.

use std::sync::{Arc, OnceLock};

use http::{HeaderValue, StatusCode, header};
use utoipa_swagger_ui::Config;

use crate::reply::{self, Reply};
use crate::request::{Path, State};
use crate::state::AdminState;

/// Where Swagger UI is served (its files under `{DOCS_PATH}/`).
pub const DOCS_PATH: &str = "/api/v1/docs";

fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    (CONFIG.get_or_init(|| Arc::new(Config::new(["../openapi.json"])))).clone()
}

fn secure(mut reply: Reply) -> Reply {
    let headers = reply.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::dashboard::CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    reply
}

/// The file `tail` of Swagger UI (`""`: its page).
pub fn file(tail: &str) -> Reply {
    let reply = match utoipa_swagger_ui::serve(tail, config()) {
        Ok(Some(file)) => {
            let mut reply = reply::empty(StatusCode::OK);
            *reply.body_mut() = file.bytes.into_owned().into();
            if let Ok(value) = HeaderValue::from_str(&file.content_type) {
                reply.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            reply
        }
        Ok(None) => reply::empty(StatusCode::NOT_FOUND),
        Err(error) => reply::with_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            error.to_string(),
        ),
    };
    secure(reply)
}

/// `GET /api/v1/docs`: `303` to `/api/v1/docs/` (under the control plane's prefix).
pub(crate) async fn redirect(State(state): State<AdminState>) -> Reply {
    let mut reply = reply::empty(StatusCode::SEE_OTHER);
    let target = format!("{}{DOCS_PATH}/", state.options.mount_prefix());
    if let Ok(value) = HeaderValue::from_str(&target) {
        (reply.headers_mut()).insert(header::LOCATION, value);
    }
    secure(reply)
}

/// `GET /api/v1/docs/`: the page.
pub(crate) async fn index() -> Reply {
    file("")
}

/// `GET /api/v1/docs/{*rest}`: a file.
pub(crate) async fn asset(Path(tail): Path<String>) -> Reply {
    file(&tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_its_files_and_its_config_are_served_without_a_network() {
        let page = file("");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );
        let init = file("swagger-initializer.js");
        let text = String::from_utf8_lossy(init.body());
        // Relative to the page (`…/api/v1/docs/`), so it works under a prefix too.
        assert!(text.contains("\"../openapi.json\""), "{text}");
        assert_eq!(file("nope.js").status(), StatusCode::NOT_FOUND);
        assert!(
            file("nope.js")
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
    }
}
