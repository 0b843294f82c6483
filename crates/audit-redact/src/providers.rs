//! The documented token formats of cloud and SaaS providers, as data for [`Scanner`].
//!
//! [`Scanner`]: crate::scan::Scanner

/// Provider token formats, from each provider's documentation: (prefixes, regex, lookbehind,
/// kept bytes, boundary).
///
/// `boundary` asks that no letter or digit come right before the token. It is dropped where
/// the token's fixed start is distinctive enough that no ordinary word ends in it (`ghp_`,
/// `github_pat_`, `xoxb-`, `glpat-`), so that a token glued to the text before it
/// (`tokenghp_...`) is still found. It is kept for short or all-letter prefixes (`sk-`, `SK`,
/// `AKIA`, `eyJ`, `key-`) and for those that end common words: `rk_test_` in
/// `network_test_...`, `lin_api_` in `berlin_api_...`, `dp.st.` in `udp.st....`.
///
/// FIXME: a credential with neither a known prefix nor a name beside it (a bare AWS secret
/// access key, a Cloudflare token) is not found. An entropy rule would catch some, and redact
/// the digests, trace ids and hashes that audit records need; not attempted.
pub(crate) const PROVIDERS: &[(&[&str], &str, usize, usize, bool)] = &[
    (&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], r"\Agh[pousr]_[A-Za-z0-9]{30,}", 0, 0, false),
    (&["github_pat_"], r"\Agithub_pat_[A-Za-z0-9_]{30,}", 0, 0, false),
    (
        &["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glimt-", "glft-", "glsoat-", "gloas-"],
        r"\Agl[a-z]{2,5}-[A-Za-z0-9_-]{20,}",
        0,
        0,
        false,
    ),
    (
        &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe"],
        r"\Axox[abeprs][.-][A-Za-z0-9.-]{10,}",
        0,
        0,
        false,
    ),
    (&["xapp-"], r"\Axapp-\d-[A-Za-z0-9-]{10,}", 0, 0, false),
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
    (&["whsec_"], r"\Awhsec_[A-Za-z0-9+/=]{20,}", 0, 0, false),
    (&["sk-"], r"\Ask-[A-Za-z0-9_-]{20,}", 0, 0, true),
    (
        &["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"],
        r"\A[A-Z]{4}[A-Z0-9]{16}\b",
        0,
        0,
        true,
    ),
    (&["AIza"], r"\AAIza[0-9A-Za-z_-]{30,}", 0, 0, true),
    (&["ya29."], r"\Aya29\.[0-9A-Za-z_-]{20,}", 0, 0, false),
    (&["GOCSPX-"], r"\AGOCSPX-[A-Za-z0-9_-]{20,}", 0, 0, false),
    (&["npm_"], r"\Anpm_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["pypi-"], r"\Apypi-[A-Za-z0-9_-]{40,}", 0, 0, false),
    (&["SK"], r"\ASK[0-9a-fA-F]{32}\b", 0, 0, true),
    (&["SG."], r"\ASG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", 0, 0, true),
    (&["key-"], r"\Akey-[0-9a-zA-Z]{32}\b", 0, 0, true),
    (&["EAAA"], r"\AEAAA[A-Za-z0-9_-]{40,}", 0, 0, true),
    (&["sq0atp-", "sq0csp-"], r"\Asq0(?:atp|csp)-[A-Za-z0-9_-]{20,}", 0, 0, false),
    (&["dop_v1_", "doo_v1_", "dor_v1_"], r"\Ado[opr]_v1_[a-z0-9]{40,}", 0, 0, false),
    (&["dapi"], r"\Adapi[a-f0-9]{32}(?:-\d+)?\b", 0, 0, true),
    (&["hvs.", "hvb.", "hvr."], r"\Ahv[sbr]\.[A-Za-z0-9_-]{24,}", 0, 0, false),
    (&["ntn_"], r"\Antn_[A-Za-z0-9]{40,}", 0, 0, false),
    (&["secret_"], r"\Asecret_[A-Za-z0-9]{43}\b", 0, 0, false),
    (&["glsa_"], r"\Aglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", 0, 0, false),
    (&["glc_"], r"\Aglc_[A-Za-z0-9+/=]{32,}", 0, 0, false),
    (&["sntrys_", "sntryu_"], r"\Asntry[su]_[A-Za-z0-9+/=_]{40,}", 0, 0, false),
    (&["PMAK-"], r"\APMAK-[A-Za-z0-9-]{40,}", 0, 0, false),
    (&["HRKU-"], r"\AHRKU-[A-Za-z0-9_-]{40,}", 0, 0, false),
    (&["ATATT"], r"\AATATT[A-Za-z0-9_=-]{40,}", 0, 0, true),
    (&["eyJ"], r"\AeyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?[A-Za-z0-9_.-]*", 0, 0, true),
    // A JWT encoded once more in base64: `eyJ` becomes `ZXlK`.
    (&["ZXlK"], r"\AZXlK[A-Za-z0-9+/=]{40,}", 0, 0, true),
    (
        &["shpat_", "shpss_", "shpca_", "shppa_"],
        r"\Ashp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        0,
        0,
        false,
    ),
    (&["lin_api_"], r"\Alin_api_[A-Za-z0-9]{40}", 0, 0, true),
    (&["xkeysib-"], r"\Axkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", 0, 0, false),
    (&["AGE-SECRET-KEY-1"], r"\AAGE-SECRET-KEY-1[0-9A-Z]{58}", 0, 0, false),
    (&["dckr_pat_"], r"\Adckr_pat_[A-Za-z0-9_-]{20,}", 0, 0, false),
    (&["hf_"], r"\Ahf_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["gsk_"], r"\Agsk_[A-Za-z0-9]{40,}", 0, 0, false),
    (&["r8_"], r"\Ar8_[A-Za-z0-9]{30,}", 0, 0, true),
    (&["xai-"], r"\Axai-[A-Za-z0-9]{40,}", 0, 0, false),
    (&["pplx-"], r"\Applx-[A-Za-z0-9]{40,}", 0, 0, false),
    (&["nfp_"], r"\Anfp_[A-Za-z0-9]{36,}", 0, 0, false),
    (&["rubygems_"], r"\Arubygems_[a-f0-9]{48}", 0, 0, false),
    (&["pul-"], r"\Apul-[a-f0-9]{40}", 0, 0, false),
    (&["LTAI"], r"\ALTAI[A-Za-z0-9]{12,24}\b", 0, 0, true),
    (&["sbp_"], r"\Asbp_[a-f0-9]{40}", 0, 0, false),
    (&["NRAK-"], r"\ANRAK-[A-Z0-9]{27}", 0, 0, false),
    (&["figd_"], r"\Afigd_[A-Za-z0-9_-]{40,}", 0, 0, false),
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
        false,
    ),
    // Mailchimp: 32 hex digits, then the data center, `-us14`.
    (&["-us"], r"\A[0-9a-f]{32}-us[0-9]{1,2}\b", 32, 0, true),
    // Azure AD client secrets: three characters, a digit, then `Q~`.
    (&["Q~"], r"\A[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}", 4, 0, false),
];

/// Services whose tokens have no literal prefix, found only where the service is named:
/// (the word, the token's regex run over the whole text).
pub(crate) const CONTEXT_RULES: &[(&str, &str)] = &[
    ("discord", r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}\b"),
    ("telegram", r"\b[0-9]{8,10}:[A-Za-z0-9_-]{35}\b"),
];
