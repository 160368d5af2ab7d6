//! What a stored circuit holds beyond its phase: the failure window's buckets, when and why
//! it opened, and the half-open probes' tally; and the one-line text the stores keep it as
//! (a `detail` column, a Redis hash field), so that every backend stores it the same way and
//! a row written before it existed (an empty text) still reads.
//!
//! ```text
//! 1;<opened_at ms>;<attempts>;<probes>;<probe successes>;<cause: -|r|p>;<bucket width ms>;<index>:<successes>:<failures>,…
//! ```

use std::fmt::Write as _;

use super::window::{Bucket, CircuitWindow};
use crate::model::time::Timestamp;

/// Why a circuit opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenCause {
    /// The failure rate within the window reached the breaker's threshold.
    Rate,
    /// A half-open probe failed.
    Probe,
}

/// The part of a [`CircuitState`](super::CircuitState) that the breaker's rate and probes
/// need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CircuitDetail {
    /// Closed: the attempts counted so far (every node's flushed counts). Empty otherwise.
    pub window: CircuitWindow,
    /// Open or half-open: when it opened.
    pub opened_at: Option<Timestamp>,
    /// Open or half-open: the attempts in the window when it opened (with `failures` of the
    /// state, the rate that opened it).
    pub attempts: u32,
    /// Half-open: probes let through so far.
    pub probes: u32,
    /// Half-open: probes that succeeded so far.
    pub probe_successes: u32,
    /// Open or half-open: why it opened.
    pub cause: Option<OpenCause>,
}

/// A stored detail text that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("circuit detail {text:?} does not decode: {reason}")]
pub struct DetailError {
    text: String,
    reason: &'static str,
}

impl CircuitDetail {
    /// The text the stores keep (see the [module](self)).
    pub fn encode(&self) -> String {
        let cause = match self.cause {
            None => "-",
            Some(OpenCause::Rate) => "r",
            Some(OpenCause::Probe) => "p",
        };
        let mut text = format!(
            "1;{};{};{};{};{cause};{};",
            self.opened_at.map_or(-1, Timestamp::as_millis),
            self.attempts,
            self.probes,
            self.probe_successes,
            self.window.width_ms(),
        );
        for (i, bucket) in self.window.buckets().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            let _ = write!(
                text,
                "{comma}{}:{}:{}",
                bucket.index, bucket.successes, bucket.failures
            );
        }
        text
    }

    /// Reads [`Self::encode`]'s text; an empty text (a row stored before the detail
    /// existed) is the default detail.
    pub fn decode(text: &str) -> Result<Self, DetailError> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        let error = |reason| DetailError {
            text: text.chars().take(200).collect(),
            reason,
        };
        let fields: Vec<&str> = text.split(';').collect();
        let [
            version,
            opened_at,
            attempts,
            probes,
            successes,
            cause,
            width,
            buckets,
        ] = fields[..]
        else {
            return Err(error("expected 8 fields"));
        };
        if version != "1" {
            return Err(error("unknown version"));
        }
        let number = |field: &str| field.parse::<u32>().map_err(|_| error("not a count"));
        let opened_at: i64 = opened_at.parse().map_err(|_| error("not a time"))?;
        let mut window = CircuitWindow::new(number(width)?);
        for bucket in buckets.split(',').filter(|b| !b.is_empty()) {
            let mut parts = bucket.split(':');
            let (Some(index), Some(s), Some(f), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(error("a bucket is not index:successes:failures"));
            };
            window.add_bucket(Bucket {
                index: index.parse().map_err(|_| error("not a bucket index"))?,
                successes: number(s)?,
                failures: number(f)?,
            });
        }
        Ok(Self {
            window,
            opened_at: (opened_at >= 0).then(|| Timestamp::from_millis(opened_at)),
            attempts: number(attempts)?,
            probes: number(probes)?,
            probe_successes: number(successes)?,
            cause: match cause {
                "-" => None,
                "r" => Some(OpenCause::Rate),
                "p" => Some(OpenCause::Probe),
                _ => return Err(error("unknown cause")),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::circuit::Signal;

    #[test]
    fn a_detail_survives_its_text() {
        let mut window = CircuitWindow::new(6_000);
        window.add(Timestamp::from_millis(1_000), Signal::Failure);
        window.add(Timestamp::from_millis(7_000), Signal::Success);
        window.add(Timestamp::from_millis(7_001), Signal::Failure);
        let detail = CircuitDetail {
            window,
            opened_at: Some(Timestamp::from_millis(42)),
            attempts: 20,
            probes: 2,
            probe_successes: 1,
            cause: Some(OpenCause::Probe),
        };
        let text = detail.encode();
        assert_eq!(text, "1;42;20;2;1;p;6000;0:0:1,1:1:1");
        assert_eq!(CircuitDetail::decode(&text), Ok(detail));
        let default = CircuitDetail::default();
        assert_eq!(CircuitDetail::decode(&default.encode()), Ok(default));
        assert_eq!(CircuitDetail::decode(""), Ok(default), "a row from before");
    }

    #[test]
    fn a_damaged_text_is_an_error() {
        for bad in [
            "2;-1;0;0;0;-;1000;",
            "1;-1;0;0;0;-;1000",
            "1;x;0;0;0;-;1000;",
            "1;-1;0;0;0;q;1000;",
            "1;-1;0;0;0;-;1000;1:2",
            "1;-1;0;0;0;-;1000;a:1:1",
            "1;-1;-3;0;0;-;1000;",
        ] {
            assert!(CircuitDetail::decode(bad).is_err(), "{bad}");
        }
    }
}
