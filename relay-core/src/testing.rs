//! Support for test suites that need an external backend (a PostgreSQL or Redis server, an
//! official client library…) named by an environment variable.
//!
//! A test asks [`backend_from_env`] for the variable's value. When it is missing the test is
//! skipped loudly (a `SKIPPED: …` line on the real stderr, past the harness's capture) and
//! passes, unless [`REQUIRE_BACKENDS`] is `1`, in which case it fails: CI sets that so a
//! missing server can never turn into a green run that tested nothing.
//!
//! ```
//! fn postgres_test() {
//!     let Some(url) = relay_core::testing::backend_from_env(
//!         "RELAY_TEST_POSTGRES_URL",
//!         "postgres_test",
//!         "run scripts/services.sh and export what it prints",
//!     ) else {
//!         return; // skipped
//!     };
//!     assert!(url.starts_with("postgres"));
//! }
//! # if std::env::var("RELAY_REQUIRE_BACKENDS").as_deref() != Ok("1") { postgres_test(); }
//! ```

use std::io::Write as _;

/// The variable that turns a missing backend from a skip into a failure when it is `1`.
pub const REQUIRE_BACKENDS: &str = "RELAY_REQUIRE_BACKENDS";

/// Whether [`REQUIRE_BACKENDS`] is set to `1`.
pub fn backends_required() -> bool {
    std::env::var(REQUIRE_BACKENDS).is_ok_and(|v| v == "1")
}

/// The non-empty value of `var`, or `None` after printing `SKIPPED: {test}: …` with `hint`.
///
/// # Panics
///
/// When `var` is unset or empty and [`backends_required`].
pub fn backend_from_env(var: &str, test: &str, hint: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            assert!(
                !backends_required(),
                "{test}: {var} is not set and {REQUIRE_BACKENDS}=1 ({hint})"
            );
            // Written to the real stderr, past the test harness's capture, so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test}: {var} is not set; {hint}"
            );
            None
        }
    }
}
