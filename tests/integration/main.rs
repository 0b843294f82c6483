//! The workspace's integration tests: one binary, one module per area.

mod config;
mod core_events;
mod query;
mod redaction;
mod sink;
mod verify;
