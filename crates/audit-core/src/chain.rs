//! The integrity chain: what makes the audit files tamper-evident.
//!
//! Every line the writer puts on disk ends with a `chain` field holding a sequence number and
//! a SHA-256 hash:
//!
//! ```text
//! {"timestamp":"…","type":"…","severity":"…","context":{…},"details":{…},"outcome":"…","chain":{"seq":42,"hash":"9f…"}}
//! ```
//!
//! The hash of line `n` covers the hash of line `n - 1`, the sequence number `n`, and the exact
//! bytes of line `n` before `,"chain":` (the event's six fields as written). Changing,
//! removing, inserting or reordering any line therefore breaks the chain at that spot, and
//! the sequence numbers tell which of those it was. The chain runs across files: the first
//! line of a new file links to the last line of the file before it.
//!
//! The six design fields stay first and unchanged, so `grep` and `jq` recipes work as before;
//! `jq 'del(.chain)'` gives back the plain event.

use std::fmt;

use sha2::{Digest, Sha256};

/// The bytes between an event's fields and its chain data.
const MARKER: &[u8] = b",\"chain\":{\"seq\":";
const HASH_KEY: &[u8] = b",\"hash\":\"";
const TAIL: &[u8] = b"\"}}";

/// One link of the chain: a sequence number and the hash that ends at it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainLink {
    /// The sequence number, from 1 for the first line ever written in a directory; 0 is the
    /// genesis link that precedes it.
    pub seq: u64,
    /// SHA-256 over the previous link's hash, `seq` and the line's event bytes.
    pub hash: [u8; 32],
}

impl ChainLink {
    /// The link before the first line: sequence 0, an all-zero hash.
    pub const GENESIS: ChainLink = ChainLink { seq: 0, hash: [0; 32] };

    /// The link that follows `self` for a line whose event bytes (everything before
    /// `,"chain":`) are `event_prefix`.
    pub fn next(&self, event_prefix: &[u8]) -> ChainLink {
        let seq = self.seq + 1;
        ChainLink { seq, hash: link_hash(&self.hash, seq, event_prefix) }
    }

    /// The hash as 64 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        let mut text = String::with_capacity(64);
        push_hex(&self.hash, &mut text);
        text
    }

    /// Parses 64 hex digits back into a hash.
    pub fn parse_hash(hex: &[u8]) -> Option<[u8; 32]> {
        if hex.len() != 64 {
            return None;
        }
        // Without a branch per digit: a verifier parses one hash per line it reads, and the
        // branchy form took a quarter of `verify`'s time. An invalid digit looks up 0xff,
        // whose high bits the accumulated `invalid` keeps.
        let mut hash = [0u8; 32];
        let mut invalid = 0u8;
        for (byte, pair) in hash.iter_mut().zip(hex.chunks_exact(2)) {
            let (high, low) = (HEX_VALUES[usize::from(pair[0])], HEX_VALUES[usize::from(pair[1])]);
            invalid |= high | low;
            *byte = (high << 4) | (low & 0x0f);
        }
        (invalid & 0xf0 == 0).then_some(hash)
    }
}

impl fmt::Debug for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainLink({}, {})", self.seq, self.hash_hex())
    }
}

/// SHA-256 of `prev_hash`, `seq` as eight big-endian bytes, and `event_prefix`.
pub fn link_hash(prev_hash: &[u8; 32], seq: u64, event_prefix: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(seq.to_be_bytes());
    hasher.update(event_prefix);
    hasher.finalize().into()
}

/// The value of each lowercase hex digit, 0xff for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut digit = 0;
    while digit < 16 {
        table[b"0123456789abcdef"[digit] as usize] = digit as u8;
        digit += 1;
    }
    table
};

fn push_hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
}

/// Appends `event_json` (one compact JSON object, no newline) to `out` as a chained line,
/// newline included, and returns the new head of the chain.
///
/// # Panics
///
/// If `event_json` does not end with `}`; every serialized event does.
pub fn append_chained_line(head: ChainLink, event_json: &[u8], out: &mut Vec<u8>) -> ChainLink {
    let (&closing, event_prefix) =
        event_json.split_last().expect("a serialized event is never empty");
    assert_eq!(closing, b'}', "a serialized event ends with a closing brace");
    let link = head.next(event_prefix);

    out.extend_from_slice(event_prefix);
    out.extend_from_slice(MARKER);
    push_decimal(link.seq, out);
    out.extend_from_slice(HASH_KEY);
    // Written in place: the writer chains every line, and two small strings per line showed
    // in its profile.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in link.hash {
        out.extend_from_slice(&[DIGITS[usize::from(byte >> 4)], DIGITS[usize::from(byte & 15)]]);
    }
    out.extend_from_slice(TAIL);
    out.push(b'\n');
    link
}

/// Appends `value` in decimal.
fn push_decimal(mut value: u64, out: &mut Vec<u8>) {
    let mut digits = [0_u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // OK because `value % 10` is a single digit.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// A line split into its event bytes and its chain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainedLine<'a> {
    /// The bytes the hash covers: the line up to `,"chain":`.
    pub event_prefix: &'a [u8],
    /// The sequence number written on the line.
    pub seq: u64,
    /// The hash written on the line.
    pub hash: [u8; 32],
}

impl ChainedLine<'_> {
    /// Whether the written hash is the one that follows `prev_hash`.
    pub fn follows(&self, prev_hash: &[u8; 32]) -> bool {
        link_hash(prev_hash, self.seq, self.event_prefix) == self.hash
    }

    /// The link this line claims.
    pub fn link(&self) -> ChainLink {
        ChainLink { seq: self.seq, hash: self.hash }
    }
}

/// Splits a line (without its newline) into event bytes and chain data, or `None` when the
/// line carries no well-formed chain field at its end.
pub fn split_chained_line(line: &[u8]) -> Option<ChainedLine<'_>> {
    // Fixed layout from the end: `,"hash":"<64 hex>"}}` is 75 bytes.
    let rest = line.strip_suffix(TAIL)?;
    let hex_start = rest.len().checked_sub(64)?;
    let hash = ChainLink::parse_hash(&rest[hex_start..])?;
    let rest = rest[..hex_start].strip_suffix(HASH_KEY)?;
    let digits_len = rest.iter().rev().take_while(|byte| byte.is_ascii_digit()).count();
    if digits_len == 0 || digits_len > 20 {
        return None;
    }
    let (rest, digits) = rest.split_at(rest.len() - digits_len);
    // The writer never pads: `007` is not a JSON number at all, and readers would skip the
    // line as damaged, so a padded number is not the writer's chain field.
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    // ASCII digits only, at most 20 of them: only overflow can fail.
    let seq = digits
        .iter()
        .try_fold(0_u64, |seq, digit| seq.checked_mul(10)?.checked_add(u64::from(digit - b'0')))?;
    let event_prefix = rest.strip_suffix(MARKER)?;
    Some(ChainedLine { event_prefix, seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &[u8] = br#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"binding_accessed","severity":"info","context":{},"details":{},"outcome":"success"}"#;

    #[test]
    fn hashes_parse_from_lowercase_hex_only() {
        let link = ChainLink::GENESIS.next(EVENT);
        assert_eq!(ChainLink::parse_hash(link.hash_hex().as_bytes()), Some(link.hash));
        for bad in [link.hash_hex().to_uppercase(), "g".repeat(64), "0".repeat(63)] {
            assert_eq!(ChainLink::parse_hash(bad.as_bytes()), None, "{bad}");
        }
        let mut one_bad = link.hash_hex().into_bytes();
        one_bad[63] = b' ';
        assert_eq!(ChainLink::parse_hash(&one_bad), None);
    }

    #[test]
    fn a_line_splits_into_its_event_and_link() {
        let mut line = Vec::new();
        let link = append_chained_line(ChainLink::GENESIS, EVENT, &mut line);
        line.pop();
        let split = split_chained_line(&line).unwrap();
        // The event's closing brace moves behind the chain field.
        assert_eq!((split.event_prefix, split.link()), (&EVENT[..EVENT.len() - 1], link));
        let text = String::from_utf8(line).unwrap();
        let with_seq = |seq: &str| text.replace("\"seq\":1,", &format!("\"seq\":{seq},"));
        assert!(split_chained_line(with_seq("07").as_bytes()).is_none(), "not JSON");
        assert!(split_chained_line(with_seq("00000001").as_bytes()).is_none(), "not JSON");
        let max = u64::MAX.to_string();
        assert_eq!(split_chained_line(with_seq(&max).as_bytes()).map(|l| l.seq), Some(u64::MAX));
        assert!(split_chained_line(with_seq("18446744073709551616").as_bytes()).is_none());
        assert!(split_chained_line(with_seq("").as_bytes()).is_none());
    }

    #[test]
    fn sequence_numbers_are_written_in_decimal() {
        for value in [0, 7, 10, 1_234_567_890, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(value, &mut out);
            assert_eq!(out, value.to_string().as_bytes());
        }
    }

    #[test]
    fn lines_split_back_into_what_was_chained() {
        let mut out = Vec::new();
        let first = append_chained_line(ChainLink::GENESIS, EVENT, &mut out);
        let second = append_chained_line(first, EVENT, &mut out);
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_ne!(first.hash, second.hash);

        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1]
                .ends_with(&format!(r#","chain":{{"seq":2,"hash":"{}"}}}}"#, second.hash_hex()))
        );
        let value: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(value["chain"]["seq"], 1);

        let split = split_chained_line(lines[1].as_bytes()).unwrap();
        assert_eq!(split.link(), second);
        assert_eq!(split.event_prefix, &EVENT[..EVENT.len() - 1]);
        assert!(split.follows(&first.hash));
        assert!(!split.follows(&ChainLink::GENESIS.hash));
    }

    #[test]
    fn lines_without_a_chain_are_not_split() {
        assert_eq!(split_chained_line(EVENT), None);
        assert_eq!(split_chained_line(b""), None);
        let forged = br#"{"a":1,"chain":{"seq":,"hash":"00"}}"#;
        assert_eq!(split_chained_line(forged), None);
        let upper = format!(r#"{{"a":1,"chain":{{"seq":1,"hash":"{}"}}}}"#, "A".repeat(64));
        assert_eq!(split_chained_line(upper.as_bytes()), None);
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let link = ChainLink::GENESIS.next(b"x");
        assert_eq!(ChainLink::parse_hash(link.hash_hex().as_bytes()), Some(link.hash));
    }
}
