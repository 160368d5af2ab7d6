//! The `[server]` keys that guard ingest and bound what refused requests leave behind:
//! `client_rate_limit`, `signature_failures_per_minute` and
//! `signature_failure_retention_days`.

use relay_core::ingest::limit::RateLimit;

use super::Problem;
use super::model::Server;

/// The most refused-signature records a source may keep per minute and node: enough to see
/// what a provider sends, few enough that a flood cannot fill the disk.
pub const MAX_SIGNATURE_FAILURES_PER_MINUTE: u32 = 1_000;

impl Server {
    /// The per-client ingest rate limit, if set.
    pub fn client_rate_limit(&self) -> Option<RateLimit> {
        (self.client_rate_limit).map(|spec| RateLimit {
            per_minute: spec.per_minute,
        })
    }

    /// What is wrong with the ingest guards: a client limit of 0 (it would refuse every
    /// request: leave the key out for none), more than
    /// [`MAX_SIGNATURE_FAILURES_PER_MINUTE`] records per minute, or a retention of 0 days.
    pub fn ingest_guard_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.client_rate_limit.is_some_and(|l| l.per_minute == 0) {
            problems.push(Problem::new(
                "server.client_rate_limit.per_minute",
                "must be at least 1 (0 would refuse every request; leave the key out for no limit)",
            ));
        }
        if self.signature_failures_per_minute > MAX_SIGNATURE_FAILURES_PER_MINUTE {
            problems.push(Problem::new(
                "server.signature_failures_per_minute",
                format!("must be at most {MAX_SIGNATURE_FAILURES_PER_MINUTE}"),
            ));
        }
        if self.signature_failure_retention_days == 0 {
            problems.push(Problem::new(
                "server.signature_failure_retention_days",
                "must be at least 1 (0 would empty the records every minute)",
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::{assemble, from_toml};
    use super::*;

    fn problems(server: &str) -> Vec<String> {
        let text = format!("[server]\n{server}\n");
        let config = from_toml(&text, Path::new("t.toml")).expect("parses");
        let outcome = assemble(&config, |_| None);
        let problems = outcome.err().unwrap_or_default();
        problems.into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn refusals_name_their_key() {
        for (line, refused) in [
            (
                "client_rate_limit = { per_minute = 0 }",
                Some("server.client_rate_limit.per_minute"),
            ),
            ("client_rate_limit = { per_minute = 1 }", None),
            ("client_rate_limit = { per_minute = 600 }", None),
            (
                "signature_failures_per_minute = 1001",
                Some("server.signature_failures_per_minute"),
            ),
            ("signature_failures_per_minute = 1000", None),
            ("signature_failures_per_minute = 0", None),
            (
                "signature_failure_retention_days = 0",
                Some("server.signature_failure_retention_days"),
            ),
            ("signature_failure_retention_days = 7", None),
            ("", None),
        ] {
            let keys = problems(line);
            assert_eq!(
                keys,
                refused.map(str::to_owned).into_iter().collect::<Vec<_>>(),
                "{line:?}"
            );
        }
    }

    #[test]
    fn shapes_that_do_not_parse_are_refused() {
        for line in [
            "client_rate_limit = 600",
            "client_rate_limit = { per_minute = -1 }",
            "client_rate_limit = { per_second = 5 }",
            "signature_failures_per_minute = -1",
            "signature_failure_retention_days = \"30\"",
        ] {
            let text = format!("[server]\n{line}\n");
            assert!(from_toml(&text, Path::new("t.toml")).is_err(), "{line:?}");
        }
    }

    #[test]
    fn defaults_and_values_reach_the_relay() {
        let default = from_toml("", Path::new("t.toml")).expect("parses").server;
        assert_eq!(default.client_rate_limit(), None);
        assert_eq!(default.signature_failures_per_minute, 10);
        assert_eq!(
            default.retention().signature_failures,
            Duration::from_secs(30 * 86_400)
        );
        let text = "[server]\nclient_rate_limit = { per_minute = 120 }\n\
                    signature_failure_retention_days = 2\n";
        let server = from_toml(text, Path::new("t.toml")).expect("parses").server;
        assert_eq!(
            server.client_rate_limit(),
            Some(RateLimit { per_minute: 120 })
        );
        assert_eq!(
            server.retention().signature_failures,
            Duration::from_secs(2 * 86_400)
        );
    }
}
