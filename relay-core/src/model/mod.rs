//! Plain data the pipeline passes along: events and deliveries, ids, time, payloads, secrets; no I/O.

pub mod attempt_detail;
pub mod event;
pub mod ids;
pub mod payload;
pub mod secret;
pub mod time;
