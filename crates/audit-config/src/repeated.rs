//! Keys given twice in one object of a JSON document.
//!
//! JSON leaves a repeated key's meaning open: `serde_json` keeps the last value, other readers
//! the first. A settings file with `"maxFiles"` twice is read, with a warning naming the key,
//! so that whoever edits it learns which of the two counts.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The paths (`audit.maxFiles`, `audit.sampleRates.x`, `list[2].y`) of every key that
/// repeats one before it in the same object, in document order. `bytes` must be valid JSON;
/// anything else finds nothing.
pub(crate) fn repeated_keys(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    // A document that does not parse was reported by the real parse already.
    let _ = Walk { path: String::new(), found: &mut found }.deserialize(&mut deserializer);
    found
}

/// Visits one value, noting repeated keys of the objects inside it.
struct Walk<'a> {
    path: String,
    found: &'a mut Vec<String>,
}

impl Walk<'_> {
    fn child(&mut self, step: fmt::Arguments<'_>) -> Walk<'_> {
        Walk { path: format!("{}{step}", self.path), found: self.found }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = if self.path.is_empty() { key.clone() } else { format!(".{key}") };
            let child = self.child(format_args!("{step}"));
            if !seen.insert(key) {
                child.found.push(child.path.clone());
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut idx = 0;
        while seq.next_element_seed(self.child(format_args!("[{idx}]")))?.is_some() {
            idx += 1;
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expected: &[&str]) {
        assert_eq!(repeated_keys(json.as_bytes()), expected, "{json}");
    }

    #[test]
    fn finds_keys_repeated_in_one_object_at_any_depth() {
        check(r#"{"audit":{"maxFiles":3,"maxFiles":4}}"#, &["audit.maxFiles"]);
        check(
            r#"{"a":[{"x":1},{"x":1,"x":2}],"audit":{"sampleRates":{"t":0.5,"t":1}}}"#,
            &["a[1].x", "audit.sampleRates.t"],
        );
        check(r#"{"a":1,"a":2,"a":3}"#, &["a", "a"]);
    }

    #[test]
    fn the_same_key_in_different_objects_is_no_repetition() {
        check(r#"{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}"#, &[]);
        check(r#"{"n":12345678901234567890123,"s":"x","t":true,"z":null}"#, &[]);
        check("not json", &[]);
    }
}
