//! Cutting long text to a number of characters after redaction.

use crate::scan::MARKER;

/// What ends a cut text.
pub const TRUNCATION_SUFFIX: &str = "... (truncated)";

/// `text` cut to `limit` Unicode scalar values followed by [`TRUNCATION_SUFFIX`], or `None`
/// when it fits (or was already cut this way, so that cutting twice changes nothing).
///
/// A marker that the cut would split is dropped whole, so that no `<redac` stub is left to
/// look like the start of something else.
pub(crate) fn truncate_chars(text: &str, limit: usize) -> Option<String> {
    // A text of at most `limit` bytes has at most `limit` characters.
    if text.len() <= limit {
        return None;
    }
    let (cut, _) = text.char_indices().nth(limit)?;
    // Text already cut, here or by the original implementation (which ends a cut with
    // `...`), is not cut again.
    for suffix in [TRUNCATION_SUFFIX, "..."] {
        if let Some(kept) = text.strip_suffix(suffix)
            && kept.chars().count() <= limit
        {
            return None;
        }
    }
    let mut kept = &text[..cut];
    for stub_len in (1..MARKER.len()).rev() {
        if kept.ends_with(&MARKER[..stub_len]) && text[cut - stub_len..].starts_with(MARKER) {
            kept = &kept[..cut - stub_len];
            break;
        }
    }
    Some(format!("{kept}{TRUNCATION_SUFFIX}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_characters_not_bytes() {
        let text = "é".repeat(10);
        assert_eq!(truncate_chars(&text, 4).unwrap(), format!("éééé{TRUNCATION_SUFFIX}"));
        assert_eq!(truncate_chars(&text, 10), None);
    }

    #[test]
    fn a_split_marker_is_dropped_and_a_cut_text_is_not_cut_again() {
        let text = format!("abc{MARKER}def");
        assert_eq!(truncate_chars(&text, 6).unwrap(), format!("abc{TRUNCATION_SUFFIX}"));
        let once = truncate_chars("abcdefgh", 4).unwrap();
        assert_eq!(truncate_chars(&once, 4), None);
        assert_eq!(truncate_chars("abcd...", 4), None);
    }
}
