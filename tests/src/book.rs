//! The Rust examples of the README and of every chapter of the book (`docs/src`), compiled as
//! doctests (`rust,ignore` fragments excepted): an example that no longer compiles fails
//! `cargo test`. `examples/standalone/tests/docs.rs` checks that every chapter is listed here.

#[doc = include_str!("../../README.md")]
mod readme {}

#[doc = include_str!("../../docs/src/admin-api.md")]
mod admin_api {}

#[doc = include_str!("../../docs/src/agents.md")]
mod agents {}

#[doc = include_str!("../../docs/src/configuration.md")]
mod configuration {}

#[doc = include_str!("../../docs/src/dashboard.md")]
mod dashboard {}

#[doc = include_str!("../../docs/src/delivery-and-retries.md")]
mod delivery_and_retries {}

#[doc = include_str!("../../docs/src/embedding-actix.md")]
mod embedding_actix {}

#[doc = include_str!("../../docs/src/embedding-axum.md")]
mod embedding_axum {}

#[doc = include_str!("../../docs/src/getting-started.md")]
mod getting_started {}

#[doc = include_str!("../../docs/src/introduction.md")]
mod introduction {}

#[doc = include_str!("../../docs/src/multi-tenancy.md")]
mod multi_tenancy {}

#[doc = include_str!("../../docs/src/outbox.md")]
mod outbox {}

#[doc = include_str!("../../docs/src/operations.md")]
mod operations {}
#[doc = include_str!("../../docs/src/runbook.md")]
mod runbook {}

#[doc = include_str!("../../docs/src/routing-and-transforms.md")]
mod routing_and_transforms {}

#[doc = include_str!("../../docs/src/scaling-out.md")]
mod scaling_out {}

#[doc = include_str!("../../docs/src/security.md")]
mod security {}

#[doc = include_str!("../../docs/src/sending-webhooks.md")]
mod sending_webhooks {}

#[doc = include_str!("../../docs/src/sources-and-signatures.md")]
mod sources_and_signatures {}

#[doc = include_str!("../../docs/src/storage.md")]
mod storage {}
