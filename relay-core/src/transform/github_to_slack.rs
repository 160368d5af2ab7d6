//! `github_to_slack`: a GitHub push as a Slack incoming-webhook message.

use std::fmt::Write as _;

use serde_json::json;

use super::github::{MAX_COMMITS, Push};
use super::{TransformError, TransformInput, Transformed, Transformer, require_json};

/// Turns a GitHub `push` payload into a Slack incoming-webhook body `{"text": …}`:
///
/// ```text
/// *Codertocat* pushed 2 commits to `main` of <https://github.com/octo-org/relay|octo-org/relay>
/// • <https://github.com/…/a10867b…|`a10867b`> Fix retry jitter
/// • <https://github.com/…/5f2c2b5…|`5f2c2b5`> Add conditions
/// ```
///
/// One bullet per commit (at most 20, then `… and N more`) with the 7-character SHA and the
/// first line of the message. `&`, `<` and `>` in user text are escaped as Slack requires.
/// A payload that is not a push (no `ref` or `repository.full_name`) is a [`TransformError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GithubToSlack;

impl GithubToSlack {
    /// The name it is registered under.
    pub const NAME: &'static str = "github_to_slack";
}

/// Escapes the three characters Slack's mrkdwn reserves.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>` when there is a URL, else the label.
fn link(url: Option<&str>, label: &str) -> String {
    match url {
        Some(url) => format!("<{}|{label}>", escape(url)),
        None => label.to_owned(),
    }
}

impl Transformer for GithubToSlack {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let push = Push::read(Self::NAME, require_json(Self::NAME, input)?)?;
        let repo = link(push.repo_url, &escape(push.repo));
        let branch = escape(push.branch);
        let pusher = escape(push.pusher);
        let mut text = if push.deleted {
            format!("*{pusher}* deleted `{branch}` of {repo}")
        } else {
            format!(
                "*{pusher}* pushed {} to `{branch}` of {repo}",
                push.commit_count()
            )
        };
        for commit in push.commits.iter().take(MAX_COMMITS) {
            let sha = link(commit.url, &format!("`{}`", escape(commit.short_sha)));
            let _ = write!(text, "\n• {sha} {}", escape(commit.title));
        }
        if push.commits.len() > MAX_COMMITS {
            let _ = write!(text, "\n… and {} more", push.commits.len() - MAX_COMMITS);
        }
        Transformed::json(&json!({ "text": text }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::{GITHUB_PUSH, body_json, event};
    use http::HeaderMap;
    use http::header::CONTENT_TYPE;

    fn run(body: &str) -> Result<Transformed, TransformError> {
        let (event, payload) = event("push", HeaderMap::new(), body.to_owned());
        GithubToSlack.transform(&TransformInput {
            event: &event,
            payload: &payload,
            destination: "slack",
        })
    }

    #[test]
    fn golden_push() {
        let out = run(GITHUB_PUSH).unwrap();
        assert_eq!(out.headers[CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(&out),
            json!({
                "text": "*Codertocat* pushed 3 commits to `main` of <https://github.com/octo-org/relay|octo-org/relay>\n\
                         • <https://github.com/octo-org/relay/commit/a10867b14bb761a232cd80139fbd4c0d33264240|`a10867b`> Fix retry jitter when Retry-After exceeds max delay\n\
                         • <https://github.com/octo-org/relay/commit/5f2c2b5e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b|`5f2c2b5`> Add &lt;route&gt; conditions &amp; docs\n\
                         • <https://github.com/octo-org/relay/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c|`0d1a26e`> Merge pull request #42 from octo-org/routing"
            })
        );
    }

    #[test]
    fn deleted_branches_long_pushes_and_non_push_payloads() {
        let deleted = json!({
            "ref": "refs/heads/old", "deleted": true, "commits": [],
            "repository": {"full_name": "o/r"}, "pusher": {"name": "p"}
        });
        assert_eq!(
            body_json(&run(&deleted.to_string()).unwrap())["text"],
            "*p* deleted `old` of o/r"
        );
        let commits: Vec<_> = (0..25)
            .map(|i| json!({"id": format!("{i:040}"), "message": format!("c{i}")}))
            .collect();
        let long = json!({
            "ref": "refs/tags/v1.0", "commits": commits,
            "repository": {"full_name": "o/r"}, "sender": {"login": "s"}
        });
        let text = body_json(&run(&long.to_string()).unwrap())["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.starts_with("*s* pushed 25 commits to `refs/tags/v1.0` of o/r\n• `0000000` c0\n")
        );
        assert_eq!(text.lines().count(), 1 + 20 + 1);
        assert!(text.ends_with("\n… and 5 more"));

        let err = run(r#"{"action": "opened"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "github_to_slack: not a GitHub push payload (no string `ref`)"
        );
        assert!(run("not json").unwrap_err().0.contains("not JSON"));
    }
}
