//! The workspace's integration tests: one binary, one module per area.

mod core_events;
mod redaction;
