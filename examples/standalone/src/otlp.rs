//! OpenTelemetry trace export over OTLP/HTTP (protobuf), configured by the standard
//! environment variables:
//!
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://collector:4318`; `/v1/traces` is appended) or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL). Neither set: nothing is exported.
//! - `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`
//!   (default `relay`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, and the `OTEL_BSP_*`
//!   batch settings, as the OpenTelemetry SDK reads them.
//! - `OTEL_EXPORTER_OTLP_PROTOCOL`: only `http/protobuf` (the default) is supported; anything
//!   else is refused at start rather than silently exporting nothing.
//!
//! The spans are described in `relay_core::observe::otel`: one trace per event, ingest → attempts.

use bytes::Bytes;
use opentelemetry::KeyValue;
use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::WithHttpConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use relay_core::observe::otel::EventTraceIds;
use tokio::runtime::Handle;

/// The variables that switch export on.
const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The variables that choose the protocol.
const PROTOCOL_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];

/// Why traces cannot be exported as the environment asks.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// A protocol other than `http/protobuf` was asked for.
    #[error(
        "{var}={value:?} is not supported: relay exports OTLP over HTTP with protobuf \
         (unset it or set it to \"http/protobuf\", and point the endpoint at the collector's \
         HTTP port, usually 4318)"
    )]
    Protocol {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The exporter could not be built (a bad endpoint URL, for instance).
    #[error("OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The HTTP client could not be built.
    #[error("OTLP HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Trace export while the gateway runs; [`Traces::shutdown`] flushes what is buffered.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Starts exporting when an endpoint variable is set; `None` otherwise. The exporter's
    /// requests run on `runtime`.
    pub fn from_env(runtime: &Handle) -> Result<Option<Self>, OtlpError> {
        let endpoint = ENDPOINT_VARS
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()));
        let Some(endpoint) = endpoint else {
            return Ok(None);
        };
        for var in PROTOCOL_VARS {
            if let Ok(value) = std::env::var(var)
                && !value.trim().is_empty()
                && value.trim() != "http/protobuf"
            {
                return Err(OtlpError::Protocol { var, value });
            }
        }
        let client = RuntimeClient {
            client: relay_core::tls::client_builder().build()?,
            runtime: runtime.clone(),
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .build()?;
        let mut resource = Resource::builder()
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("relay");
        }
        let provider = SdkTracerProvider::builder()
            .with_id_generator(EventTraceIds::default())
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build();
        tracing::info!(%endpoint, "exporting traces over OTLP");
        Ok(Some(Self { provider }))
    }

    /// The tracer to hand to the relay.
    pub fn tracer(&self) -> BoxedTracer {
        BoxedTracer::new(Box::new(self.provider.tracer("relay")))
    }

    /// Exports what is still buffered and stops. Call it outside the runtime's tasks, while the
    /// runtime is still alive (the export runs on it).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "flushing the last traces failed");
        }
    }
}

/// The exporter's HTTP client: the SDK's batch processor runs on a thread of its own, so each
/// request is handed to the Tokio runtime, where reqwest runs, and awaited from there.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: Handle,
}

/// The most of a collector's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request)?;
            let mut response = client.execute(request).await?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let mut answer = Response::builder().status(status).body(Bytes::from(body))?;
            *answer.headers_mut() = headers;
            Ok::<_, HttpError>(answer)
        });
        sent.await?
    }
}
