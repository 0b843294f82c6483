//! Finding secrets in free text by their shape.
//!
//! One Aho-Corasick automaton holds every literal that can start or name a secret: provider
//! token prefixes (`ghp_`, `AKIA`, `xoxb-`), the words of sensitive names (`pass`, `token`,
//! `key`), auth schemes (`Bearer `), `-----BEGIN `, `://` and a few command-line flags. Text
//! in which none occurs is scanned once and handed back borrowed. Each hit runs only the rule
//! it belongs to, on the text around it: an anchored regex for a provider token, a small
//! hand-written parser for `name = value` assignments and URLs. The rules collect byte spans;
//! overlapping spans are merged and each is replaced by [`MARKER`].

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::words::{NameSite, ValueShape, is_sensitive_name, looks_secret};

/// What replaces a secret: fixed, so that nothing of the secret (not even its length) shows.
pub const MARKER: &str = "<redacted>";

/// What a trigger literal starts.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// A word that may be part of a sensitive name in `name = value`.
    Name,
    /// The prefix of a provider token; the index of its rule.
    Provider(usize),
    /// An HTTP auth scheme followed by a space: `Bearer `, `Basic `, `Token `.
    Scheme,
    /// `-----BEGIN `: maybe a private key block.
    Pem,
    /// `://`: maybe a URL with a password in its userinfo.
    Url,
    /// `:AA` after a bot id: a Telegram bot token.
    Telegram,
    /// A word naming a service whose tokens have no prefix of their own (Discord, Telegram):
    /// the index of its rule in [`CONTEXT_RULES`], run over the whole text.
    Context(usize),
    /// ` -p`: a password flag of mysql or of a registry login.
    PasswordFlag,
    /// ` -u ` or ` --user `: curl's `user:password`.
    UserFlag,
    /// `IDENTIFIED BY`: SQL's password clause.
    IdentifiedBy,
    /// `.equals(`: a comparison that reveals the literal compared with a secret name.
    Equals,
}

/// A provider token: matched by an anchored regex where its prefix was seen.
struct ProviderRule {
    /// The regex, anchored with `\A`, run from the prefix (minus `lookbehind`).
    regex: Regex,
    /// Bytes before the prefix where the token starts (for tokens whose marker is inside).
    lookbehind: usize,
    /// Bytes at the start of the match that are kept (a webhook URL's public host and path).
    keep: usize,
    /// Whether the byte before the token must not be a letter or digit.
    needs_boundary: bool,
}

/// Provider token formats, from each provider's documentation: (prefixes, regex, lookbehind,
/// kept bytes, boundary).
const PROVIDERS: &[(&[&str], &str, usize, usize, bool)] = &[
    (&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], r"\Agh[pousr]_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["github_pat_"], r"\Agithub_pat_[A-Za-z0-9_]{30,}", 0, 0, true),
    (
        &["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glimt-", "glft-", "glsoat-", "gloas-"],
        r"\Agl[a-z]{2,5}-[A-Za-z0-9_-]{20,}",
        0,
        0,
        true,
    ),
    (
        &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe"],
        r"\Axox[abeprs][.-][A-Za-z0-9.-]{10,}",
        0,
        0,
        true,
    ),
    (&["xapp-"], r"\Axapp-\d-[A-Za-z0-9-]{10,}", 0, 0, true),
    (
        &["hooks.slack.com/"],
        r"\Ahooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{10,}",
        0,
        25,
        false,
    ),
    (
        &["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
        r"\Adiscord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]+",
        0,
        25,
        false,
    ),
    (
        &["webhook.office.com/"],
        r"\Awebhook\.office\.com/webhookb2/[A-Za-z0-9@/_-]{20,}",
        0,
        29,
        false,
    ),
    (
        &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        r"\A[sr]k_(?:live|test)_[A-Za-z0-9]{10,}",
        0,
        0,
        true,
    ),
    (&["whsec_"], r"\Awhsec_[A-Za-z0-9+/=]{20,}", 0, 0, true),
    (&["sk-"], r"\Ask-[A-Za-z0-9_-]{20,}", 0, 0, true),
    (
        &["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"],
        r"\A[A-Z]{4}[A-Z0-9]{16}\b",
        0,
        0,
        true,
    ),
    (&["AIza"], r"\AAIza[0-9A-Za-z_-]{30,}", 0, 0, true),
    (&["ya29."], r"\Aya29\.[0-9A-Za-z_-]{20,}", 0, 0, true),
    (&["GOCSPX-"], r"\AGOCSPX-[A-Za-z0-9_-]{20,}", 0, 0, true),
    (&["npm_"], r"\Anpm_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["pypi-"], r"\Apypi-[A-Za-z0-9_-]{40,}", 0, 0, true),
    (&["SK"], r"\ASK[0-9a-fA-F]{32}\b", 0, 0, true),
    (&["SG."], r"\ASG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", 0, 0, true),
    (&["key-"], r"\Akey-[0-9a-zA-Z]{32}\b", 0, 0, true),
    (&["EAAA"], r"\AEAAA[A-Za-z0-9_-]{40,}", 0, 0, true),
    (&["sq0atp-", "sq0csp-"], r"\Asq0(?:atp|csp)-[A-Za-z0-9_-]{20,}", 0, 0, true),
    (&["dop_v1_", "doo_v1_", "dor_v1_"], r"\Ado[opr]_v1_[a-z0-9]{40,}", 0, 0, true),
    (&["dapi"], r"\Adapi[a-f0-9]{32}(?:-\d+)?\b", 0, 0, true),
    (&["hvs.", "hvb.", "hvr."], r"\Ahv[sbr]\.[A-Za-z0-9_-]{24,}", 0, 0, true),
    (&["ntn_"], r"\Antn_[A-Za-z0-9]{40,}", 0, 0, true),
    (&["secret_"], r"\Asecret_[A-Za-z0-9]{43}\b", 0, 0, true),
    (&["glsa_"], r"\Aglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", 0, 0, true),
    (&["glc_"], r"\Aglc_[A-Za-z0-9+/=]{32,}", 0, 0, true),
    (&["sntrys_", "sntryu_"], r"\Asntry[su]_[A-Za-z0-9+/=_]{40,}", 0, 0, true),
    (&["PMAK-"], r"\APMAK-[A-Za-z0-9-]{40,}", 0, 0, true),
    (&["HRKU-"], r"\AHRKU-[A-Za-z0-9_-]{40,}", 0, 0, true),
    (&["ATATT"], r"\AATATT[A-Za-z0-9_=-]{40,}", 0, 0, true),
    (&["eyJ"], r"\AeyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?[A-Za-z0-9_.-]*", 0, 0, true),
    // A JWT encoded once more in base64: `eyJ` becomes `ZXlK`.
    (&["ZXlK"], r"\AZXlK[A-Za-z0-9+/=]{40,}", 0, 0, true),
    (
        &["shpat_", "shpss_", "shpca_", "shppa_"],
        r"\Ashp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        0,
        0,
        true,
    ),
    (&["lin_api_"], r"\Alin_api_[A-Za-z0-9]{40}", 0, 0, true),
    (&["xkeysib-"], r"\Axkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", 0, 0, true),
    (&["AGE-SECRET-KEY-1"], r"\AAGE-SECRET-KEY-1[0-9A-Z]{58}", 0, 0, true),
    (&["dckr_pat_"], r"\Adckr_pat_[A-Za-z0-9_-]{20,}", 0, 0, true),
    (&["hf_"], r"\Ahf_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["gsk_"], r"\Agsk_[A-Za-z0-9]{40,}", 0, 0, true),
    (&["r8_"], r"\Ar8_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["xai-"], r"\Axai-[A-Za-z0-9]{40,}", 0, 0, true),
    (&["pplx-"], r"\Applx-[A-Za-z0-9]{40,}", 0, 0, true),
    (&["nfp_"], r"\Anfp_[A-Za-z0-9]{36,}", 0, 0, true),
    (&["rubygems_"], r"\Arubygems_[a-f0-9]{48}", 0, 0, true),
    (&["pul-"], r"\Apul-[a-f0-9]{40}", 0, 0, true),
    (&["LTAI"], r"\ALTAI[A-Za-z0-9]{12,24}\b", 0, 0, true),
    (&["sbp_"], r"\Asbp_[a-f0-9]{40}", 0, 0, true),
    (&["NRAK-"], r"\ANRAK-[A-Z0-9]{27}", 0, 0, true),
    (&["figd_"], r"\Afigd_[A-Za-z0-9_-]{40,}", 0, 0, true),
    (&["GR1348941"], r"\AGR1348941[A-Za-z0-9_-]{20,}", 0, 0, true),
    (
        &["dp.st.", "dp.pt.", "dp.ct.", "dp.sa."],
        r"\Adp\.(?:st|pt|ct|sa)\.[A-Za-z0-9_.-]{20,}",
        0,
        0,
        true,
    ),
    (&["eyJrIjoi"], r"\AeyJrIjoi[A-Za-z0-9+/=]{30,}", 0, 0, true),
    (&["oy2"], r"\Aoy2[a-z0-9]{43}\b", 0, 0, true),
    (&["pat"], r"\Apat[A-Za-z0-9]{14}\.[a-f0-9]{64}", 0, 0, true),
    (
        &["access_token$"],
        r"\Aaccess_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
        0,
        0,
        true,
    ),
    // Mailchimp: 32 hex digits, then the data center, `-us14`.
    (&["-us"], r"\A[0-9a-f]{32}-us[0-9]{1,2}\b", 32, 0, true),
    // Azure AD client secrets: three characters, a digit, then `Q~`.
    (&["Q~"], r"\A[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}", 4, 0, false),
];

/// Services whose tokens have no literal prefix, found only where the service is named:
/// (the word, the token's regex run over the whole text).
const CONTEXT_RULES: &[(&str, &str)] = &[
    ("discord", r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}\b"),
    ("telegram", r"\b[0-9]{8,10}:[A-Za-z0-9_-]{35}\b"),
];

/// Words of sensitive names, each searched in lower, capitalized and upper case (camelCase
/// names such as `dbPassword` meet the capitalized form).
const NAME_WORDS: &[&str] = &[
    "pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie", "session", "sid", "sig",
    "jwt", "code", "pin", "otp", "bearer", "cvv", "cvc",
];

/// The longest stretch of text one rule reads from its trigger (a value, a token, an
/// authority, the command before a flag). Bounding each read keeps a line crafted with many
/// triggers linear to scan. A secret longer than this loses only what lies past the bound.
const MAX_READ: usize = 4096;

/// The longest private key body read: an RSA-4096 key in PEM is about 3,300 bytes.
const MAX_PEM_BODY: usize = 16 * 1024;

/// `text[start..]`, at most `max` bytes of it, ending on a character boundary.
fn window(text: &str, start: usize, max: usize) -> &str {
    let mut end = start.saturating_add(max).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[start..end]
}

/// The last `max` bytes (at most) of `text[..end]`, starting on a character boundary, and
/// where they start.
fn window_before(text: &str, end: usize, max: usize) -> (usize, &str) {
    let mut start = end.saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (start, &text[start..end])
}

/// Whether a byte can be part of a name in `name = value`: `x-api-key`, `db.password`,
/// `api%5Fkey`.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'%')
}

/// The compiled rules. Built once per [`Redactor`](crate::Redactor) and shared.
pub(crate) struct Scanner {
    triggers: AhoCorasick,
    trigger_kinds: Vec<Trigger>,
    providers: Vec<ProviderRule>,
    context_rules: Vec<Regex>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Scanner")
            .field("triggers", &self.trigger_kinds.len())
            .field("providers", &self.providers.len())
            .finish()
    }
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        let mut patterns: Vec<String> = Vec::new();
        let mut trigger_kinds = Vec::new();
        let mut add = |pattern: String, trigger: Trigger| {
            patterns.push(pattern);
            trigger_kinds.push(trigger);
        };

        let mut providers = Vec::new();
        for (rule_idx, (prefixes, regex, lookbehind, keep, needs_boundary)) in
            PROVIDERS.iter().enumerate()
        {
            for prefix in *prefixes {
                add((*prefix).to_owned(), Trigger::Provider(rule_idx));
            }
            // OK because the regexes are constants of this file, compiled by the tests.
            let regex = Regex::new(regex).expect("provider regexes are valid");
            providers.push(ProviderRule {
                regex,
                lookbehind: *lookbehind,
                keep: *keep,
                needs_boundary: *needs_boundary,
            });
        }
        for word in NAME_WORDS {
            add(word.to_string(), Trigger::Name);
        }
        for scheme in ["Bearer ", "Basic ", "Token "] {
            add(scheme.into(), Trigger::Scheme);
        }
        add("-----BEGIN ".into(), Trigger::Pem);
        add("://".into(), Trigger::Url);
        add(":AA".into(), Trigger::Telegram);
        for (rule_idx, (word, _)) in CONTEXT_RULES.iter().enumerate() {
            add((*word).into(), Trigger::Context(rule_idx));
        }
        add(" -p".into(), Trigger::PasswordFlag);
        add(" -a ".into(), Trigger::PasswordFlag);
        for flag in [" -u ", " --user "] {
            add(flag.into(), Trigger::UserFlag);
        }
        add("IDENTIFIED BY ".into(), Trigger::IdentifiedBy);
        add(".equals(".into(), Trigger::Equals);

        // One case-insensitive automaton: names come in every case (`dbPassword`, `API_KEY`),
        // and a provider prefix met in the wrong case is rejected by its case-sensitive regex.
        // OK because the patterns are about two hundred short literals, far below any limit.
        let triggers = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("trigger literals build an automaton");
        let context_rules = CONTEXT_RULES
            .iter()
            // OK because the regexes are constants of this file, compiled by the tests.
            .map(|(_, regex)| Regex::new(regex).expect("context regexes are valid"))
            .collect();
        Scanner { triggers, trigger_kinds, providers, context_rules }
    }

    /// `text` with every secret found replaced by [`MARKER`]; borrowed when nothing is found.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut spans = Spans::default();
        self.find_spans(text, &mut spans);
        if spans.is_empty() { Cow::Borrowed(text) } else { Cow::Owned(spans.apply(text)) }
    }

    /// Whether `text` holds no trigger at all, the common case, decided in one pass.
    pub(crate) fn is_quiet(&self, text: &str) -> bool {
        !self.triggers.is_match(text) && memchr::memchr(b'%', text.as_bytes()).is_none()
    }

    fn find_spans(&self, text: &str, spans: &mut Spans) {
        let mut names_done_until = 0;
        let mut contexts_done = 0_u32;
        let mut token_until = 0;
        // A name can be spelled wholly in percent-escapes (`%61%70%69%5F%6B%65%79=`), which no
        // literal matches; `%` is too common a byte for the automaton, memchr finds it faster.
        for percent in memchr::memchr_iter(b'%', text.as_bytes()) {
            if percent >= names_done_until {
                names_done_until = name_assignment(text, percent, spans);
            }
        }
        names_done_until = 0;
        for hit in self.triggers.find_overlapping_iter(text) {
            let (start, end) = (hit.start(), hit.end());
            match self.trigger_kinds[hit.pattern().as_usize()] {
                Trigger::Name => {
                    if start >= names_done_until {
                        names_done_until = name_assignment(text, start, spans);
                    }
                }
                // A prefix inside a token just found (`sk-...sk-...`) starts nothing new.
                Trigger::Provider(_) if start < token_until => {}
                Trigger::Provider(rule_idx) => {
                    token_until = self.provider(text, start, rule_idx, spans).unwrap_or(0);
                }
                Trigger::Scheme => scheme_credential(text, start, end, spans),
                Trigger::Pem if start < token_until => {}
                Trigger::Pem => token_until = pem_block(text, end, spans).unwrap_or(0),
                Trigger::Url => url_userinfo(text, end, spans),
                Trigger::Telegram => telegram(text, start, spans),
                Trigger::Context(rule_idx) if contexts_done & (1 << rule_idx) == 0 => {
                    contexts_done |= 1 << rule_idx;
                    for found in self.context_rules[rule_idx].find_iter(text) {
                        spans.push(found.start(), found.end());
                    }
                }
                Trigger::Context(_) => {}
                Trigger::PasswordFlag => password_flag(text, start, end, spans),
                Trigger::UserFlag => user_flag(text, end, spans),
                Trigger::IdentifiedBy => {
                    if let Some((value_start, value_end)) = quoted_at(text, end) {
                        spans.push_value(text, value_start, value_end);
                    }
                }
                Trigger::Equals => equals_literal(text, start, end, spans),
            }
        }
    }

    /// Runs a provider rule where its prefix was seen; returns where the token found ends.
    fn provider(
        &self,
        text: &str,
        start: usize,
        rule_idx: usize,
        spans: &mut Spans,
    ) -> Option<usize> {
        let rule = &self.providers[rule_idx];
        let from = start.checked_sub(rule.lookbehind)?;
        if !text.is_char_boundary(from) || (rule.needs_boundary && !at_boundary(text, from)) {
            return None;
        }
        let found = rule.regex.find(window(text, from, MAX_READ))?;
        spans.push(from + rule.keep.min(found.end()), from + found.end());
        Some(from + found.end())
    }
}

/// Whether a token starting at `pos` is not glued to a preceding letter or digit. A
/// percent-escape (`Bearer%20eyJ...`) counts as a boundary.
fn at_boundary(text: &str, pos: usize) -> bool {
    let bytes = text.as_bytes();
    if pos == 0 || !bytes[pos - 1].is_ascii_alphanumeric() {
        return true;
    }
    pos >= 3 && bytes[pos - 3] == b'%' && bytes[pos - 2].is_ascii_hexdigit()
}

/// Byte spans to replace, kept sorted and merged when they overlap.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    spans: Vec<(usize, usize)>,
}

impl Spans {
    fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn push(&mut self, start: usize, end: usize) {
        if start < end {
            self.spans.push((start, end));
        }
    }

    /// Pushes a value span unless the value is a placeholder such as `<redacted>`.
    fn push_value(&mut self, text: &str, start: usize, end: usize) {
        if !is_placeholder(&text[start..end]) {
            self.push(start, end);
        }
    }

    fn apply(mut self, text: &str) -> String {
        self.spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied_until = 0;
        let mut open: Option<(usize, usize)> = None;
        for (start, end) in self.spans {
            match open {
                Some((_, open_end)) if start <= open_end => {
                    open = open.map(|(open_start, open_end)| (open_start, open_end.max(end)));
                }
                _ => {
                    if let Some((open_start, open_end)) = open {
                        out.push_str(&text[copied_until..open_start]);
                        out.push_str(MARKER);
                        copied_until = open_end;
                    }
                    open = Some((start, end));
                }
            }
        }
        if let Some((open_start, open_end)) = open {
            out.push_str(&text[copied_until..open_start]);
            out.push_str(MARKER);
            copied_until = open_end;
        }
        out.push_str(&text[copied_until..]);
        out
    }
}

/// Values that stand for a secret without being one: markers, templates, variables, masks.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower_words = [
        "yes",
        "no",
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "redacted",
        "hidden",
        "masked",
        "required",
        "optional",
        "empty",
        "missing",
        "unset",
        // The modes of `fetch(url, { credentials: ... })`.
        "include",
        "omit",
        "same-origin",
    ];
    // `{token}` in an f-string or a format string is a variable.
    let is_format_field =
        value.strip_prefix('{').and_then(|v| v.strip_suffix('}')).is_some_and(|inner| {
            !inner.is_empty()
                && inner.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.".contains(&b))
        });
    value.is_empty()
        || is_format_field
        || value.contains(MARKER)
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with('[')
            && value.ends_with(']')
            && !value.bytes().any(|b| b.is_ascii_digit()))
        || ["{{", "${", "%(", "#{", "%s"].iter().any(|open| value.starts_with(open))
        || (value.starts_with('$')
            && value[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'))
        || value.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '•' | '#'))
        || lower_words.iter().any(|word| value.eq_ignore_ascii_case(word))
}

/// Whether an unquoted value is code rather than a literal: `process.env.API_KEY`,
/// `getenv(`, `os.environ[`, `config.password`.
fn is_expression(value: &str) -> bool {
    let is_ident_start = |byte: u8| byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$';
    let is_ident = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$';
    let bytes = value.as_bytes();
    let mut idx = 0;
    let mut n_segments = 0;
    loop {
        if idx >= bytes.len() || !is_ident_start(bytes[idx]) {
            return false;
        }
        let segment_start = idx;
        while idx < bytes.len() && is_ident(bytes[idx]) {
            idx += 1;
        }
        if idx - segment_start > 24 {
            return false;
        }
        n_segments += 1;
        match bytes.get(idx) {
            None => return n_segments >= 2,
            Some(b'.') => idx += 1,
            Some(b'(' | b'[') => return true,
            Some(_) => return false,
        }
    }
}

/// Handles a name word at `hit`: finds the whole name around it, then an assignment after
/// it, and pushes the value's span if the name is sensitive. Returns where the name ends, so
/// that other words of the same name are not judged again.
fn name_assignment(text: &str, hit: usize, spans: &mut Spans) -> usize {
    let bytes = text.as_bytes();
    let mut start = hit;
    while start > 0 && hit - start < MAX_READ && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = hit;
    while end < bytes.len() && end - hit < MAX_READ && is_name_byte(bytes[end]) {
        end += 1;
    }
    let is_flag = bytes[start..end].starts_with(b"-");
    let name_start =
        start + bytes[start..end].iter().take_while(|b| matches!(b, b'-' | b'.')).count();
    let name_end =
        end - bytes[name_start..end].iter().rev().take_while(|b| matches!(b, b'-' | b'.')).count();
    if name_start >= name_end {
        return end;
    }
    let site = match name_start.checked_sub(1).map(|idx| bytes[idx]) {
        Some(b'?' | b'&' | b'#' | b';') => NameSite::Query,
        _ => NameSite::Key,
    };
    let starts_word = start == 0 || b" \t\r\n\"'`{(,".contains(&bytes[start - 1]);
    let in_tag =
        name_start > 0 && bytes[name_start - 1] == b'<' && bytes.get(name_end) == Some(&b'>');
    let value = if in_tag {
        element_text(text, name_end + 1)
    } else {
        assignment_value(text, name_end, starts_word, is_flag, site)
    };
    let Some(mut value) = value else { return end };
    if let Some(scheme_len) = scheme_prefix_len(&text[value.start..value.end]) {
        value.start = skip_blanks(bytes, value.start + scheme_len, false).min(value.end);
    }
    let value_text = &text[value.start..value.end];
    let is_code =
        !value.quoted && (is_expression(value_text) || (value.spaced && is_variable(value_text)));
    if is_placeholder(value_text)
        || is_code
        || !value_text.bytes().any(|b| b.is_ascii_alphanumeric())
    {
        return end;
    }
    let raw_name = &text[name_start..name_end];
    let decoded;
    let name = if raw_name.contains('%') {
        decoded = percent_decode_repeatedly(raw_name);
        decoded.as_str()
    } else {
        raw_name
    };
    let shape = if value.compound { ValueShape::Compound } else { ValueShape::Text(value_text) };
    if is_sensitive_name(name, site, shape) {
        spans.push(value.start, value.end);
    }
    end
}

/// Where a value sits, whether it was quoted, and whether blanks surround the operator (as in
/// code, `x = y`, rather than in config and query strings, `x=y`).
struct ValueSpan {
    start: usize,
    end: usize,
    quoted: bool,
    spaced: bool,
    /// A tuple or list of literals rather than one value.
    compound: bool,
}

/// Whether an unquoted value written after a spaced operator is a variable or keyword
/// (`password = await ...`, `if (password === confirmPassword)`) rather than a literal:
/// an identifier without digits.
fn is_variable(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && !bytes[0].is_ascii_digit()
        && bytes.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'$')
}

const QUOTES: &[u8] = b"\"'`";

/// Parses what follows a name: a closing quote, an assignment operator, and the value.
///
/// Accepts `name = v`, `name: v`, `name := v`, `name => v`, `name == v`, `"name": "v"`,
/// `name="v"` (also JSON-escaped as `\"name\":\"v\"`), `--name v`, `name 'v'` (SQL), and the
/// XML pair `key="name" value="v"`.
fn assignment_value(
    text: &str,
    name_end: usize,
    starts_word: bool,
    is_flag: bool,
    site: NameSite,
) -> Option<ValueSpan> {
    let bytes = text.as_bytes();
    let mut idx = name_end;
    let mut name_quoted = false;
    if bytes.get(idx) == Some(&b'\\') && bytes.get(idx + 1).is_some_and(|b| QUOTES.contains(b)) {
        idx += 2;
        name_quoted = true;
    } else if bytes.get(idx).is_some_and(|b| QUOTES.contains(b)) {
        idx += 1;
        name_quoted = true;
    }
    if bytes.get(idx) == Some(&b']') {
        idx += 1;
    }
    let before_blanks = idx;
    idx = skip_blanks(bytes, idx, false);
    if name_quoted && text[idx..].starts_with("value") {
        let after = skip_blanks(bytes, idx + 5, false);
        if bytes.get(after) == Some(&b'=') {
            idx = after;
        }
    }

    let rest = &text[idx..];
    let operator_len = ["===", "!==", ":=", "=>", "==", "!=", "=", ":"]
        .iter()
        .find(|operator| rest.starts_with(*operator))
        .map(|operator| operator.len());
    let after_operator = idx + operator_len.unwrap_or(0);
    let is_colon = operator_len == Some(1) && bytes[idx] == b':';
    let value_idx = skip_blanks(bytes, after_operator, true);
    let spaced = value_idx > after_operator || (operator_len.is_none() && idx > before_blanks);
    // `a:b` without a space inside a chain (`arn:aws:secretsmanager:...:secret:prod`) or a URL
    // is not `name: value`; a name that starts a word (`"X-API-Key:abc"`) still is.
    if is_colon
        && !name_quoted
        && !spaced
        && !starts_word
        && !bytes.get(value_idx).is_some_and(|b| QUOTES.contains(b))
    {
        return None;
    }
    // Newlines may separate `"password":` from its value in pretty JSON, nothing else.
    if !is_colon && text[after_operator..value_idx].contains('\n') {
        return None;
    }
    let mut value_idx = value_idx;
    if text[value_idx..].starts_with("Some(") {
        value_idx += 5;
    }
    let spaced = spaced || idx > before_blanks;
    if starts_quoted(bytes, value_idx) {
        let (start, end) = quoted_at(text, value_idx)?;
        return Some(ValueSpan { start, end, quoted: true, spaced, compound: false });
    }
    if operator_len.is_none() && !(is_flag && spaced) {
        return None;
    }
    match bytes.get(value_idx) {
        // `PWD={secret}` in an ODBC connection string.
        Some(b'{') if operator_len == Some(1) && bytes[idx] == b'=' => {
            let close = window(text, value_idx, MAX_READ).find('}')?;
            Some(ValueSpan {
                start: value_idx + 1,
                end: value_idx + close,
                quoted: true,
                spaced,
                compound: false,
            })
        }
        // An object literal: its own keys are judged one by one.
        Some(b'{') => None,
        // A tuple or list of literals, such as `auth=('user', 'secret')`.
        Some(open @ (b'(' | b'[')) => {
            let close = if *open == b'(' { ')' } else { ']' };
            let inner_len = window(text, value_idx + 1, MAX_READ).find([close, '\n'])?;
            let inner = &text[value_idx + 1..value_idx + 1 + inner_len];
            let has_literal = inner.bytes().any(|b| QUOTES.contains(&b));
            let is_call_free = !inner.contains(['(', '[']);
            (has_literal && is_call_free).then_some(ValueSpan {
                start: value_idx + 1,
                end: value_idx + 1 + inner_len,
                quoted: true,
                spaced,
                compound: true,
            })
        }
        _ => {
            let (start, end) = unquoted_at(text, value_idx, site);
            Some(ValueSpan { start, end, quoted: false, spaced, compound: false })
        }
    }
}

/// The text of an XML element, `<password>value</password>`, from after its opening tag.
fn element_text(text: &str, start: usize) -> Option<ValueSpan> {
    let len = window(text, start, MAX_READ).find(['<', '\n'])?;
    Some(ValueSpan { start, end: start + len, quoted: true, spaced: false, compound: false })
}

fn skip_blanks(bytes: &[u8], mut idx: usize, newlines: bool) -> usize {
    while idx < bytes.len()
        && (bytes[idx] == b' '
            || bytes[idx] == b'\t'
            || (newlines && matches!(bytes[idx], b'\n' | b'\r')))
    {
        idx += 1;
    }
    idx
}

/// Whether a quoted string starts at `idx` (see [`quoted_at`]).
fn starts_quoted(bytes: &[u8], idx: usize) -> bool {
    let mut idx = idx;
    if bytes.get(idx).is_some_and(|b| b"bBrRfFuU".contains(b)) {
        idx += 1;
    }
    if bytes.get(idx) == Some(&b'\\') {
        idx += 1;
    }
    bytes.get(idx).is_some_and(|b| QUOTES.contains(b))
}

/// A quoted string starting at `idx` (optionally after a one-letter prefix such as `b"` or
/// `r'`, or JSON-escaped as `\"`): the span inside the quotes. A string that does not end on
/// its line is not taken: its quote is more likely the end of an enclosing string.
fn quoted_at(text: &str, idx: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut idx = idx;
    if bytes.get(idx).is_some_and(|b| b"bBrRfFuU".contains(b))
        && bytes.get(idx + 1).is_some_and(|b| QUOTES.contains(b))
    {
        idx += 1;
    }
    let escaped = bytes.get(idx) == Some(&b'\\');
    let quote_idx = if escaped { idx + 1 } else { idx };
    let quote = *bytes.get(quote_idx).filter(|b| QUOTES.contains(b))?;
    let start = quote_idx + 1;
    let mut pos = start;
    let limit = start.saturating_add(MAX_READ).min(bytes.len());
    while pos < limit {
        match bytes[pos] {
            b'\\' if escaped && bytes.get(pos + 1) == Some(&quote) => return Some((start, pos)),
            b'\\' => pos += 2,
            byte if byte == quote && !escaped => return Some((start, pos)),
            b'\n' => return None,
            _ => pos += 1,
        }
    }
    None
}

/// An unquoted value starting at `idx`. After an auth scheme (`Bearer x`) the credential is
/// the value; otherwise the value ends at a blank, a quote, `;`, `&`, `<`, `>`, an escaped
/// newline, a `, `, or (in a URL) `#`; closing brackets and periods at its end are dropped.
fn unquoted_at(text: &str, idx: usize, site: NameSite) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut start = idx;
    if let Some(scheme_len) = scheme_prefix_len(&text[idx..]) {
        start = skip_blanks(bytes, idx + scheme_len, false);
    }
    let mut end = start;
    // Unquoted values are shorter than quoted ones; a long token in one (a JWT) is also
    // found by its own rule, which reads further.
    let limit = start.saturating_add(MAX_READ / 4).min(bytes.len());
    while end < limit {
        let byte = bytes[end];
        let stop = byte.is_ascii_whitespace()
            || matches!(byte, b'"' | b'\'' | b'`' | b';' | b'&' | b'<' | b'>')
            || (byte == b'#' && site == NameSite::Query)
            || (byte == b',' && bytes.get(end + 1).is_none_or(|b| b.is_ascii_whitespace()))
            || (byte == b'\\' && bytes.get(end + 1).is_some_and(|b| b"nrt\"'".contains(b)));
        if stop {
            break;
        }
        end += 1;
    }
    // A closing bracket ends the value only if the value did not open it: `f(pw=abc)` but
    // `[REDACTED]`.
    loop {
        let value = &bytes[start..end];
        let unbalanced = |open: u8, close: u8| {
            value.iter().filter(|b| **b == close).count()
                > value.iter().filter(|b| **b == open).count()
        };
        match value.last() {
            Some(b'.' | b',' | b':') => end -= 1,
            Some(b')') if unbalanced(b'(', b')') => end -= 1,
            Some(b']') if unbalanced(b'[', b']') => end -= 1,
            Some(b'}') if unbalanced(b'{', b'}') => end -= 1,
            _ => break,
        }
    }
    (start, end)
}

/// The length of an HTTP auth scheme and its space at the start of `text`, if there is one.
fn scheme_prefix_len(text: &str) -> Option<usize> {
    ["Bearer ", "Basic ", "Token ", "Digest ", "Negotiate ", "NTLM ", "AWS4-HMAC-SHA256 "]
        .iter()
        .find(|scheme| {
            let bytes = text.as_bytes();
            bytes.len() >= scheme.len()
                && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        })
        .map(|scheme| scheme.len())
}

/// `Bearer <credential>` anywhere: the credential must look like one, so that prose such as
/// "Bearer token required" stays.
fn scheme_credential(text: &str, start: usize, end: usize, spans: &mut Spans) {
    if !at_boundary(text, start) {
        return;
    }
    let bytes = text.as_bytes();
    let cred_start = skip_blanks(bytes, end, false);
    let mut cred_end = cred_start;
    let limit = cred_start.saturating_add(MAX_READ).min(bytes.len());
    while cred_end < limit
        && (bytes[cred_end].is_ascii_alphanumeric() || b"._~+/=-".contains(&bytes[cred_end]))
    {
        cred_end += 1;
    }
    let credential = &text[cred_start..cred_end];
    let has_digit = credential.bytes().any(|b| b.is_ascii_digit());
    let has_upper = credential.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = credential.bytes().any(|b| b.is_ascii_lowercase());
    let is_token_scheme = text[start..end].eq_ignore_ascii_case("token ");
    let credential_like = if is_token_scheme {
        looks_secret(ValueShape::Text(credential))
    } else {
        credential.len() >= 8
            && (has_digit || (has_upper && has_lower) || credential.ends_with('='))
    };
    if credential_like {
        spans.push(cred_start, cred_end);
    }
}

/// A private key block: its body goes, up to `-----END` or, if the text was cut, to the end.
/// Returns where the body ends.
fn pem_block(text: &str, end: usize, spans: &mut Spans) -> Option<usize> {
    let label_len = window(text, end, 64).find("-----")?;
    let label = &text[end..end + label_len];
    if !label.contains("PRIVATE KEY") {
        return None;
    }
    let body_start = end + label_len + 5;
    let rest = window(text, body_start, MAX_PEM_BODY);
    let body = rest.find("-----END").map_or(rest, |idx| &rest[..idx]);
    let trimmed_start = body_start + (body.len() - body.trim_start().len());
    let trimmed_end = body_start + body.trim_end().len();
    spans.push(trimmed_start, trimmed_end.max(trimmed_start));
    Some(body_start + body.len())
}

/// `scheme://user:password@host`: the password goes; a lone user that looks like a token
/// (`https://<token>@github.com`) goes too.
fn url_userinfo(text: &str, authority_start: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut authority_end = authority_start;
    let limit = authority_start.saturating_add(MAX_READ).min(bytes.len());
    while authority_end < limit {
        let byte = bytes[authority_end];
        if byte.is_ascii_whitespace() || b"/?#\"'<>`\\".contains(&byte) {
            break;
        }
        authority_end += 1;
    }
    let authority = &text[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else { return };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => {
            let password = &userinfo[colon + 1..];
            if !is_placeholder(password) {
                spans.push(authority_start + colon + 1, authority_start + at);
            }
        }
        None if userinfo.len() >= 20 && looks_secret(ValueShape::Text(userinfo)) => {
            spans.push(authority_start, authority_start + at);
        }
        None => {}
    }
}

/// `123456789:AA...`: a Telegram bot token, from its numeric bot id.
fn telegram(text: &str, colon: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut start = colon;
    while start > 0 && colon - start <= 10 && bytes[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let n_digits = colon - start;
    // `https://api.telegram.org/bot123456789:AA...`: the token follows `bot` in API URLs.
    let after_bot = text[..start].ends_with("bot");
    if !(8..=10).contains(&n_digits) || !(at_boundary(text, start) || after_bot) {
        return;
    }
    let mut end = colon + 3;
    let limit = colon.saturating_add(64).min(bytes.len());
    while end < limit && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'-')) {
        end += 1;
    }
    if end - colon >= 33 {
        spans.push(start, end);
    }
}

/// The command around `pos`: from the start of its line or the last `&&`, `;` or `|`.
fn command_before(text: &str, pos: usize) -> &str {
    let (_, line) = window_before(text, pos, MAX_READ / 8);
    let line_start = line.rfind(['\n', ';', '|', '&']).map_or(0, |idx| idx + 1);
    &line[line_start..]
}

/// `mysql ... -pSECRET` (glued), `docker login ... -p SECRET` and `redis-cli -a SECRET`
/// (spaced).
fn password_flag(text: &str, start: usize, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let command = command_before(text, start);
    let is_redis = text[start..end].ends_with("-a ");
    if is_redis && !command.contains("redis-cli") {
        return;
    }
    let is_mysql = ["mysql", "mariadb"].iter().any(|tool| command.contains(tool));
    let is_login = is_redis
        || command.contains("login")
        || command.contains("sshpass")
        || command.contains(" -u");
    let glued = bytes.get(end).is_some_and(|b| !b.is_ascii_whitespace());
    let value_start = match (glued, is_mysql, is_login) {
        _ if is_redis => end,
        (true, true, _) => end,
        (false, _, true) => skip_blanks(bytes, end, false),
        _ => return,
    };
    let mut value_end = value_start;
    let limit = value_start.saturating_add(MAX_READ).min(bytes.len());
    while value_end < limit && !bytes[value_end].is_ascii_whitespace() {
        value_end += 1;
    }
    let value = &text[value_start..value_end];
    if !value.starts_with('$') {
        spans.push_value(text, value_start, value_end);
    }
}

/// `curl -u user:password`: the part after the first colon, unless it is a `uid:gid` pair.
fn user_flag(text: &str, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut value_end = end;
    let limit = end.saturating_add(MAX_READ).min(bytes.len());
    while value_end < limit && !bytes[value_end].is_ascii_whitespace() {
        value_end += 1;
    }
    let value = text[end..value_end].trim_matches(|c| c == '"' || c == '\'');
    let Some(colon) = value.find(':') else { return };
    let is_uid_gid = value.bytes().all(|b| b.is_ascii_digit() || b == b':');
    if is_uid_gid {
        return;
    }
    let offset = text[end..value_end].find(value).unwrap_or(0);
    let password_start = end + offset + colon + 1;
    spans.push_value(text, password_start, end + offset + value.len());
}

/// `"literal".equals(secretName)` and `secretName.equals("literal")`.
fn equals_literal(text: &str, start: usize, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    // The literal before: `"...".equals(name)`.
    if start > 0 && QUOTES.contains(&bytes[start - 1]) {
        let quote = bytes[start - 1];
        let (window_start, before) = window_before(text, start - 1, MAX_READ);
        if let Some(open) = before.rfind(quote as char).map(|idx| window_start + idx) {
            let name_len =
                bytes[end..].iter().take(MAX_READ).take_while(|b| is_name_byte(**b)).count();
            let name = &text[end..end + name_len];
            if is_sensitive_name(name, NameSite::Key, ValueShape::Text(&text[open + 1..start - 1]))
            {
                spans.push_value(text, open + 1, start - 1);
            }
        }
        return;
    }
    // The name before: `name.equals("...")`.
    let name_len = bytes[..start]
        .iter()
        .rev()
        .take(MAX_READ)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let name = &text[start - name_len..start];
    if let Some((value_start, value_end)) = quoted_at(text, end)
        && is_sensitive_name(name, NameSite::Key, ValueShape::Text(&text[value_start..value_end]))
    {
        spans.push_value(text, value_start, value_end);
    }
}

/// `name` with percent-escapes decoded, up to three times (`api%255Fkey` → `api_key`).
fn percent_decode_repeatedly(name: &str) -> String {
    let mut current = name.to_owned();
    for _ in 0..3 {
        let decoded = percent_decode(&current);
        if decoded == current {
            break;
        }
        current = decoded;
    }
    current
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[idx] == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(idx + 1).and_then(|b| hex(*b)), bytes.get(idx + 2).and_then(|b| hex(*b)))
        {
            out.push((high * 16 + low) as u8);
            idx += 3;
            continue;
        }
        out.push(bytes[idx]);
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let scanner = Scanner::new();
        assert_eq!(scanner.redact(input), expected, "input: {input}");
    }

    #[test]
    fn assignments_in_code_and_config() {
        check(r#"password = "hunter2hunter2""#, r#"password = "<redacted>""#);
        check("API_KEY: abcd1234efgh", "API_KEY: <redacted>");
        check(
            "./server --db-password=i9sX!QzA9ZxW --verbose",
            "./server --db-password=<redacted> --verbose",
        );
        check("login --password s3cr3tvalue now", "login --password <redacted> now");
        check("mysql -h db -uroot -p-yx7Hsxf9Jpo shop", "mysql -h db -uroot -p<redacted> shop");
        check(
            "docker login -u ci -p hsEmm8VqHOV registry",
            "docker login -u ci -p <redacted> registry",
        );
        check("curl -u admin:Xf.d4Y2-HPjOWv https://x", "curl -u admin:<redacted> https://x");
        check("Password=iRUPa2*QeM!A0*g;Encrypt=1", "Password=<redacted>;Encrypt=1");
        check("PWD={5uGx-cEW5xSBlYUw};", "PWD={<redacted>};");
        check(
            "CREATE USER r WITH PASSWORD 'Yox6yxamEGo$Ux';",
            "CREATE USER r WITH PASSWORD '<redacted>';",
        );
        check(
            r#"if ("AlO5TzNCixU7vxw23".equals(apiKey)) {"#,
            r#"if ("<redacted>".equals(apiKey)) {"#,
        );
        check(
            "{\n  \"password\":\n    \"U!ro4u9XIyMJUFSe\"\n}",
            "{\n  \"password\":\n    \"<redacted>\"\n}",
        );
        check(
            r#"<add key="ApiKey" value="BTK7Rd0fDyR82dObk1rJ" />"#,
            r#"<add key="ApiKey" value="<redacted>" />"#,
        );
    }

    #[test]
    fn benign_text_stays_borrowed() {
        for text in [
            "const tokenCount = tokens.length;",
            "fn verify_password(hash: &str, candidate: &str) -> bool {",
            "token: {{ .Values.apiToken }}",
            "password=[REDACTED] user=alice",
            "api_key=<redacted>",
            "java.sql.SQLException: Access denied (using password: YES)",
            "Bearer token required",
            "secretary=Jane Doe; department=HR",
            "tokens_used=1532 max_tokens=4096",
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf",
            "const apiKey = process.env.API_KEY;",
            "docker run -p 8080:80 nginx",
            "mailto:alice@example.com?subject=Password%20reset",
            "auth=ok user=bob",
            "fetch(url, { credentials: 'include' })",
            "Use the --password flag to set it",
            "if (password === confirmPassword) {}",
            "user.password = await bcrypt.hash(password, 10);",
            "password = input(\"Password: \")",
            "def login(username, password=None):",
            "password: string;",
        ] {
            assert!(matches!(Scanner::new().redact(text), Cow::Borrowed(_)), "{text}");
        }
    }

    /// One made-up token per provider rule, in its documented shape; each must go whole.
    #[test]
    fn every_provider_rule_finds_its_token() {
        let samples = [
            "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",
            "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
            "glpat-SuHEm_Pc-vgUDnx6ketK",
            "xoxb-339222007987-2974300572212-DTKT3LPOY3cQtNMhpPmastNx",
            "xapp-1-AGHWV1JBYQJ-5745201012279-019af875f56d337ffbfd",
            "sk_live_sGG2giVSfI8DvGwTYscBfhklwIgRC",
            "whsec_abcdefghijklmnopqrstuvwxyz012345",
            "sk-ant-api03-ENM4Cp-8_648yGPC_y7zHKZd2R0fH9Xtu7x",
            "AKIAOJIWWB7J6YQSTKK2",
            "AIza1w-1pELA6RoojshBLzR1XjiiJHt4tO98G8L",
            "ya29.a0AfH6SMBx1234567890abcdefghij",
            "GOCSPX-abcdefghijklmnopqrstuvwx",
            "npm_H0CcZYTYR3T47gNcAd9k1JpFFdPKQu0W4xFT",
            "pypi-AgEIcHlwaS5vcmcEWmZCIXt0GLNoocR9L6KUHFtrzX180V00C3ILMnFF1jw3T",
            "SKeb55d3ee47611817b7d288bc76434532",
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "key-96145cd2229ee967d0edfbf92348c84a",
            "EAAA0k_CtHLceVWrMcB1iABq95k2Hzk2ZnuUY7CVJJcEAOByzlFv10DlYc",
            "sq0atp-abcdefghijklmnopqrstuv",
            "dop_v1_7903bd3d4a044e11fbf0018cf7e7941ba2279e7faf8e54e713aee39a1764587a",
            "dapi751b1f4997ccbe65c569e71efdbb1581",
            "hvs.Dn1ZjTI0TPXOFd2CPANeYRDs4UrGJ9NeIG12Z",
            "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",
            "secret_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
            "glsa_bnnq5mDcPgk4OfMHmUTUTwbsnZtrTMKZ_1dc94a97",
            "glc_abcdefghijklmnopqrstuvwxyzABCDEF0123",
            "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",
            "PMAK-a08a3ad109fcb09ae21edda7-575e93432f761944574549584845a26b0d",
            "HRKU-AAoH0Nlon3MoFbyyBiyd95jnfUgwapGBTDOtZZ77A4LIvMZD63oQ",
            "ATATT3oH_2qUB=7tGFT9A88mNvr3iUupu2fEE0IH5OBp-TadXuLJXKW0va",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.UK8SbJmM1Vw_23g7C5EBn2",
            "ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SnpkV0lp",
            "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",
            "lin_api_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
            concat!(
                "xkeysib-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "-ABCDEFGHIJKLMNOP",
            ),
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            "dckr_pat_abcdefghijklmnopqrstuvwx",
            "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "gsk_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
            "r8_abcdefghijklmnopqrstuvwxyzABCDEFGHIJK",
            "xai-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
            "pplx-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
            "nfp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "rubygems_0123456789abcdef0123456789abcdef0123456789abcdef",
            "pul-0123456789abcdef0123456789abcdef01234567",
            "LTAI5tAbCdEfGhIjKlMn",
            "sbp_0123456789abcdef0123456789abcdef01234567",
            "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0",
            "figd_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
            "GR1348941abcdefghijklmnopqrst",
            "dp.st.dev.abcdefghijklmnopqrstuvwxyz",
            "eyJrIjoiT0tTcG1pUlY2RnVKZTFVaDFsNFZXdE9ZWmNrMkZYbk4iLCJuIjoiYSJ9",
            "oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg",
            "patAbCdEfGhIjKlMn.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "access_token$production$abcdefgh12345678$0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef-us14",
            "FRB8Q~6H7a5SE_TwxmpAPrAS-AMUhyJ8ZKkv-1WF",
        ];
        let scanner = Scanner::new();
        for token in samples {
            let text = format!("used ({token}) here");
            assert_eq!(scanner.redact(&text), "used (<redacted>) here", "{token}");
        }
    }

    #[test]
    fn provider_tokens_and_urls() {
        check("push 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 now", "push <redacted> now");
        check("key AKIAOJIWWB7J6YQSTKK2.", "key <redacted>.");
        check("https://bob:p%40ss@api.example.com/", "https://bob:<redacted>@api.example.com/");
        check(
            "https://api.example.com/x?page=2&api_key=JR29kjNo4vn&limit=5",
            "https://api.example.com/x?page=2&api_key=<redacted>&limit=5",
        );
        check("?%61%70%69%5F%6B%65%79=vEtlJhDIMhPZu7aT", "?%61%70%69%5F%6B%65%79=<redacted>");
        check(
            "x https://hooks.slack.com/services/T9/BY/CrCZbJyUa y",
            "x https://hooks.slack.com/services/<redacted> y",
        );
        check("token 6201997985:AAvZ2JrNRYyfo_RKe3kwAATUJ-V5AOeDh6E", "token <redacted>");
        check(
            "https://api.telegram.org/bot6201997985:AAvZ2JrNRYyfo_RKe3kwAATUJ-V5AOeDh6E/getMe",
            "https://api.telegram.org/bot<redacted>/getMe",
        );
        check(
            "https://x.example/?session_id=abc123&page=2",
            "https://x.example/?session_id=<redacted>&page=2",
        );
        check("sshpass -p S3cretPa55 ssh user@host", "sshpass -p <redacted> ssh user@host");
        check(r#"curl -H "X-API-Key:abc123def456" x"#, r#"curl -H "X-API-Key:<redacted>" x"#);
        check("<password>hunter2isMyPass</password>", "<password><redacted></password>");
        check(
            "requests.get(url, auth=('user', 'pa55word!'))",
            "requests.get(url, auth=(<redacted>))",
        );
        check(
            "-----BEGIN RSA PRIVATE KEY-----\nabc\ndef\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n<redacted>\n-----END RSA PRIVATE KEY-----",
        );
    }
}
