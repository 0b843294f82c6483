//! Finding secrets in free text by their shape.
//!
//! One Aho-Corasick automaton holds every literal that can start or name a secret: provider
//! token prefixes (`ghp_`, `AKIA`, `xoxb-`), the words of sensitive names (`pass`, `token`,
//! `key`), auth schemes (`Bearer `), `-----BEGIN `, `://` and a few command-line flags. Text
//! in which none occurs is scanned once and handed back borrowed. Each hit runs only the rule
//! it belongs to, on the text around it: an anchored regex for a provider token (the formats
//! are in `providers.rs`), a small hand-written parser for `name = value` assignments
//! (`assignment.rs`), or one of the shape rules for auth schemes, private keys, URL userinfo
//! and command-line flags (`shapes.rs`). The rules collect byte spans; overlapping spans are
//! merged and each is replaced by [`MARKER`]. Every rule reads a bounded stretch of text from
//! its trigger, so a line crafted with many triggers still scans in linear time.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::assignment::{equals_literal, is_placeholder, name_assignment, quoted_at};
use crate::providers::{CONTEXT_RULES, PROVIDERS};
use crate::shapes::{
    oracle_login, password_flag, pem_block, scheme_credential, telegram, url_userinfo, user_flag,
};

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
    /// `sqlplus ` or `oracle:thin:`: an Oracle `user/password@database` login.
    OracleLogin,
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

/// Words of sensitive names, each searched in lower, capitalized and upper case (camelCase
/// names such as `dbPassword` meet the capitalized form).
const NAME_WORDS: &[&str] = &[
    "pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie", "session", "sid", "sig",
    "jwt", "code", "pin", "otp", "bearer", "cvv", "cvc",
];

/// The longest stretch of text one rule reads from its trigger (a value, a token, an
/// authority, the command before a flag). Bounding each read keeps a line crafted with many
/// triggers linear to scan. A secret longer than this loses only what lies past the bound.
pub(crate) const MAX_READ: usize = 4096;

/// The longest private key body read: an RSA-4096 key in PEM is about 3,300 bytes.
pub(crate) const MAX_PEM_BODY: usize = 16 * 1024;

/// `text[start..]`, at most `max` bytes of it, ending on a character boundary.
pub(crate) fn window(text: &str, start: usize, max: usize) -> &str {
    let mut end = start.saturating_add(max).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[start..end]
}

/// The last `max` bytes (at most) of `text[..end]`, starting on a character boundary, and
/// where they start.
pub(crate) fn window_before(text: &str, end: usize, max: usize) -> (usize, &str) {
    let mut start = end.saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (start, &text[start..end])
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
        for word in ["sqlplus ", "oracle:thin:"] {
            add(word.into(), Trigger::OracleLogin);
        }
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
        // No rule matches in fewer bytes than `pwd=x`; short strings (`GET`, `200`) are many.
        if text.len() < 5 {
            return Cow::Borrowed(text);
        }
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
                Trigger::OracleLogin => oracle_login(text, end, spans),
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
pub(crate) fn at_boundary(text: &str, pos: usize) -> bool {
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

    pub(crate) fn push(&mut self, start: usize, end: usize) {
        if start < end {
            self.spans.push((start, end));
        }
    }

    /// Pushes a value span unless the value is a placeholder such as `<redacted>`.
    pub(crate) fn push_value(&mut self, text: &str, start: usize, end: usize) {
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
            "Authorization: required for this endpoint",
            "the Authorization: header is missing",
            "secretary=Jane Doe; department=HR",
            "tokens_used=1532 max_tokens=4096",
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf",
            "const apiKey = process.env.API_KEY;",
            "docker run -p 8080:80 nginx",
            "mailto:alice@example.com?subject=Password%20reset",
            "auth=ok user=bob",
            "fetch(url, { credentials: 'include' })",
            "Use the --password flag to set it",
            "form.setPasswordVisible(true); setTokenCount(tokens.length);",
            "The password is required and the token is expired.",
            "the token was 8 characters long",
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
    fn distinctive_tokens_glued_to_the_word_before_are_found() {
        check("token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 now", "token<redacted> now");
        check("Xxoxb-2048-4096-abcdefghijkl x", "X<redacted> x");
        check("slugglpat-abcdefghij0123456789 x", "slug<redacted> x");
    }

    #[test]
    fn short_prefixes_inside_words_are_left_alone() {
        for text in [
            "task-scheduler-configuration-value",
            "RISK0123456789abcdef0123456789abcdef",
            "monkey-0123456789abcdef0123456789abcdef",
            "TAKIAOJIWWB7J6YQSTKK2",
            "theyJustdoitnow.somethinglong.andmore",
            "network_test_connectivity",
            "disk_test_performance_suite",
            "check_risk_live_dashboard1",
            "berlin_api_0123456789abcdefghij0123456789abcdefghij",
            "udp.st.example.internal.host",
            "pnpm_abcdefghijklmnopqrstuvwxyz0123456789",
        ] {
            assert!(matches!(Scanner::new().redact(text), Cow::Borrowed(_)), "{text}");
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
        check("auth = HTTPBasicAuth('user', 'pa55word!')", "auth = HTTPBasicAuth(<redacted>)");
        check(r#"client.setPassword("setterPass123");"#, "client.setPassword(<redacted>);");
        check("the admin password is Summer2024! now", "the admin password is <redacted> now");
        check("sqlplus scott/t1ger@orcl @script.sql", "sqlplus scott/<redacted>@orcl @script.sql");
        check(
            "jdbc:oracle:thin:scott/t1ger@db:1521:orcl",
            "jdbc:oracle:thin:scott/<redacted>@db:1521:orcl",
        );
        check(
            "machine api.github.com login octo password gho_notAToken99",
            "machine api.github.com login octo password <redacted>",
        );
        check(r#"curl -H "X-API-Key:abc123def456" x"#, r#"curl -H "X-API-Key:<redacted>" x"#);
        // Schemes beyond the common ones: Elastic, Okta, Splunk.
        check("Authorization: ApiKey VnVhQ2ZhdDVz==", "Authorization: ApiKey <redacted>");
        check(
            r#"-H "Authorization: SSWS 00QCjAl4MlV-WPXM" x"#,
            r#"-H "Authorization: SSWS <redacted>" x"#,
        );
        check(
            "proxy-authorization=Splunk 5f1e2d3c-aaaa-bbbb",
            "proxy-authorization=Splunk <redacted>",
        );
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
