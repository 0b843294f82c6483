//! The closed vocabularies of an event: its type, severity and outcome.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A word outside one of the closed vocabularies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {word}; expected one of {expected}")]
pub struct UnknownWord {
    vocabulary: &'static str,
    word: String,
    expected: String,
}

impl UnknownWord {
    fn new(vocabulary: &'static str, word: &str, all: &[&'static str]) -> UnknownWord {
        // The word came from a file or a producer, and a misplaced value may be a secret:
        // echo only what looks like a word of a vocabulary.
        let is_word_like = word.len() <= 40
            && word.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"_-.".contains(&byte));
        let word = if is_word_like { format!("{word:?}") } else { "(value not shown)".to_owned() };
        // The audit system's own record types are valid, but no producer may write them:
        // they are not offered as what was meant.
        let offered: Vec<&str> = all.iter().copied().filter(|w| !w.starts_with("audit_")).collect();
        UnknownWord { vocabulary, word, expected: offered.join(", ") }
    }
}

/// Declares a string-valued enum with its wire spelling, parsing and serde in one place.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )+];

            /// The spelling on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }

            /// Every spelling on the wire, in declaration order.
            pub const WIRE_NAMES: &'static [&'static str] = &[$( $wire, )+];
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(word: &str) -> Result<$name, UnknownWord> {
                match word {
                    $( $wire => Ok($name::$variant), )+
                    _ => Err(UnknownWord::new($what, word, $name::WIRE_NAMES)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                word.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary! {
    /// What happened. The first fourteen are the sandbox's own events; the `Audit*` ones are
    /// records the audit system writes about itself, so that a reader of the log learns about
    /// losses and pruning from the log alone.
    EventType, "event type" {
        /// Code is about to run.
        CodeExecutionStart => "code_execution_start",
        /// Code ran to completion.
        CodeExecutionSuccess => "code_execution_success",
        /// Code threw or failed.
        CodeExecutionError => "code_execution_error",
        /// Code ran past its time limit and was stopped.
        CodeExecutionTimeout => "code_execution_timeout",
        /// A network request passed the policy.
        NetworkRequestAllowed => "network_request_allowed",
        /// A network request was refused by the policy.
        NetworkRequestDenied => "network_request_denied",
        /// A network permission was granted.
        NetworkPermissionGranted => "network_permission_granted",
        /// A request for a network permission was refused.
        NetworkPermissionDenied => "network_permission_denied",
        /// A network permission was taken back.
        NetworkPermissionRevoked => "network_permission_revoked",
        /// A tool binding was called.
        BindingAccessed => "binding_accessed",
        /// A tool binding was made available to the sandbox.
        BindingCreated => "binding_created",
        /// The sandbox caught code breaking a rule.
        SecurityViolation => "security_violation",
        /// An attempt to pollute a prototype was stopped.
        PrototypePollutionBlocked => "prototype_pollution_blocked",
        /// A worker thread running sandboxed code died.
        WorkerThreadFailed => "worker_thread_failed",
        /// The audit system could not write some events (backpressure, a full disk, a fault)
        /// and declares how many, over what time.
        AuditEventsLost => "audit_events_lost",
        /// Sampling left some events out on purpose; the record says how many of which type.
        AuditEventsSampled => "audit_events_sampled",
        /// Retention deleted log files; the record names them, so that pruning can be told
        /// apart from tampering.
        AuditFilesPruned => "audit_files_pruned",
        /// A checkpoint of the integrity chain.
        AuditCheckpoint => "audit_checkpoint",
    }
}

impl EventType {
    /// Whether the audit system wrote this record about itself.
    pub const fn is_audit_internal(self) -> bool {
        matches!(
            self,
            EventType::AuditEventsLost
                | EventType::AuditEventsSampled
                | EventType::AuditFilesPruned
                | EventType::AuditCheckpoint
        )
    }

    /// Whether an event of this type matters to security review so much that it must never
    /// be sampled away: violations, denials, failures and timeouts, and the audit system's own
    /// records.
    pub const fn is_security_relevant(self) -> bool {
        matches!(
            self,
            EventType::CodeExecutionError
                | EventType::CodeExecutionTimeout
                | EventType::NetworkRequestDenied
                | EventType::NetworkPermissionDenied
                | EventType::NetworkPermissionRevoked
                | EventType::SecurityViolation
                | EventType::PrototypePollutionBlocked
                | EventType::WorkerThreadFailed
        ) || self.is_audit_internal()
    }

    /// The severity an event of this type gets unless its maker says otherwise.
    pub const fn default_severity(self) -> Severity {
        match self {
            EventType::NetworkRequestDenied
            | EventType::NetworkPermissionDenied
            | EventType::AuditEventsLost => Severity::Warning,
            EventType::CodeExecutionError
            | EventType::CodeExecutionTimeout
            | EventType::WorkerThreadFailed => Severity::Error,
            EventType::SecurityViolation | EventType::PrototypePollutionBlocked => {
                Severity::Critical
            }
            _ => Severity::Info,
        }
    }

    /// The outcome an event of this type gets unless its maker says otherwise.
    pub const fn default_outcome(self) -> Outcome {
        match self {
            EventType::CodeExecutionStart => Outcome::Pending,
            EventType::CodeExecutionError
            | EventType::CodeExecutionTimeout
            | EventType::WorkerThreadFailed
            | EventType::AuditEventsLost => Outcome::Failure,
            EventType::NetworkRequestDenied
            | EventType::NetworkPermissionDenied
            | EventType::SecurityViolation
            | EventType::PrototypePollutionBlocked => Outcome::Blocked,
            _ => Outcome::Success,
        }
    }
}

vocabulary! {
    /// How much an event matters, ordered `Info < Warning < Error < Critical`.
    Severity, "severity" {
        /// Routine.
        Info => "info",
        /// Worth a look: a refusal, a loss.
        Warning => "warning",
        /// Something failed.
        Error => "error",
        /// An attack or a breach of the sandbox's rules.
        Critical => "critical",
    }
}

vocabulary! {
    /// How the action ended.
    Outcome, "outcome" {
        /// It was done.
        Success => "success",
        /// It was tried and failed.
        Failure => "failure",
        /// The policy stopped it.
        Blocked => "blocked",
        /// It has started and not yet ended.
        Pending => "pending",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back() {
        for &event_type in EventType::ALL {
            assert_eq!(event_type.as_str().parse::<EventType>(), Ok(event_type));
        }
        for &severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
        }
        for &outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
        }
    }

    #[test]
    fn severities_are_ordered() {
        assert!(Severity::Info < Severity::Warning);
        assert!(Severity::Warning < Severity::Error);
        assert!(Severity::Error < Severity::Critical);
    }

    #[test]
    fn unknown_words_name_the_vocabulary_and_the_choices() {
        let error = "loud".parse::<Severity>().unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"unknown severity "loud"; expected one of info, warning, error, critical"#
        );
        // Case matters: the wire spelling is lowercase only.
        assert!("Info".parse::<Severity>().is_err());
        // A value that does not look like a word may be a secret in the wrong place.
        let error = "Bearer supersecrettoken123".parse::<Outcome>().unwrap_err().to_string();
        assert!(error.starts_with("unknown outcome (value not shown); expected"), "{error}");
    }

    #[test]
    fn defaults_follow_the_design() {
        assert_eq!(EventType::NetworkRequestDenied.default_severity(), Severity::Warning);
        assert_eq!(EventType::NetworkRequestDenied.default_outcome(), Outcome::Blocked);
        assert_eq!(EventType::SecurityViolation.default_severity(), Severity::Critical);
        assert_eq!(EventType::SecurityViolation.default_outcome(), Outcome::Blocked);
        assert_eq!(EventType::CodeExecutionStart.default_outcome(), Outcome::Pending);
        assert!(!EventType::BindingAccessed.is_security_relevant());
        assert!(EventType::AuditEventsLost.is_security_relevant());
    }
}
