//! Reading a GitHub `push` payload, shared by the GitHub transformers.

use serde_json::Value;

use super::TransformError;

/// At most this many commits are listed; GitHub itself sends at most 20.
pub(super) const MAX_COMMITS: usize = 20;

/// The parts of a push event the chat transformers show.
#[derive(Debug)]
pub(super) struct Push<'a> {
    /// Who pushed (`pusher.name`, else `sender.login`).
    pub pusher: &'a str,
    /// The branch (`ref` without `refs/heads/`; other refs such as tags as written).
    pub branch: &'a str,
    /// `repository.full_name`, e.g. `octo-org/relay`.
    pub repo: &'a str,
    /// `repository.html_url`.
    pub repo_url: Option<&'a str>,
    /// `compare`: the diff of the push.
    pub compare: Option<&'a str>,
    /// `sender.html_url`.
    pub sender_url: Option<&'a str>,
    /// `sender.avatar_url`.
    pub sender_avatar: Option<&'a str>,
    /// Whether the push deleted the branch.
    pub deleted: bool,
    /// The commits in push order.
    pub commits: Vec<Commit<'a>>,
}

/// One pushed commit.
#[derive(Debug)]
pub(super) struct Commit<'a> {
    /// The first 7 characters of the SHA.
    pub short_sha: &'a str,
    /// The first line of the message.
    pub title: &'a str,
    /// The commit's page.
    pub url: Option<&'a str>,
    /// `author.name`.
    pub author: Option<&'a str>,
}

fn str_at<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer).and_then(Value::as_str)
}

impl<'a> Push<'a> {
    /// Reads a push payload; `transformer` names the caller in errors.
    pub(super) fn read(transformer: &str, doc: &'a Value) -> Result<Self, TransformError> {
        let missing = |what: &str| {
            TransformError(format!(
                "{transformer}: not a GitHub push payload (no string `{what}`)"
            ))
        };
        let git_ref = str_at(doc, "/ref").ok_or_else(|| missing("ref"))?;
        let repo =
            str_at(doc, "/repository/full_name").ok_or_else(|| missing("repository.full_name"))?;
        let pusher = str_at(doc, "/pusher/name")
            .or_else(|| str_at(doc, "/sender/login"))
            .ok_or_else(|| missing("pusher.name"))?;
        let commits = match doc.get("commits") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(commits)) => commits
                .iter()
                .map(|c| {
                    let id = c.get("id").and_then(Value::as_str).unwrap_or("");
                    Commit {
                        short_sha: id.get(..7).unwrap_or(id),
                        title: c
                            .get("message")
                            .and_then(Value::as_str)
                            .and_then(|m| m.lines().next())
                            .unwrap_or(""),
                        url: c.get("url").and_then(Value::as_str),
                        author: str_at(c, "/author/name"),
                    }
                })
                .collect(),
            Some(_) => return Err(missing("commits")),
        };
        Ok(Self {
            pusher,
            branch: git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref),
            repo,
            repo_url: str_at(doc, "/repository/html_url"),
            compare: str_at(doc, "/compare"),
            sender_url: str_at(doc, "/sender/html_url"),
            sender_avatar: str_at(doc, "/sender/avatar_url"),
            deleted: doc.get("deleted").and_then(Value::as_bool).unwrap_or(false),
            commits,
        })
    }

    /// `1 commit`, `3 commits`.
    pub(super) fn commit_count(&self) -> String {
        match self.commits.len() {
            1 => "1 commit".to_owned(),
            n => format!("{n} commits"),
        }
    }
}
