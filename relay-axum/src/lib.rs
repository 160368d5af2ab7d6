#![doc = include_str!("../README.md")]

pub mod admin;
pub mod agent;
pub mod catch_panic;
mod client;
pub mod dashboard;
pub mod health;
mod ingest;
#[cfg(feature = "metrics")]
pub mod metrics;

pub use catch_panic::CatchPanicLayer;
pub use client::ClientAddr;
pub use ingest::{RelayLayer, RelayService, ResponseBody, ResponseFuture, TenantResolver};
pub use relay_admin::{ClientInfo, TrustedProxies};
