//! `github_to_discord`: a GitHub push as a Discord webhook message with one embed.

use serde_json::{Map, Value, json};

use super::github::{MAX_COMMITS, Push};
use super::{TransformError, TransformInput, Transformed, Transformer, require_json};

/// Discord's limit on an embed title, in characters.
const TITLE_LIMIT: usize = 256;
/// Discord's limit on an embed description, in characters.
const DESCRIPTION_LIMIT: usize = 4096;
/// The colour GitHub's own Discord integration uses for pushes.
const PUSH_COLOR: u32 = 0x7289DA;

/// Turns a GitHub `push` payload into a Discord webhook body with one embed:
///
/// ```json
/// {"embeds": [{
///   "title": "[octo-org/relay:main] 3 new commits",
///   "url": "<compare URL>",
///   "description": "[`a10867b`](<commit URL>) Fix retry jitter - Ada Lovelace\n…",
///   "color": 7506394,
///   "author": {"name": "Codertocat", "url": "<sender page>", "icon_url": "<avatar>"}
/// }], "allowed_mentions": {"parse": []}}
/// ```
///
/// One description line per commit (at most 20, then `… and N more`), cut to Discord's
/// limits. `allowed_mentions` is empty so an `@everyone` in a commit message pings nobody.
/// A payload that is not a push is a [`TransformError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GithubToDiscord;

impl GithubToDiscord {
    /// The name it is registered under.
    pub const NAME: &'static str = "github_to_discord";
}

/// At most `limit` characters, the last one `…` when cut.
fn truncate(text: String, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text;
    }
    let mut cut: String = text.chars().take(limit - 1).collect();
    cut.push('…');
    cut
}

impl Transformer for GithubToDiscord {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let push = Push::read(Self::NAME, require_json(Self::NAME, input)?)?;
        let title = if push.deleted {
            format!("[{}] branch {} deleted", push.repo, push.branch)
        } else {
            format!(
                "[{}:{}] {} new {}",
                push.repo,
                push.branch,
                push.commits.len(),
                if push.commits.len() == 1 {
                    "commit"
                } else {
                    "commits"
                }
            )
        };
        let mut lines: Vec<String> = push
            .commits
            .iter()
            .take(MAX_COMMITS)
            .map(|c| {
                let sha = match c.url {
                    Some(url) => format!("[`{}`]({url})", c.short_sha),
                    None => format!("`{}`", c.short_sha),
                };
                match c.author {
                    Some(author) => format!("{sha} {} - {author}", c.title),
                    None => format!("{sha} {}", c.title),
                }
            })
            .collect();
        if push.commits.len() > MAX_COMMITS {
            lines.push(format!("… and {} more", push.commits.len() - MAX_COMMITS));
        }
        let mut author = Map::new();
        author.insert("name".into(), Value::from(push.pusher));
        if let Some(url) = push.sender_url {
            author.insert("url".into(), Value::from(url));
        }
        if let Some(icon) = push.sender_avatar {
            author.insert("icon_url".into(), Value::from(icon));
        }
        let mut embed = Map::new();
        embed.insert("title".into(), Value::from(truncate(title, TITLE_LIMIT)));
        if let Some(url) = push.compare.or(push.repo_url) {
            embed.insert("url".into(), Value::from(url));
        }
        embed.insert(
            "description".into(),
            Value::from(truncate(lines.join("\n"), DESCRIPTION_LIMIT)),
        );
        embed.insert("color".into(), Value::from(PUSH_COLOR));
        embed.insert("author".into(), Value::Object(author));
        Transformed::json(&json!({
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::{GITHUB_PUSH, body_json, event};
    use http::HeaderMap;

    fn run(body: &str) -> Result<Transformed, TransformError> {
        let (event, payload) = event("push", HeaderMap::new(), body.to_owned());
        GithubToDiscord.transform(&TransformInput {
            event: &event,
            payload: &payload,
            destination: "discord",
        })
    }

    #[test]
    fn golden_push() {
        assert_eq!(
            body_json(&run(GITHUB_PUSH).unwrap()),
            json!({
                "embeds": [{
                    "title": "[octo-org/relay:main] 3 new commits",
                    "url": "https://github.com/octo-org/relay/compare/6113728f27ae...0d1a26e67d8f",
                    "description": "[`a10867b`](https://github.com/octo-org/relay/commit/a10867b14bb761a232cd80139fbd4c0d33264240) Fix retry jitter when Retry-After exceeds max delay - Ada Lovelace\n\
                                    [`5f2c2b5`](https://github.com/octo-org/relay/commit/5f2c2b5e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b) Add <route> conditions & docs - Grace Hopper\n\
                                    [`0d1a26e`](https://github.com/octo-org/relay/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c) Merge pull request #42 from octo-org/routing - Codertocat",
                    "color": 7506394,
                    "author": {
                        "name": "Codertocat",
                        "url": "https://github.com/Codertocat",
                        "icon_url": "https://avatars1.githubusercontent.com/u/21031067?v=4"
                    }
                }],
                "allowed_mentions": {"parse": []}
            })
        );
    }

    #[test]
    fn limits_and_errors() {
        let commits: Vec<_> = (0..30)
            .map(|i| json!({"id": "abc", "message": "m".repeat(300), "url": format!("u{i}")}))
            .collect();
        let doc = json!({
            "ref": format!("refs/heads/{}", "b".repeat(300)), "commits": commits,
            "repository": {"full_name": "o/r"}, "pusher": {"name": "p"}
        });
        let out = body_json(&run(&doc.to_string()).unwrap());
        let embed = &out["embeds"][0];
        assert_eq!(
            embed["title"].as_str().unwrap().chars().count(),
            TITLE_LIMIT
        );
        let description = embed["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), DESCRIPTION_LIMIT);
        assert!(description.ends_with('…'));
        assert!(description.starts_with("[`abc`](u0) mmm"));
        assert!(embed.get("url").is_none());
        assert_eq!(embed["author"], json!({"name": "p"}));
        assert!(
            run("[]")
                .unwrap_err()
                .0
                .starts_with("github_to_discord: not a GitHub push")
        );
    }
}
