//! Counting a log in fixed memory: capped counters, a log-bucket histogram of durations.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use audit_core::LenientEvent;
use audit_core::serde_json::Value;

use super::{Canonical, Head};

/// Event types whose `details.durationMs` goes into the duration percentiles.
const TIMED_TYPES: [&[u8]; 3] =
    [b"code_execution_success", b"code_execution_error", b"code_execution_timeout"];
/// Event types whose `details.url` goes into the denied URLs and domains.
const DENIED_TYPES: [&[u8]; 2] = [b"network_request_denied", b"network_permission_denied"];
const DURATION_KEY: &[u8] = b"\"durationMs\":";
const URL_KEY: &[u8] = b"\"url\":\"";

/// Counts of keys in bounded memory.
///
/// Exact while it holds at most `2 * cap` distinct keys. Past that it keeps the `cap` largest
/// counts (lossy counting): a key dropped and seen again restarts from zero, so every count is
/// a lower bound and [`TopK::is_approximate`] says so. Memory stays under `2 * cap` keys
/// whatever the input.
#[derive(Debug, Clone)]
pub(crate) struct TopK {
    cap: usize,
    counts: HashMap<Box<[u8]>, u64, BuildHasherDefault<KeyHasher>>,
    approximate: bool,
}

/// A fast multiply-rotate hash for short keys. It does not resist keys crafted to collide;
/// the map never holds more than `2 * cap` keys, which bounds what such keys can cost.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl TopK {
    /// A counter that keeps at least the `cap` largest counts.
    pub(crate) fn new(cap: usize) -> TopK {
        TopK { cap: cap.max(1), counts: HashMap::default(), approximate: false }
    }

    /// Adds `n` to `key`.
    pub(crate) fn add(&mut self, key: &[u8], n: u64) {
        if let Some(count) = self.counts.get_mut(key) {
            *count += n;
            return;
        }
        if self.counts.len() >= 2 * self.cap {
            self.shrink();
        }
        self.counts.insert(key.into(), n);
    }

    fn shrink(&mut self) {
        let mut counts: Vec<u64> = self.counts.values().copied().collect();
        // The cap-th largest count: keys below it go.
        let (_, threshold, _) = counts.select_nth_unstable_by(self.cap - 1, |a, b| b.cmp(a));
        let threshold = *threshold;
        let mut kept = 0;
        self.counts.retain(|_, count| {
            let keep = *count > threshold || (*count == threshold && kept < self.cap);
            kept += usize::from(keep);
            keep
        });
        self.approximate = true;
    }

    /// Adds another counter's counts.
    pub(crate) fn merge(&mut self, other: TopK) {
        self.approximate |= other.approximate;
        for (key, count) in other.counts {
            self.add(&key, count);
        }
    }

    fn entries(&self) -> Vec<(String, u64)> {
        self.counts
            .iter()
            .map(|(key, count)| (String::from_utf8_lossy(key).into_owned(), *count))
            .collect()
    }

    /// The `n` largest counts, largest first, ties by key.
    pub(crate) fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut entries = self.entries();
        entries.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        entries.truncate(n);
        entries
    }

    /// Every count, by key.
    pub(crate) fn by_key(&self) -> Vec<(String, u64)> {
        let mut entries = self.entries();
        entries.sort();
        entries
    }

    /// Whether keys were dropped, so that counts are lower bounds.
    pub(crate) fn is_approximate(&self) -> bool {
        self.approximate
    }
}

/// Durations in a fixed number of log-spaced buckets (about 0.8% relative error), in
/// milliseconds with microsecond resolution.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    min_micros: u64,
    max_micros: u64,
    /// The largest value exactly, in milliseconds: beyond about 584,000 years the buckets
    /// saturate, and the maximum is the one figure that must not.
    max_millis: f64,
}

/// Values below this many microseconds get a bucket each.
const LINEAR: u64 = 128;
/// Buckets per power of two above `LINEAR`.
const PER_OCTAVE: u64 = 64;
const N_BUCKETS: usize = (LINEAR + 57 * PER_OCTAVE) as usize;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: vec![0; N_BUCKETS],
            count: 0,
            min_micros: u64::MAX,
            max_micros: 0,
            max_millis: 0.0,
        }
    }
}

impl Histogram {
    /// Records a duration in milliseconds; negative and non-finite values are ignored.
    pub(crate) fn record(&mut self, millis: f64) {
        if !(millis.is_finite() && millis >= 0.0) {
            return;
        }
        // `as` saturates at u64::MAX for huge values, which the top bucket holds.
        let micros = (millis * 1000.0).round() as u64;
        self.buckets[bucket_of(micros)] += 1;
        self.count += 1;
        self.min_micros = self.min_micros.min(micros);
        self.max_micros = self.max_micros.max(micros);
        self.max_millis = self.max_millis.max(millis);
    }

    /// Adds another histogram's values.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        self.count += other.count;
        self.min_micros = self.min_micros.min(other.min_micros);
        self.max_micros = self.max_micros.max(other.max_micros);
        self.max_millis = self.max_millis.max(other.max_millis);
    }

    /// How many values were recorded.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The value at percentile `p` (0 to 100) in milliseconds, `None` when empty.
    pub(crate) fn percentile(&self, p: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, n_values) in self.buckets.iter().enumerate() {
            seen += n_values;
            if seen >= rank {
                let (low, width) = bucket_bounds(bucket);
                let middle = low.saturating_add(width / 2);
                return Some(middle.clamp(self.min_micros, self.max_micros) as f64 / 1000.0);
            }
        }
        Some(self.max_micros as f64 / 1000.0)
    }

    /// The largest value in milliseconds.
    pub(crate) fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max_millis)
    }
}

fn bucket_of(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let exponent = 63 - u64::from(micros.leading_zeros());
    let shift = exponent - 6;
    let mantissa = micros >> shift;
    (LINEAR + (shift - 1) * PER_OCTAVE + (mantissa - PER_OCTAVE)) as usize
}

/// The lowest value of a bucket and its width.
fn bucket_bounds(bucket: usize) -> (u64, u64) {
    let bucket = bucket as u64;
    if bucket < LINEAR {
        return (bucket, 1);
    }
    let shift = (bucket - LINEAR) / PER_OCTAVE + 1;
    let mantissa = (bucket - LINEAR) % PER_OCTAVE + PER_OCTAVE;
    (mantissa << shift, 1 << shift)
}

/// What `stats` counts besides the defaults.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatsOptions {
    /// Field paths to count values of (`context.userId`, `details.method`).
    pub(crate) by: Vec<String>,
    /// How many keys each counter keeps exactly (see [`TopK`]).
    pub(crate) cap: usize,
}

/// Everything `stats` reports, mergeable across threads.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    pub(crate) n_events: u64,
    /// The earliest and latest timestamps seen, empty before any.
    first_timestamp: Vec<u8>,
    last_timestamp: Vec<u8>,
    tally: Tally,
    pub(crate) by_type: TopK,
    pub(crate) by_severity: TopK,
    pub(crate) by_outcome: TopK,
    pub(crate) by_mcp: TopK,
    pub(crate) by_day: TopK,
    pub(crate) by_field: Vec<(String, TopK)>,
    pub(crate) durations: Histogram,
    pub(crate) denied_urls: TopK,
    pub(crate) denied_domains: TopK,
}

impl Stats {
    /// Empty counters.
    pub(crate) fn new(options: &StatsOptions) -> Stats {
        let cap = if options.cap == 0 { 1000 } else { options.cap };
        Stats {
            n_events: 0,
            first_timestamp: Vec::new(),
            last_timestamp: Vec::new(),
            tally: Tally::default(),
            by_type: TopK::new(cap),
            by_severity: TopK::new(cap),
            by_outcome: TopK::new(cap),
            by_mcp: TopK::new(cap),
            by_day: TopK::new(cap.max(100_000)),
            by_field: options.by.iter().map(|path| (path.clone(), TopK::new(cap))).collect(),
            durations: Histogram::default(),
            denied_urls: TopK::new(cap),
            denied_domains: TopK::new(cap),
        }
    }

    /// Counts one event line, already judged to answer the question. `event` is its parse, if
    /// the judge made one. Returns why the line is unreadable, if it is.
    ///
    /// A line in canonical shape is counted from its bytes without checking that the rest of
    /// it is JSON (that check would cost more than the counting); `--strict` asks the judge to
    /// check every line first.
    pub(crate) fn add_line(
        &mut self,
        line: &[u8],
        event: Option<&LenientEvent>,
    ) -> Result<(), String> {
        if event.is_none()
            && let Some(canonical) = Canonical::parse(line)
            && self.add_canonical(line, &canonical)
        {
            return Ok(());
        }
        let parsed;
        let event = match event {
            Some(event) => event,
            None => {
                let text = std::str::from_utf8(line).map_err(|_| "invalid UTF-8".to_owned())?;
                parsed = LenientEvent::parse(text).map_err(|error| error.to_string())?;
                &parsed
            }
        };
        self.add_event(event);
        Ok(())
    }

    /// Counts a canonical line from its bytes; `false` when it needs a parse instead, having
    /// counted nothing.
    fn add_canonical(&mut self, line: &[u8], canonical: &Canonical<'_>) -> bool {
        let (Some(head), Some(outcome)) = (canonical.head(), canonical.outcome()) else {
            return false;
        };
        let event_type = canonical.event_type;
        if !self.by_field.is_empty() {
            return false;
        }
        let denied_url = if DENIED_TYPES.contains(&event_type) {
            match single_url(line) {
                Some(url) => url,
                None => return false,
            }
        } else {
            None
        };
        let duration = if TIMED_TYPES.contains(&event_type) {
            match single_duration(line) {
                Some(duration) => duration,
                None => return false,
            }
        } else {
            None
        };
        self.see_timestamp(canonical.timestamp);
        self.n_events += 1;
        self.tally.add(&head, outcome);
        self.tally.add_day(canonical.timestamp.get(..10).unwrap_or(b"(none)"), &mut self.by_day);
        if self.tally.map.len() > TALLY_SPILL {
            self.spill_tally();
        }
        if let Some(duration) = duration {
            self.durations.record(duration);
        }
        if let Some(url) = denied_url {
            self.denied_urls.add(url, 1);
            let domain = std::str::from_utf8(url)
                .map_or(&b"(not UTF-8)"[..], |url| domain_of(url).as_bytes());
            self.denied_domains.add(domain, 1);
        }
        true
    }

    fn count_common(
        &mut self,
        timestamp: &[u8],
        event_type: &[u8],
        severity: &[u8],
        outcome: &[u8],
    ) {
        self.n_events += 1;
        self.see_timestamp(timestamp);
        self.count_fields(event_type, severity, outcome, timestamp.get(..10).unwrap_or(b"(none)"));
    }

    fn count_fields(&mut self, event_type: &[u8], severity: &[u8], outcome: &[u8], day: &[u8]) {
        self.by_type.add(event_type, 1);
        self.by_severity.add(severity, 1);
        self.by_outcome.add(outcome, 1);
        self.by_day.add(day, 1);
    }

    fn see_timestamp(&mut self, timestamp: &[u8]) {
        // Timestamps mostly rise, so `last` changes on most lines: its buffer is reused.
        if self.first_timestamp.is_empty() || timestamp < self.first_timestamp.as_slice() {
            self.first_timestamp.clear();
            self.first_timestamp.extend_from_slice(timestamp);
        }
        if timestamp > self.last_timestamp.as_slice() {
            self.last_timestamp.clear();
            self.last_timestamp.extend_from_slice(timestamp);
        }
    }

    /// Moves the tallied tuples into the separate counters.
    fn spill_tally(&mut self) {
        for (_, entry) in std::mem::take(&mut self.tally.map) {
            let mcp_name = entry.mcp_name.as_deref().unwrap_or(b"(none)");
            for (outcome, count) in entry.outcomes {
                self.by_type.add(&entry.event_type, count);
                self.by_severity.add(&entry.severity, count);
                self.by_outcome.add(&outcome, count);
                self.by_mcp.add(mcp_name, count);
            }
        }
        self.tally.flush_day(&mut self.by_day);
    }

    /// Finishes counting: call before reading the counters.
    pub(crate) fn finish(&mut self) {
        self.spill_tally();
    }

    /// The earliest timestamp seen.
    pub(crate) fn first_timestamp(&self) -> Option<String> {
        (!self.first_timestamp.is_empty())
            .then(|| String::from_utf8_lossy(&self.first_timestamp).into_owned())
    }

    /// The latest timestamp seen.
    pub(crate) fn last_timestamp(&self) -> Option<String> {
        (!self.last_timestamp.is_empty())
            .then(|| String::from_utf8_lossy(&self.last_timestamp).into_owned())
    }

    fn add_event(&mut self, event: &LenientEvent) {
        let str_field = |key: &str| event.fields().get(key).and_then(Value::as_str);
        let timestamp = event.timestamp().map(|timestamp| timestamp.to_string());
        let event_type = str_field("type").unwrap_or("(none)");
        self.count_common(
            timestamp.as_deref().unwrap_or("(none)").as_bytes(),
            event_type.as_bytes(),
            str_field("severity").unwrap_or("(none)").as_bytes(),
            str_field("outcome").unwrap_or("(none)").as_bytes(),
        );
        self.by_mcp.add(event.context_str("mcpName").unwrap_or("(none)").as_bytes(), 1);
        for (path, counter) in &mut self.by_field {
            let key = match event.get_path(path) {
                None | Some(Value::Null) => "(none)".to_owned(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            };
            counter.add(key.as_bytes(), 1);
        }
        if TIMED_TYPES.contains(&event_type.as_bytes())
            && let Some(duration) = event.get_path("details.durationMs").and_then(Value::as_f64)
        {
            self.durations.record(duration);
        }
        if DENIED_TYPES.contains(&event_type.as_bytes())
            && let Some(url) = event.get_path("details.url").and_then(Value::as_str)
        {
            self.denied_urls.add(url.as_bytes(), 1);
            self.denied_domains.add(domain_of(url).as_bytes(), 1);
        }
    }

    /// Adds another thread's counts.
    pub(crate) fn merge(&mut self, mut other: Stats) {
        other.spill_tally();
        self.n_events += other.n_events;
        for timestamp in [&other.first_timestamp, &other.last_timestamp] {
            if !timestamp.is_empty() {
                self.see_timestamp(timestamp);
            }
        }
        self.by_type.merge(other.by_type);
        self.by_severity.merge(other.by_severity);
        self.by_outcome.merge(other.by_outcome);
        self.by_mcp.merge(other.by_mcp);
        self.by_day.merge(other.by_day);
        for ((_, mine), (_, theirs)) in self.by_field.iter_mut().zip(other.by_field) {
            mine.merge(theirs);
        }
        self.durations.merge(&other.durations);
        self.denied_urls.merge(other.denied_urls);
        self.denied_domains.merge(other.denied_domains);
    }
}

/// How many distinct tuples the tally holds before it is spilled into the counters.
const TALLY_SPILL: usize = 4096;

/// Counts of (type, severity, MCP, outcome) tuples of canonical lines: one map lookup per
/// line, keyed by the bytes of the line that hold the first three (no key is built), instead
/// of four. Days come in runs (files are in time order), so they are counted by run. Few
/// distinct tuples occur, so the map stays small; it is spilled into the separate counters at
/// the end, or whenever it grows past [`TALLY_SPILL`].
#[derive(Debug, Clone, Default)]
struct Tally {
    map: HashMap<Box<[u8]>, TallyEntry, BuildHasherDefault<KeyHasher>>,
    /// The day of the current run and its length.
    day: Vec<u8>,
    n_day: u64,
}

#[derive(Debug, Clone)]
struct TallyEntry {
    event_type: Box<[u8]>,
    severity: Box<[u8]>,
    mcp_name: Option<Box<[u8]>>,
    /// Each outcome seen with these fields: a short list.
    outcomes: Vec<(Box<[u8]>, u64)>,
}

impl TallyEntry {
    fn add(&mut self, outcome: &[u8]) {
        match self.outcomes.iter_mut().find(|(known, _)| **known == *outcome) {
            Some((_, count)) => *count += 1,
            None => self.outcomes.push((outcome.into(), 1)),
        }
    }
}

impl Tally {
    fn add(&mut self, head: &Head<'_>, outcome: &[u8]) {
        if let Some(entry) = self.map.get_mut(head.span) {
            entry.add(outcome);
            return;
        }
        let mut entry = TallyEntry {
            event_type: head.event_type.into(),
            severity: head.severity.into(),
            mcp_name: head.mcp_name.map(Into::into),
            outcomes: Vec::new(),
        };
        entry.add(outcome);
        self.map.insert(head.span.into(), entry);
    }

    fn add_day(&mut self, day: &[u8], by_day: &mut TopK) {
        if self.day != day {
            self.flush_day(by_day);
            self.day.extend_from_slice(day);
        }
        self.n_day += 1;
    }

    fn flush_day(&mut self, by_day: &mut TopK) {
        if self.n_day > 0 {
            by_day.add(&self.day, self.n_day);
        }
        self.day.clear();
        self.n_day = 0;
    }
}

/// The one `durationMs` of a line, read from its bytes: `Some(None)` when the line has none,
/// `None` when the bytes cannot say (two of them, or an odd number).
///
/// The key's quotes are bare, so this is a key and not text inside a string (where quotes are
/// escaped); with exactly one such key in the line it is the one in `details` or nowhere
/// else... unless it sits in `context`, which our writer never does.
fn single_duration(line: &[u8]) -> Option<Option<f64>> {
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(DURATION_KEY));
    let mut found = FINDER.find_iter(line);
    let Some(at) = found.next() else { return Some(None) };
    if found.next().is_some() {
        return None;
    }
    let rest = &line[at + DURATION_KEY.len()..];
    let end = rest.iter().position(|byte| !b"0123456789.eE+-".contains(byte)).unwrap_or(rest.len());
    if end == 0 || !matches!(rest.get(end), Some(b',' | b'}')) {
        return None;
    }
    let number = std::str::from_utf8(&rest[..end]).ok()?.parse::<f64>().ok()?;
    Some(Some(number))
}

/// The one `"url":"…"` of a line, read from its bytes like [`single_duration`]: `Some(None)`
/// without one, `None` when the bytes cannot say (two of them, escapes in the value).
fn single_url(line: &[u8]) -> Option<Option<&[u8]>> {
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(URL_KEY));
    let mut found = FINDER.find_iter(line);
    let Some(at) = found.next() else { return Some(None) };
    if found.next().is_some() {
        return None;
    }
    let rest = &line[at + URL_KEY.len()..];
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    (rest[end] == b'"').then_some(Some(&rest[..end]))
}

/// The host of a URL, without user, port, path or query.
fn domain_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(inside, _)| &host[..inside.len() + 1]);
    }
    host.split(':').next().unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_within_one_percent() {
        let mut histogram = Histogram::default();
        for millis in 1..=10_000 {
            histogram.record(f64::from(millis));
        }
        for (p, expected) in [(50.0, 5000.0), (90.0, 9000.0), (99.0, 9900.0), (100.0, 10_000.0)] {
            let got = histogram.percentile(p).unwrap();
            assert!((got - expected).abs() / expected < 0.01, "p{p}: {got} vs {expected}");
        }
        let lowest = histogram.percentile(0.0).unwrap();
        assert!((lowest - 1.0).abs() < 0.01, "{lowest}");
        assert_eq!(histogram.count(), 10_000);
        let mut small = Histogram::default();
        small.record(0.05);
        small.record(-1.0);
        small.record(f64::NAN);
        assert_eq!(small.count(), 1);
        assert_eq!(small.percentile(50.0), Some(0.05));
        small.record(1e300);
        assert_eq!(small.count(), 2);
        assert_eq!(small.max(), Some(1e300), "the maximum is exact, past the buckets' range");
        for bucket in [0, 127, 128, 500, N_BUCKETS - 1] {
            let (low, _) = bucket_bounds(bucket);
            assert_eq!(bucket_of(low), bucket);
        }
    }

    #[test]
    fn topk_is_exact_under_its_cap_and_bounded_over_it() {
        let mut counts = TopK::new(3);
        for (key, n) in [("a", 5), ("b", 3), ("c", 1), ("a", 2)] {
            counts.add(key.as_bytes(), n);
        }
        assert_eq!(counts.top(2), [("a".to_owned(), 7), ("b".to_owned(), 3)]);
        assert!(!counts.is_approximate());
        for idx in 0..10_000 {
            counts.add(format!("noise-{idx}").as_bytes(), 1);
        }
        assert!(counts.counts.len() <= 6);
        assert!(counts.is_approximate());
        assert_eq!(counts.top(2), [("a".to_owned(), 7), ("b".to_owned(), 3)]);
    }

    #[test]
    fn durations_and_domains_from_bytes_and_parses() {
        assert_eq!(single_duration(br#"{"details":{"durationMs":12.5},"x":1}"#), Some(Some(12.5)));
        assert_eq!(single_duration(br#"{"details":{"a":1}}"#), Some(None));
        assert_eq!(single_duration(br#"{"durationMs":1,"d":{"durationMs":2}}"#), None);
        assert_eq!(single_duration(br#"{"details":{"durationMs":"12"}}"#), None);
        assert_eq!(
            single_url(br#"{"details":{"url":"http://a/b"}}"#),
            Some(Some(&b"http://a/b"[..]))
        );
        assert_eq!(single_url(br#"{"details":{"url":"http://a/\"b"}}"#), None);
        assert_eq!(single_url(br#"{"details":{"u":1}}"#), Some(None));
        assert_eq!(domain_of("https://user:pw@evil.com:8443/x?y"), "evil.com");
        assert_eq!(domain_of("http://[::1]:80/"), "[::1]");
        assert_eq!(domain_of("evil.com/path"), "evil.com");
    }
}
