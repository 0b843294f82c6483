//! Session identifiers.

use std::fmt;

use crate::Timestamp;

/// Characters of the random part: lowercase base 36, as the original implementation used.
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Length of the random part. Twelve base-36 characters carry 62 bits.
const RANDOM_LEN: usize = 12;

/// A sandbox session id, `session-<epoch ms>-<random>`, such as
/// `session-1732008930123-k3v9x0q2m7ab`.
///
/// The random part comes from the operating system's cryptographically secure generator, so
/// ids cannot be guessed from one another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

/// The operating system could not supply random bytes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct RandomError(String);

impl SessionId {
    /// A new id stamped with the current time.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the operating system has no randomness to give, which on the
    /// supported platforms happens only in a badly broken environment.
    pub fn generate() -> Result<SessionId, RandomError> {
        SessionId::generate_at(Timestamp::now())
    }

    /// A new id stamped with `started`.
    ///
    /// # Errors
    ///
    /// As [`SessionId::generate`].
    pub fn generate_at(started: Timestamp) -> Result<SessionId, RandomError> {
        let mut bytes = [0u8; RANDOM_LEN];
        getrandom::fill(&mut bytes).map_err(|error| RandomError(error.to_string()))?;
        // 256 is a multiple of neither 36 nor a power of it, so plain `% 36` would favour the
        // first four characters. Rejecting bytes at or above 252 (7 * 36) keeps the draw
        // uniform; refill the rejected ones.
        let mut random = String::with_capacity(RANDOM_LEN);
        let mut pool = bytes.into_iter();
        while random.len() < RANDOM_LEN {
            let byte = match pool.next() {
                Some(byte) => byte,
                None => {
                    getrandom::fill(&mut bytes).map_err(|error| RandomError(error.to_string()))?;
                    pool = bytes.into_iter();
                    continue;
                }
            };
            if byte < 252 {
                random.push(char::from(ALPHABET[usize::from(byte % 36)]));
            }
        }
        Ok(SessionId(format!("session-{}-{random}", started.as_unix_millis())))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape_and_differ() {
        let started = Timestamp::from_unix_millis(1_732_008_930_123).unwrap();
        let first = SessionId::generate_at(started).unwrap();
        let second = SessionId::generate_at(started).unwrap();
        let random = first.as_str().strip_prefix("session-1732008930123-").unwrap();
        assert_eq!(random.len(), RANDOM_LEN);
        assert!(random.bytes().all(|byte| ALPHABET.contains(&byte)));
        assert_ne!(first, second);
    }
}
