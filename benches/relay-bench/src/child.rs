//! Every measurement runs in a fresh child process (this binary with `--child`), so that
//! its peak RSS, allocator state and threads are its own; the child prints one
//! [`Sample`] line, which the parent reads.

use std::process::{Command, Stdio};

use relay_store_sqlite::Synchronous;

use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::report::Kind;
use crate::sample::Sample;

/// Runs `kind` once in a child process and returns its sample.
pub fn run(args: &Args, kind: Kind) -> Result<Sample, BenchError> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .args(child_args(args, kind))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(BenchError::Setup(format!(
            "measurement {kind:?} failed ({}): {stdout}",
            output.status
        )));
    }
    Sample::from_output(&stdout)
        .ok_or_else(|| BenchError::Setup(format!("no sample from the child: {stdout}")))
}

/// The command line of a child measuring `kind` once.
fn child_args(args: &Args, kind: Kind) -> Vec<String> {
    let which = match kind.which {
        Which::Bare => "bare",
        Which::Raw => "raw",
        Which::Gateway => "gateway",
    };
    let sync = match kind.sync {
        Some(Synchronous::Normal) => "normal",
        _ => "full",
    };
    let mut out: Vec<String> = [
        "--child",
        "--runs",
        "1",
        "--only",
        which,
        "--synchronous",
        sync,
    ]
    .map(String::from)
    .into();
    for (flag, value) in [
        ("--events", args.events.to_string()),
        ("--connections", args.connections.to_string()),
        ("--time-limit", args.time_limit.to_string()),
        ("--batch", args.batch.to_string()),
        ("--checkpoint-ms", args.checkpoint_ms.to_string()),
    ] {
        out.push(flag.into());
        out.push(value);
    }
    if args.no_worker {
        out.push("--no-worker".into());
    }
    if args.metrics {
        out.push("--metrics".into());
    }
    if let Some(dir) = &args.dir {
        out.push("--dir".into());
        out.push(dir.display().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_child_parses_what_its_parent_passes() {
        let parent =
            Args::parse_from(["relay-bench", "--events", "10", "--no-worker", "--metrics"]);
        let kind = Kind {
            which: Which::Gateway,
            sync: Some(Synchronous::Normal),
        };
        let child = Args::parse_from(
            std::iter::once("relay-bench".into()).chain(child_args(&parent, kind)),
        );
        assert!(child.child && child.no_worker && child.metrics);
        assert_eq!((child.events, child.runs), (10, 1));
        assert_eq!(child.only, vec![Which::Gateway]);
        assert_eq!(child.modes(), vec![Synchronous::Normal]);
    }
}
