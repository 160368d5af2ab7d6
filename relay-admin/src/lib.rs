#![doc = include_str!("../README.md")]

pub mod agent;
pub mod api;
pub mod client;
pub mod dashboard;
mod handler;
pub mod health;
#[cfg(feature = "metrics")]
pub mod metrics;
mod options;
mod plane;
pub mod reply;
pub mod request;
mod router;
mod state;
pub mod swagger;
pub mod table;
pub mod tenant;

pub use api::{ApiError, ErrorBody, FieldErrorBody};
pub use client::TrustedProxies;
pub use handler::{BoxReply, Handler};
pub use options::{AdminOptions, Reload, ReloadHook, ReloadSummary};
pub use plane::{BODY_LIMIT, ControlPlane, payload_too_large};
pub use reply::{IntoReply, Json, Reply};
pub use request::{ClientInfo, FromRequest, Request};
pub use state::AdminState;
