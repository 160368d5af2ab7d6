//! Loading and checking the configuration file.
//!
//! Every `[server]` key may also be set in the environment as `RELAY_SERVER__<KEY>` (for
//! example `RELAY_SERVER__LISTEN=0.0.0.0:8080`), and any secret value written `env:NAME` is read from the
//! environment variable `NAME`. Unknown keys and names that point nowhere are errors, reported
//! with the file, the key and the reason.

mod assemble;
mod event_types;
pub mod ingest_guards;

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};

pub use assemble::{Assembled, assemble};
pub use model::Config;
pub mod model;

/// One thing wrong with a configuration.
pub use relay_core::control::definition::Problem;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is readable but wrong.
    #[error("{}", Listing(file, problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Everything wrong with it.
        problems: Vec<Problem>,
    },
}

struct Listing<'a>(&'a PathBuf, &'a [Problem]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.1.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}: {}: {}",
                self.0.display(),
                problem.key,
                problem.reason
            )?;
        }
        Ok(())
    }
}

/// Reads `file` (TOML) with `RELAY_…` environment overrides.
pub fn load(file: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        file: file.to_owned(),
        source,
    })?;
    from_toml(&text, file)
}

/// Parses `text`, the contents of `file`, with `RELAY_…` environment overrides.
pub fn from_toml(text: &str, file: &Path) -> Result<Config, ConfigError> {
    // The key keeps the variable's case (`SERVER__LISTEN`): compare without it.
    let overrides = Env::prefixed("RELAY_")
        .filter(|key| key.as_str().to_ascii_lowercase().starts_with("server__"))
        .split("__");
    let mut config = Figment::from(Toml::string(text))
        .merge(overrides)
        .extract::<Config>()
        .map_err(|error| {
            let problems = error
                .into_iter()
                .map(|e| Problem::new(key_of(&e.path), e.kind.to_string()))
                .collect();
            ConfigError::Invalid {
                file: file.to_owned(),
                problems,
            }
        })?;
    config.dir = file.parent().map(Path::to_owned).unwrap_or_default();
    Ok(config)
}

/// Loads and fully validates `file`, resolving `env:` secrets.
pub fn check(file: &Path) -> Result<(Config, Assembled), ConfigError> {
    let config = load(file)?;
    let tls_problems = config.server.tls_problems();
    let invalid = |problems| ConfigError::Invalid {
        file: file.to_owned(),
        problems,
    };
    match assemble(&config, |name| std::env::var(name).ok()) {
        Ok(_) if !tls_problems.is_empty() => Err(invalid(tls_problems)),
        Ok(assembled) => Ok((config, assembled)),
        Err(mut problems) => {
            problems.extend(tls_problems);
            Err(invalid(problems))
        }
    }
}

/// `["routes", "0", "destinations"]` → `routes[0].destinations`; the file itself is `(file)`.
fn key_of(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if part.parse::<usize>().is_ok() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    if key.is_empty() {
        "(file)".to_owned()
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_like_the_file() {
        let path: Vec<String> = ["routes", "0", "destinations", "1"]
            .map(String::from)
            .to_vec();
        assert_eq!(key_of(&path), "routes[0].destinations[1]");
        assert_eq!(key_of(&[]), "(file)");
    }

    #[test]
    fn a_zero_request_timeout_is_a_problem() {
        let text = "[server]\nrequest_timeout_ms = 0\n";
        let config = from_toml(text, Path::new("t.toml")).expect("parses");
        let problems = assemble(&config, |_| None).expect_err("refused");
        assert!(
            problems
                .iter()
                .any(|p| p.key == "server.request_timeout_ms"),
            "{problems:?}"
        );
        let default = from_toml("", Path::new("t.toml")).expect("parses");
        assert_eq!(default.server.request_timeout_ms, 30_000);
    }

    #[test]
    fn a_bad_node_id_is_refused_with_its_key() {
        for (text, refused) in [
            ("[server]\nnode_id = \"\"\n", true),
            ("[server]\nnode_id = \"a\\nb\"\n", true),
            ("[server]\nnode_id = \"node-a\"\n", false),
            ("", false),
        ] {
            let config = from_toml(text, Path::new("t.toml")).expect("parses");
            let outcome = assemble(&config, |_| None);
            let problems = outcome.err().unwrap_or_default();
            assert_eq!(
                problems.iter().any(|p| p.key == "server.node_id"),
                refused,
                "{text:?}: {problems:?}"
            );
        }
    }

    #[test]
    fn public_urls_are_absolute_http_urls() {
        let check = |value: &str| {
            let text = format!("[server]\npublic_url = {value:?}\n");
            let config = from_toml(&text, Path::new("t.toml")).expect("parses");
            assemble(&config, |_| None).map(drop).map_err(|problems| {
                assert!(
                    problems.iter().all(|p| p.key == "server.public_url"),
                    "{problems:?}"
                );
            })
        };
        for good in ["https://hooks.example.com", "http://127.0.0.1:8080/relay/"] {
            assert!(check(good).is_ok(), "{good}");
        }
        for bad in [
            "hooks.example.com",
            "/relay",
            "ftp://hooks.example.com",
            "https://hooks.example.com/?a=1",
            "https://hooks.example.com/#top",
            "file:///tmp/x",
            "",
        ] {
            assert!(check(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn retention_keys_become_the_pruners_retention() {
        let days = |d: u64| std::time::Duration::from_secs(d * 86_400);
        let default = from_toml("", Path::new("t.toml")).expect("parses");
        let retention = default.server.retention();
        assert_eq!(
            (retention.events, retention.audit, retention.metrics),
            (days(30), days(400), days(90))
        );
        assert_eq!(retention.expired_sessions, days(0));
        let text = "[server]\nretention_days = 7\naudit_retention_days = 365\n\
                    metrics_retention_days = 14\nexpired_session_retention_days = 2\n";
        let config = from_toml(text, Path::new("t.toml")).expect("parses");
        assert!(assemble(&config, |_| None).is_ok());
        let retention = config.server.retention();
        assert_eq!(
            (retention.events, retention.audit, retention.metrics),
            (days(7), days(365), days(14))
        );
        assert_eq!(retention.expired_sessions, days(2));
    }

    /// Lines a configuration is made of: valid ones, wrong types, dangling names, bad values.
    const LINES: &[&str] = &[
        "[server]",
        "listen = \"127.0.0.1:0\"",
        "listen = 7",
        "request_timeout_ms = 0",
        "audit_retention_days = 0",
        "metrics_retention_days = 400",
        "database_url = \"memory://\"",
        "node_id = \"node-a\"",
        "node_id = \"\"",
        "public_url = \"ftp://x\"",
        "client_rate_limit = { per_minute = 0 }",
        "client_rate_limit = { per_minute = 60 }",
        "signature_failures_per_minute = 5000",
        "signature_failure_retention_days = 0",
        "[delivery]",
        "allow_cidrs = [\"127.0.0.0/8\", \"nonsense\"]",
        "[[sources]]",
        "name = \"s\"",
        "scheme = \"github\"",
        "scheme = \"generic_hmac\"",
        "scheme = \"nope\"",
        "secrets = [\"x\", { value = \"y\", expires_at = \"not a date\" }]",
        "secrets = [\"env:MISSING\"]",
        "max_body_bytes = -1",
        "rate_limit = { per_minute = 0 }",
        "[[destinations]]",
        "name = \"d\"",
        "url = \"https://example.com/\"",
        "url = \"http://10.0.0.1/\"",
        "url = \"::\"",
        "retry = { max_attempts = 0, initial_ms = 5, max_ms = 1 }",
        "[[routes]]",
        "name = \"r\"",
        "source = \"missing\"",
        "destinations = [\"d\", \"missing\"]",
        "conditions = [{ path = \"$..[\", op = \"matches\", value = \"(\" }]",
        "conditions = [{ path = \"$.a\", op = \"exists\", value = 1 }]",
        "transformer = \"missing\"",
        "[[transformers]]",
        "kind = \"template\"",
        "body = { text = \"{{ $.a \" }",
        "unknown = 1",
    ];

    proptest::proptest! {
        #[test]
        fn any_text_is_valid_or_a_list_of_problems(text in "\\PC{0,400}") {
            checked(&text)?;
        }

        #[test]
        fn configurations_of_mixed_lines_are_valid_or_a_list_of_problems(
            picks in proptest::collection::vec(0..LINES.len(), 0..24),
        ) {
            let text: Vec<&str> = picks.iter().map(|&i| LINES[i]).collect();
            checked(&text.join("\n"))?;
        }
    }

    fn checked(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let file = Path::new("prop.toml");
        match from_toml(text, file) {
            Err(ConfigError::Invalid { problems, .. }) => {
                proptest::prop_assert!(!problems.is_empty());
            }
            Err(other) => proptest::prop_assert!(false, "not a list of problems: {other}"),
            Ok(config) => {
                if let Err(problems) = assemble(&config, |_| None) {
                    proptest::prop_assert!(!problems.is_empty());
                    proptest::prop_assert!(problems.iter().all(|p| !p.key.is_empty()));
                }
            }
        }
        Ok(())
    }
}
