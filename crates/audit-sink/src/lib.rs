//! Writes redacted audit events to files.

#![warn(missing_docs, unreachable_pub)]
