//! The configuration of ncp-audit.

#![warn(missing_docs, unreachable_pub)]
