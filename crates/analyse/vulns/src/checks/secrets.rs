//! Secrets in responses (`secret_in_response`): cloud keys (AWS, GCP, Azure), PEM private keys,
//! Slack, GitHub and Stripe tokens, and passwords in JSON (`"password": "…"`) or in
//! `password=…` text with a non-empty value (not a placeholder such as `********` or
//! `{{password}}`, not script such as `form.password.value`, not a form field name inside an
//! HTML tag). Evidence keeps a short prefix of the secret only.

use super::{family, Ctx, Hit, Kind};
use crate::text::masked_excerpt;
use periscope_model::Severity;
use regex::bytes::Regex;

/// Anchors for the prefilter.
pub const ANCHORS: &[&str] = &[
    "AKIA",
    "ASIA",
    "aws_secret_access_key",
    "AIza",
    "\"private_key\"",
    "AccountKey=",
    "PRIVATE KEY-----",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "hooks.slack.com/services/",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk_live_",
    "rk_live_",
    "password",
    "passwd",
];

/// One kind of secret: its name, severity and the pattern whose group 1 (or whole match) is the
/// secret.
struct SecretRule {
    name: &'static str,
    severity: Severity,
    re: Regex,
}

/// Compiled patterns.
pub struct SecretRules {
    rules: Vec<SecretRule>,
}

/// Values of a password field that are placeholders, not passwords.
fn is_placeholder(v: &[u8]) -> bool {
    let t: Vec<u8> = v
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if t.is_empty() {
        return true;
    }
    let s = String::from_utf8_lossy(&t).to_ascii_lowercase();
    s.chars()
        .all(|c| c == '*' || c == '•' || c == 'x' || c == '.')
        || s.starts_with("{{")
        || s.starts_with("${")
        || s.starts_with("<%")
        || s.starts_with('<')
        || s.starts_with("%(")
        || [
            "null",
            "none",
            "undefined",
            "redacted",
            "[redacted]",
            "[filtered]",
            "hidden",
            "masked",
            "true",
            "false",
            "required",
            "string",
            "password",
            "your_password",
            "yourpassword",
            "changeme_placeholder",
        ]
        .contains(&s.as_str())
}

impl SecretRules {
    /// Compiles the patterns.
    pub fn new() -> Result<SecretRules, regex::Error> {
        let spec: &[(&str, Severity, &str)] = &[
            (
                "AWS access key id",
                Severity::High,
                r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",
            ),
            (
                "AWS secret access key",
                Severity::Critical,
                r#"(?i)aws_secret_access_key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b"#,
            ),
            (
                "Google API key",
                Severity::High,
                r"\b(AIza[0-9A-Za-z_-]{35})",
            ),
            (
                "GCP service account private key",
                Severity::Critical,
                r#""private_key"\s*:\s*"(-----BEGIN [A-Z ]*PRIVATE KEY-----[^"]{20,})""#,
            ),
            (
                "Azure storage account key",
                Severity::Critical,
                r"AccountKey=([A-Za-z0-9+/]{86,88}={0,2})",
            ),
            (
                "PEM private key",
                Severity::Critical,
                r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[\r\n]+[A-Za-z0-9+/=\r\n:,-]{32,})",
            ),
            (
                "Slack token",
                Severity::High,
                r"\b(xox[abprs]-[0-9A-Za-z-]{10,72})",
            ),
            (
                "Slack webhook URL",
                Severity::Medium,
                r"(https://hooks\.slack\.com/services/T[0-9A-Za-z]{6,12}/B[0-9A-Za-z]{6,12}/[0-9A-Za-z]{16,32})",
            ),
            (
                "GitHub token",
                Severity::High,
                r"\b((?:ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{22,255})",
            ),
            (
                "Stripe live key",
                Severity::Critical,
                r"\b((?:sk|rk)_live_[0-9A-Za-z]{16,99})",
            ),
            (
                "password in JSON",
                Severity::High,
                r#"(?i)"(?:password|passwd|db_password|user_password|admin_password)"\s*:\s*"((?:[^"\\]|\\.){1,200})""#,
            ),
            (
                "password in text",
                Severity::High,
                r#"(?i)\b(?:password|passwd|db_password)\s?=\s?([^\s&"'<>;,]{1,200})"#,
            ),
        ];
        let mut rules = Vec::new();
        for (name, severity, re) in spec {
            rules.push(SecretRule {
                name,
                severity: *severity,
                re: super::bre(re)?,
            });
        }
        Ok(SecretRules { rules })
    }

    /// Scans the response body (text bodies that the prefilter flagged).
    pub fn check(&self, ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
        if !ctx.saw(family::SECRET) {
            return;
        }
        for rule in &self.rules {
            for c in rule.re.captures_iter(ctx.body).take(8) {
                let Some(m) = c.get(1).or_else(|| c.get(0)) else {
                    continue;
                };
                if rule.name.starts_with("password") && is_placeholder(m.as_bytes()) {
                    continue;
                }
                if rule.name == "password in text"
                    && (looks_like_code(m.as_bytes())
                        || (ctx.body_kind == crate::text::BodyKind::Html
                            && in_html_attribute(ctx.body, m.start())))
                {
                    continue;
                }
                hits.push(Hit::endpoint(
                    Kind::SecretInResponse,
                    rule.severity,
                    format!("{} in response", rule.name),
                    masked_excerpt(ctx.body, m.start(), m.end()),
                    rule.name,
                ));
                break;
            }
        }
    }
}

/// True for a value that is script, not a password: `form.password.value`, `getPw()`,
/// `$pw`, `this.state.pw` (login pages assign passwords in JavaScript all the time).
fn looks_like_code(v: &[u8]) -> bool {
    if v.iter().any(|c| b"()[]{}$".contains(c)) {
        return true;
    }
    // Dotted identifiers: `a.b`, `form.password.value`.
    let parts: Vec<&[u8]> = v.split(|&c| c == b'.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && (p[0].is_ascii_alphabetic() || p[0] == b'_')
                && p.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        })
}

/// True when `pos` is inside an HTML tag (an `action="…?password=…"` or a link), where a
/// `password=` is a form field name more often than a value.
fn in_html_attribute(body: &[u8], pos: usize) -> bool {
    let before = &body[pos.saturating_sub(200)..pos];
    match (
        before.iter().rposition(|&c| c == b'<'),
        before.iter().rposition(|&c| c == b'>'),
    ) {
        (Some(lt), Some(gt)) => lt > gt,
        (Some(_), None) => true,
        _ => false,
    }
}
