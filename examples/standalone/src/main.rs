//! `relay`: the standalone Relay webhook gateway.
//!
//! Run with `cargo run --release -p relay-standalone` from the repository root: it serves
//! `examples/standalone/relay.toml` on the embedded store `./relay.db`.

mod access;
mod agent;
mod cli;
mod config;
mod demo;
mod doctor;
mod error;
mod http;
mod keys;
mod listen;
mod node;
mod ops;
mod otlp;
mod reload;
mod serve;
mod store;
mod tls;

/// The allocator: mimalloc, not glibc's malloc. Under load glibc's arenas showed up as about
/// a fifth of the CPU (malloc, free, consolidation and arena locks; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, ConfigCommand, KeyCommand, LogFormat, ServeArgs, UserCommand};

/// Exit code for an invalid configuration.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Some(Command::Serve(args)) => args.log_format,
        None => cli.serve.log_format,
        Some(_) => LogFormat::Text,
    };
    init_logs(log_format);
    match cli.command {
        Some(Command::Config(ConfigCommand::Check { file })) => match config::check(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Some(Command::Config(ConfigCommand::Reload { config, url })) => {
            run(async move { reload::request(&config, url).await })
        }
        Some(Command::Doctor(args)) => run(async move {
            match doctor::doctor(&args.config, args.database_url).await {
                true => Ok(()),
                false => Err(serve::ServeError::Unhealthy),
            }
        }),
        Some(Command::Migrate(args)) => run(async move { migrate(args).await }),
        Some(Command::User(UserCommand::Add {
            username,
            role,
            password_env,
            store,
        })) => run(async move {
            let relay = admin_relay(store).await?;
            match access::add_user(&relay, &username, role, password_env.as_deref()).await? {
                Some(password) => println!(
                    "created user {username:?} ({role}) with password {} (shown only now)",
                    password.expose()
                ),
                None => println!("created user {username:?} ({role})"),
            }
            Ok(())
        }),
        Some(Command::Key(KeyCommand::Add {
            name,
            role,
            tenant,
            store,
        })) => run(async move {
            let relay = admin_relay(store).await?;
            let token = access::add_key(&relay, &name, role, tenant.as_deref()).await?;
            println!("{}", token.expose());
            eprintln!("created API key {name:?} ({role}); the token above is shown only now");
            Ok(())
        }),
        Some(Command::Agent(args)) => run_agent(async move {
            let options = agent::AgentOptions {
                gateway: args.gateway,
                token: args.token,
                forward: args.forward,
                ca_file: args.ca_file,
            };
            agent::run(options, None, serve::shutdown_signal()).await
        }),
        Some(Command::Listen(args)) => run_agent(listen::listen(args)),
        Some(Command::Events(command)) => run_ops(ops::args::OpsCommand::Events(command)),
        Some(Command::Replay(args)) => run_ops(ops::args::OpsCommand::Replay(args)),
        Some(Command::DeadLetters(command)) => run_ops(ops::args::OpsCommand::DeadLetters(command)),
        Some(Command::Serve(args)) => run_serve(args),
        None => run_serve(cli.serve),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
///
/// Without a valid `RUST_LOG` the filter is the plain level `info`, which lets through exactly
/// what `EnvFilter::new("info")` would, without `EnvFilter`'s per-span bookkeeping (a lock
/// and a lookup at every enter, exit and close of every span: several per request).
fn init_logs(format: LogFormat) {
    use tracing_subscriber::filter::LevelFilter;
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr);
    match (
        tracing_subscriber::EnvFilter::try_from_default_env(),
        format,
    ) {
        (Ok(filter), LogFormat::Text) => logs.with_env_filter(filter).init(),
        (Ok(filter), LogFormat::Json) => {
            logs.with_env_filter(filter)
                .json()
                .flatten_event(true)
                .init();
        }
        (Err(_), LogFormat::Text) => logs.with_max_level(LevelFilter::INFO).init(),
        (Err(_), LogFormat::Json) => {
            (logs.with_max_level(LevelFilter::INFO))
                .json()
                .flatten_event(true)
                .init();
        }
    }
}

fn run(work: impl std::future::Future<Output = Result<(), serve::ServeError>>) -> ExitCode {
    match runtime() {
        Ok(runtime) => exit_code(runtime.block_on(work)),
        Err(code) => code,
    }
}

/// Serves, exporting traces over OTLP when the environment asks for it (see [`otlp`]), and
/// flushes the last spans once the gateway has stopped.
fn run_serve(args: ServeArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let traces = match otlp::Traces::from_env(runtime.handle()) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let tracer = traces.as_ref().map(otlp::Traces::tracer);
    let result = runtime.block_on(serve(args, tracer));
    if let Some(traces) = traces {
        traces.shutdown();
    }
    exit_code(result)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("cannot start the async runtime: {error}");
            ExitCode::FAILURE
        })
}

fn exit_code(result: Result<(), serve::ServeError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(serve::ServeError::Config(error)) => {
            eprintln!("{error}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(error) => {
            eprintln!("relay: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `relay agent` or `relay listen`: exit 0 when stopped, 2 for bad flags, 3 when the
/// gateway refuses the agent (reconnecting would not help), 1 otherwise.
fn run_agent(work: impl std::future::Future<Output = Result<(), agent::AgentError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("relay: {error}");
            ExitCode::from(match error {
                agent::AgentError::Usage(_) => EXIT_CONFIG,
                agent::AgentError::Refused { .. } => 3,
                agent::AgentError::Connect(_) => 1,
            })
        }
    }
}

/// Runs `relay events`, `relay replay` or `relay dead-letters`: exit 0 when done, 2 for bad
/// flags, 3 when the gateway refuses the API key or its role, 1 otherwise.
fn run_ops(command: ops::args::OpsCommand) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(ops::run(command, serve::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("relay: {error}");
            ExitCode::from(match error {
                ops::OpsError::Usage(_) => EXIT_CONFIG,
                ops::OpsError::Refused { .. } => 3,
                _ => 1,
            })
        }
    }
}

async fn serve(
    args: ServeArgs,
    tracer: Option<opentelemetry::global::BoxedTracer>,
) -> Result<(), serve::ServeError> {
    serve::serve(serve::Settings {
        config: &args.store.config,
        listen: args.listen,
        database_url: args.store.database_url,
        redis_url: args.redis_url,
        tracer,
    })
    .await
}

/// A relay on the configured store, without sources or destinations, for admin commands.
async fn admin_relay(args: cli::StoreArgs) -> Result<relay_core::Relay, serve::ServeError> {
    let (config, _) = config::check(&args.config)?;
    let url = args
        .database_url
        .unwrap_or_else(|| config.server.database_url.clone());
    let opened = store::open(
        &url,
        &config.server,
        config.server.migrate_on_start,
        store::Use::Beside,
    )
    .await?;
    Ok(relay_core::Relay::builder().store(opened.store).build()?)
}

async fn migrate(args: cli::StoreArgs) -> Result<(), serve::ServeError> {
    let (config, _) = config::check(&args.config)?;
    let url = args
        .database_url
        .unwrap_or_else(|| config.server.database_url.clone());
    store::open(&url, &config.server, true, store::Use::Owner).await?;
    println!("{}: schema is up to date", store::redact(&url));
    Ok(())
}
