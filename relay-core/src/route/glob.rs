//! Event-type globs: `push`, `payment.*`, `*`.

/// A pattern where `*` matches any run of characters (including none and dots).
///
/// ```
/// use relay_core::route::Glob;
/// assert!(Glob::new("payment.*").matches("payment.succeeded"));
/// assert!(Glob::new("*").matches("anything"));
/// assert!(!Glob::new("push").matches("pushed"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// A glob from its text.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern has a `*` (otherwise it matches only its own text).
    pub fn has_wildcards(&self) -> bool {
        self.0.contains('*')
    }

    /// Whether `text` matches the whole pattern. Linear backtracking over the last `*`, so no
    /// input can make it slow.
    pub fn matches(&self, text: &str) -> bool {
        let (p, t) = (self.0.as_bytes(), text.as_bytes());
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, ti));
                pi += 1;
            } else if pi < p.len() && p[pi] == t[ti] {
                pi += 1;
                ti += 1;
            } else if let Some((star_p, star_t)) = star {
                pi = star_p + 1;
                ti = star_t + 1;
                star = Some((star_p, star_t + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&b| b == b'*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        let cases = [
            ("push", "push", true),
            ("push", "pull_request", false),
            ("push", "", false),
            ("", "", true),
            ("*", "", true),
            ("*", "a.b.c", true),
            ("payment.*", "payment.succeeded", true),
            ("payment.*", "payment.", true),
            ("payment.*", "payment", false),
            ("payment.*", "refund.created", false),
            ("*.created", "customer.subscription.created", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("**", "x", true),
            ("Push", "push", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Glob::new(pattern).matches(text),
                expected,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn star_matches_everything(text in ".*") {
            prop_assert!(Glob::new("*").matches(&text));
        }

        #[test]
        fn literal_matches_only_itself(a in "[a-z.]{0,12}", b in "[a-z.]{0,12}") {
            prop_assert_eq!(Glob::new(a.clone()).matches(&b), a == b);
        }

        #[test]
        fn prefix_star_is_starts_with(prefix in "[a-z.]{0,8}", text in "[a-z.]{0,16}") {
            prop_assert_eq!(Glob::new(format!("{prefix}*")).matches(&text), text.starts_with(&prefix));
        }
    }
}
