//! The checks. Each module looks at one weakness and pushes [`Hit`]s; the scanner turns hits
//! into deduplicated [`Vulnerability`](periscope_model::Vulnerability) events.
//!
//! Body checks run only when the prefilter (one Aho-Corasick pass over the capped body) saw
//! one of their anchor strings, so clean traffic costs one automaton pass per text body.

pub(crate) mod attacks;
pub(crate) mod cookies;
pub(crate) mod cors;
pub(crate) mod errors;
pub(crate) mod exposed;
pub(crate) mod headers;
pub(crate) mod jwt;
pub(crate) mod listing;
pub(crate) mod redirect;
pub(crate) mod secrets;
pub(crate) mod transport;
pub(crate) mod version;
pub(crate) mod xss;

use crate::text::BodyKind;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use periscope_model::{Request, Response, Severity};

/// The kinds of finding, with their stable names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Verbose error with a stack trace.
    StackTrace,
    /// Database error message.
    SqlError,
    /// Server or framework version shown.
    VersionDisclosure,
    /// Key, token or password in a response.
    SecretInResponse,
    /// Credentials or session tokens sent over plain HTTP.
    CleartextCredentials,
    /// JWT with no signature, a guessable secret, no expiry or a very long one.
    WeakJwt,
    /// Session cookie without Secure / HttpOnly / SameSite.
    InsecureCookie,
    /// CORS reflecting any origin with credentials.
    CorsMisconfiguration,
    /// HTML pages without hardening headers (per host).
    MissingSecurityHeaders,
    /// Auto-generated directory index.
    DirectoryListing,
    /// Repository metadata, environment file, backup, dump served.
    ExposedFile,
    /// Administration or status console served.
    ExposedAdmin,
    /// Redirect to a host taken from a parameter.
    OpenRedirect,
    /// Request value echoed unescaped into HTML.
    ReflectedXss,
    /// Attack whose response showed it worked.
    ConfirmedAttack,
}

impl Kind {
    /// Stable name, as in the `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::StackTrace => "stack_trace",
            Kind::SqlError => "sql_error",
            Kind::VersionDisclosure => "version_disclosure",
            Kind::SecretInResponse => "secret_in_response",
            Kind::CleartextCredentials => "cleartext_credentials",
            Kind::WeakJwt => "weak_jwt",
            Kind::InsecureCookie => "insecure_cookie",
            Kind::CorsMisconfiguration => "cors_misconfiguration",
            Kind::MissingSecurityHeaders => "missing_security_headers",
            Kind::DirectoryListing => "directory_listing",
            Kind::ExposedFile => "exposed_file",
            Kind::ExposedAdmin => "exposed_admin",
            Kind::OpenRedirect => "open_redirect",
            Kind::ReflectedXss => "reflected_xss",
            Kind::ConfirmedAttack => "confirmed_attack",
        }
    }
}

/// What a finding is deduplicated over besides kind and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per method and endpoint template.
    Endpoint,
    /// One per host (endpoint `*`): cookies, headers, banners, JWT weaknesses.
    Host,
}

/// Merges a later sighting into a finding that accumulates parts (the missing headers of a
/// host, the missing attributes of a cookie): from the union of the bits and the hit's
/// `detail`, the new title and severity.
pub type MergeFn = fn(u32, &str) -> (String, Severity);

/// One observation of a weakness in one exchange.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Which weakness.
    pub kind: Kind,
    /// How bad.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Capped, masked excerpt.
    pub evidence: String,
    /// What tells two findings of the same kind and place apart (cookie name, header, rule).
    pub detail: String,
    /// Dedup scope.
    pub scope: Scope,
    /// Bits merged across sightings, with the function that rebuilds title and severity.
    pub merge: Option<(u32, MergeFn)>,
}

impl Hit {
    /// A hit deduplicated per endpoint.
    pub fn endpoint(
        kind: Kind,
        severity: Severity,
        title: String,
        evidence: String,
        detail: impl Into<String>,
    ) -> Hit {
        Hit {
            kind,
            severity,
            title,
            evidence,
            detail: detail.into(),
            scope: Scope::Endpoint,
            merge: None,
        }
    }

    /// A hit deduplicated per host.
    pub fn host(
        kind: Kind,
        severity: Severity,
        title: String,
        evidence: String,
        detail: impl Into<String>,
    ) -> Hit {
        Hit {
            kind,
            severity,
            title,
            evidence,
            detail: detail.into(),
            scope: Scope::Host,
            merge: None,
        }
    }
}

/// Families of body patterns the prefilter sees; a check runs only when its family's bit is set.
pub mod family {
    /// Stack-trace anchors.
    pub const STACK: u32 = 1;
    /// SQL error anchors.
    pub const SQL: u32 = 1 << 1;
    /// Version banners in error pages.
    pub const VERSION: u32 = 1 << 2;
    /// Secret anchors (key prefixes, PEM, `password`).
    pub const SECRET: u32 = 1 << 3;
    /// Directory index titles.
    pub const LISTING: u32 = 1 << 4;
    /// JWT start (`eyJ`).
    pub const JWT: u32 = 1 << 5;
}

/// The anchor strings of every body check, in one case-insensitive automaton.
pub struct Prefilter {
    ac: AhoCorasick,
    family_of: Vec<u32>,
}

impl Prefilter {
    /// Builds the automaton from the checks' anchors.
    pub fn new() -> Result<Prefilter, aho_corasick::BuildError> {
        let mut patterns: Vec<&'static str> = Vec::new();
        let mut family_of = Vec::new();
        let groups: [(u32, &[&'static str]); 6] = [
            (family::STACK, errors::STACK_ANCHORS),
            (family::SQL, errors::SQL_ANCHORS),
            (family::VERSION, version::BODY_ANCHORS),
            (family::SECRET, secrets::ANCHORS),
            (family::LISTING, listing::ANCHORS),
            (family::JWT, &["eyJ"]),
        ];
        for (fam, anchors) in groups {
            for a in anchors {
                patterns.push(a);
                family_of.push(fam);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&patterns)?;
        Ok(Prefilter { ac, family_of })
    }

    /// The families whose anchors occur in `body`.
    pub fn scan(&self, body: &[u8]) -> u32 {
        let mut bits = 0;
        let all = (1u32 << 6) - 1;
        for m in self.ac.find_overlapping_iter(body) {
            bits |= self.family_of[m.pattern().as_usize()];
            if bits == all {
                break;
            }
        }
        bits
    }
}

/// What the checks of one exchange share, computed once.
pub struct Ctx<'a> {
    /// Its request, when captured.
    pub req: Option<&'a Request>,
    /// Its response, when captured.
    pub resp: Option<&'a Response>,
    /// Host as the client named it (lower-case).
    pub host: &'a str,
    /// Request path without query.
    pub path: &'a str,
    /// Decoded query and form parameters.
    pub params: &'a [(String, String)],
    /// Response body, capped at the scan length.
    pub body: &'a [u8],
    /// What the response body is.
    pub body_kind: BodyKind,
    /// Prefilter families found in the body (0 for binary bodies).
    pub families: u32,
    /// The client's connection was HTTPS (agent on a TLS port, or a proxy said so).
    pub https: bool,
    /// The exchange crossed the observed network in plaintext.
    pub plaintext: bool,
}

impl Ctx<'_> {
    /// Response status, 0 without a response.
    pub fn status(&self) -> u16 {
        self.resp.map_or(0, |r| r.status)
    }

    /// True when the prefilter saw `family`.
    pub fn saw(&self, family: u32) -> bool {
        self.families & family != 0
    }
}

/// A byte regex without Unicode classes: `[^\n]{1,300}` stays a byte class (small, fast to
/// build) and bodies that are not UTF-8 match like any others.
pub fn bre(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
}
