//! Loading and checking the configuration file.
//!
//! Every key may also be set in the environment as `RELAY_<SECTION>__<KEY>` (for example
//! `RELAY_SERVER__LISTEN=0.0.0.0:8080`), and any secret value written `env:NAME` is read from the
//! environment variable `NAME`. Unknown keys and names that point nowhere are errors, reported
//! with the file, the key and the reason.

mod assemble;
mod destination;

mod source;

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};

pub use assemble::{Assembled, assemble};
pub use model::Config;
pub mod model;

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, e.g. `routes[0].destinations[1]`.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    pub(crate) fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

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
    let overrides = Env::prefixed("RELAY_")
        .filter(|key| key.as_str().starts_with("server__"))
        .split("__");
    Figment::from(Toml::string(&text))
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
        })
}

/// Loads and fully validates `file`, resolving `env:` secrets.
pub fn check(file: &Path) -> Result<(Config, Assembled), ConfigError> {
    let config = load(file)?;
    let assembled = assemble(&config, |name| std::env::var(name).ok()).map_err(|problems| {
        ConfigError::Invalid {
            file: file.to_owned(),
            problems,
        }
    })?;
    Ok((config, assembled))
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
}
