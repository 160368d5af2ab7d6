//! The configuration `relay serve` runs on in `standalone`: what the in-process gateway of
//! `ingest` builds (`gateway.rs`), as a TOML file.

use std::path::Path;

use relay_store_sqlite::Synchronous;

use crate::payload::SECRET;

/// The destinations' outbound signing secret (Standard Webhooks), as in `gateway.rs`.
const OUTBOUND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A TOML basic string holding `text`.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The configuration: a SQLite store at `db` with `synchronous` (`--synchronous`: FULL, the
/// default, or NORMAL), listening on an ephemeral loopback port, one `github` source signed with
/// [`SECRET`], two HTTP destinations `receiver-a` and `receiver-b` at `{receiver}/a` and
/// `{receiver}/b` (loopback allowed), and a route `pushes` sending `push` to both.
pub fn toml(db: &Path, receiver: &str, synchronous: Synchronous) -> String {
    let synchronous = match synchronous {
        Synchronous::Normal => "normal",
        _ => "full",
    };
    let database_url = quoted(&format!("sqlite://{}", db.display()));
    let secret = quoted(SECRET);
    let destination = |name: &str, path: &str| {
        format!(
            "[[destinations]]\nname = \"{name}\"\nurl = {}\nsigning_secret = \"{OUTBOUND_SECRET}\"\n",
            quoted(&format!("{receiver}{path}"))
        )
    };
    format!(
        r#"[server]
listen = "127.0.0.1:0"
database_url = {database_url}
sqlite_synchronous = "{synchronous}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "github"
scheme = "github"
secrets = [{secret}]

{}
{}
[[routes]]
name = "pushes"
source = "github"
event_types = ["push"]
destinations = ["receiver-a", "receiver-b"]
"#,
        destination("receiver-a", "/a"),
        destination("receiver-b", "/b"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_the_store_the_source_and_both_destinations() {
        let text = toml(
            Path::new("/tmp/x y/relay.db"),
            "http://127.0.0.1:9",
            Synchronous::Full,
        );
        assert!(text.contains("sqlite_synchronous = \"full\""), "{text}");
        assert!(
            text.contains("database_url = \"sqlite:///tmp/x y/relay.db\""),
            "{text}"
        );
        assert!(
            text.contains("secrets = [\"It's a Secret to Everybody\"]"),
            "{text}"
        );
        assert!(text.contains("url = \"http://127.0.0.1:9/a\""), "{text}");
        assert!(text.contains("url = \"http://127.0.0.1:9/b\""), "{text}");
        assert!(
            text.contains("destinations = [\"receiver-a\", \"receiver-b\"]"),
            "{text}"
        );
        let normal = toml(Path::new("/r.db"), "http://h", Synchronous::Normal);
        assert!(
            normal.contains("sqlite_synchronous = \"normal\""),
            "{normal}"
        );
    }

    #[test]
    fn strings_are_escaped_for_toml() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted("a\nb"), r#""a\u000Ab""#);
    }
}
