//! The control plane, apart from the pipeline: admin operations, managed objects, tenancy,
//! agents, alerts, credentials, readiness, and the definitions of sources, destinations and
//! routes as data.

pub mod admin;
pub mod agent;
pub mod alert;
pub mod credentials;
pub mod definition;
pub mod manage;
pub mod readiness;
pub mod tenancy;
