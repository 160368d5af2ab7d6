//! Bulk work against a running gateway through its admin API: `relay events`, `relay
//! replay` and `relay dead-letters` (URL and API key from `--url`/`--token` or
//! `RELAY_URL`/`RELAY_TOKEN`).

pub mod args;
mod client;
mod dead_letters;
mod events;
mod output;
mod replay;

pub use client::OpsError;

/// Runs one bulk command; `stop` ends `relay events tail`.
pub async fn run(
    command: args::OpsCommand,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), OpsError> {
    match command {
        args::OpsCommand::Events(command) => events::run(command, stop).await,
        args::OpsCommand::Replay(args) => replay::run(args).await,
        args::OpsCommand::DeadLetters(command) => dead_letters::run(command).await,
    }
}
