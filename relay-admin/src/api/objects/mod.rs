//! Sources, destinations and routes: listed with how they are managed, and created, changed,
//! paused and deleted when the admin API manages them (see [`relay_core::control::manage`]).

pub mod circuit;
pub(crate) mod destinations;
pub mod dto;
mod handlers;
mod managed;
pub(crate) mod routes;
pub(crate) mod sources;
pub mod state;
pub(crate) mod subscriptions;
