//! `relay listen`: a temporary agent mirroring a source's events to a local URL, for
//! development. With an admin API key it creates an agent, an agent destination allowed to
//! reach `--forward` only, and a route from the source (every event type) to it; prints one
//! line per event (status, latency; colored on a terminal unless `NO_COLOR` is set); and
//! removes all three on Ctrl-C or SIGTERM. If it is killed before it can clean up, the three
//! objects (named `listen-<source>-<random>`) stay until deleted through the admin API.

use std::io::IsTerminal as _;
use std::sync::Arc;

use relay_core::control::agent::{DeliverFrame, OutcomeFrame};
use reqwest::Method;
use serde_json::{Value, json};

use crate::agent::{self, AgentError, AgentOptions};
use crate::cli::ListenArgs;

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AgentError> {
        let mut request = (self.client)
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| AgentError::Connect(format!("{method} {path}: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(value),
            401 | 403 => Err(AgentError::Refused {
                status,
                message: format!("{method} {path}: an admin API key is needed ({text})"),
            }),
            _ => Err(AgentError::Usage(format!(
                "{method} {path} answered {status}: {text}"
            ))),
        }
    }
}

/// One line per forwarded event.
fn printer(color: bool) -> agent::OnOutcome {
    Box::new(move |frame: &DeliverFrame, outcome: &OutcomeFrame| {
        let (code, shown) = match (outcome.status, &outcome.error) {
            (Some(status), _) if (200..300).contains(&status) => ("32", status.to_string()),
            (Some(status), _) if status < 500 => ("33", status.to_string()),
            (Some(status), _) => ("31", status.to_string()),
            (None, error) => ("31", error.clone().unwrap_or_else(|| "failed".into())),
        };
        let status = if color {
            format!("\x1b[{code}m{shown}\x1b[0m")
        } else {
            shown
        };
        println!(
            "{status} {} {}ms attempt {} {}",
            frame.event_type, outcome.latency_ms, frame.attempt, frame.delivery_id
        );
    })
}

/// Runs `relay listen` until Ctrl-C or SIGTERM, then removes what it created.
pub async fn listen(args: ListenArgs) -> Result<(), AgentError> {
    let mut client = relay_core::tls::client_builder().no_proxy();
    if let Some(path) = &args.ca_file {
        let usage = |e: String| AgentError::Usage(format!("--ca-file {}: {e}", path.display()));
        let pem = std::fs::read(path).map_err(|e| usage(e.to_string()))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| usage(e.to_string()))?;
        client = client.tls_certs_merge(certs);
    }
    let api = Api {
        client: client
            .build()
            .map_err(|e| AgentError::Usage(e.to_string()))?,
        base: args.gateway.trim_end_matches('/').to_owned(),
        token: args.token.clone(),
    };
    let name = format!(
        "listen-{}-{:06x}",
        args.source,
        rand::random::<u32>() & 0xff_ffff
    );
    let created = api
        .call(Method::POST, "/api/v1/agents", Some(json!({"name": name})))
        .await?;
    let token = created["token"].as_str().unwrap_or_default().to_owned();
    let result = async {
        api.call(
            Method::POST,
            "/api/v1/destinations",
            Some(json!({
                "name": name, "kind": "agent", "agent": name,
                "allow_targets": [args.forward],
                "retry": {"max_attempts": 3, "initial_ms": 1000, "max_ms": 5000},
            })),
        )
        .await?;
        api.call(
            Method::POST,
            "/api/v1/routes",
            Some(json!({"name": name, "source": args.source, "event_types": ["*"], "destinations": [name]})),
        )
        .await?;
        eprintln!(
            "relay listen: mirroring source {:?} to {} (agent, destination and route {name:?}); Ctrl-C stops and removes them",
            args.source, args.forward
        );
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let options = AgentOptions {
            gateway: args.gateway.clone(),
            token,
            forward: vec![args.forward.clone()],
            ca_file: args.ca_file.clone(),
        };
        agent::run(options, Some(printer(color)), crate::serve::shutdown_signal()).await
    }
    .await;
    let cleanup = Arc::new(api);
    let mut left = Vec::new();
    for path in [
        format!("/api/v1/routes/{name}"),
        format!("/api/v1/destinations/{name}"),
        format!("/api/v1/agents/{name}"),
    ] {
        if let Err(error) = cleanup.call(Method::DELETE, &path, None).await {
            left.push(format!("{path}: {error}"));
        }
    }
    match left.is_empty() {
        true => eprintln!("relay listen: removed {name:?}"),
        false => eprintln!(
            "relay listen: could not remove everything:\n  {}",
            left.join("\n  ")
        ),
    }
    result
}
