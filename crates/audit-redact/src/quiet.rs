//! A small memory of short strings already found to hold nothing to redact.
//!
//! An executor's events repeat the same short strings over and over: the MCP name, the user,
//! the session, the binding and method names. Redacting a string is a pure function of its
//! text (the rules are fixed, the same for every scanner), so a string that came back
//! unchanged once comes back unchanged every time, and the scan can be skipped. The memory is
//! a direct-mapped table: one string per slot, a new string evicts whatever shared its slot.
//! Crafted input can only make it miss, never grow it or slow a lookup down.
//!
//! Each thread has a table of its own, which every scanner on that thread uses: a lookup then
//! takes no lock and touches no memory another core writes. A logger's writer and the
//! threads that log render events at the same time, and one shared table, locked, cost each
//! of them an atomic operation per string and missed whenever the other held it. A table
//! holds at most 1024 strings of at most 64 bytes, and lives as long as its thread.

use std::cell::RefCell;

/// Strings this short are never scanned anyway (see `Scanner::redact`).
const MIN_LEN: usize = 5;
/// Longer strings are rarely repeated (snippets, URLs with ids) and would cost memory.
const MAX_LEN: usize = 64;
const N_SLOTS: usize = 1024;

thread_local! {
    /// This thread's table; empty until the first string is remembered.
    static SLOTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Whether `text` is known, on this thread, to hold nothing to redact.
pub(crate) fn contains(text: &str) -> bool {
    if !(MIN_LEN..=MAX_LEN).contains(&text.len()) {
        return false;
    }
    // A thread whose locals are being torn down, or a lookup nested in another (never the
    // case today), does without the table.
    SLOTS
        .try_with(|slots| {
            slots
                .try_borrow()
                .is_ok_and(|slots| slots.get(slot_of(text)).is_some_and(|slot| slot == text))
        })
        .unwrap_or(false)
}

/// Remembers, on this thread, that `text` holds nothing to redact.
pub(crate) fn insert(text: &str) {
    if !(MIN_LEN..=MAX_LEN).contains(&text.len()) {
        return;
    }
    let _ = SLOTS.try_with(|slots| {
        let Ok(mut slots) = slots.try_borrow_mut() else { return };
        if slots.is_empty() {
            slots.resize(N_SLOTS, String::new());
        }
        let slot = &mut slots[slot_of(text)];
        // Reuses the slot's allocation once it is large enough.
        slot.clear();
        slot.push_str(text);
    });
}

/// The slot of `text`: a multiplicative hash over eight bytes at a time.
fn slot_of(text: &str) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: u64, word: u64| (hash.rotate_left(23) ^ word).wrapping_mul(K);
    let mut hash = text.len() as u64;
    // Whole words are read in one load each; copying every chunk into a padded buffer called
    // `memcpy` per chunk and showed in the writer's profile.
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The last bytes as a little-endian word padded with zeros.
        let word = rest.iter().rev().fold(0_u64, |word, &byte| word << 8 | u64::from(byte));
        hash = mix(hash, word);
    }
    // OK because the shift leaves ten bits, below N_SLOTS.
    (hash >> 54) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_strings_of_the_cached_lengths_only() {
        assert!(!contains("code-mode"));
        insert("code-mode");
        assert!(contains("code-mode"));
        assert!(!contains("code-mod"));
        insert("abc");
        assert!(!contains("abc"));
        let long = "x".repeat(MAX_LEN + 1);
        insert(&long);
        assert!(!contains(&long));
    }

    #[test]
    fn slots_spread_over_the_table() {
        let used: std::collections::HashSet<usize> =
            (0..4096).map(|idx| slot_of(&format!("session-{idx}"))).collect();
        assert!(used.len() > N_SLOTS * 9 / 10, "{}", used.len());
    }
}
