//! Attack classes and their stable names.

use serde::Serialize;

/// An attack class. [`Class::as_str`] gives the stable name used in events and eval output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// SQL injection.
    Sqli,
    /// Cross-site scripting.
    Xss,
    /// OS command injection and code execution.
    Rce,
    /// Path traversal and local file inclusion.
    Ptrav,
    /// Remote file inclusion.
    Rfi,
    /// Server-side request forgery.
    Ssrf,
    /// XML external entities.
    Xxe,
    /// Server-side template injection.
    Ssti,
    /// NoSQL (MongoDB) injection.
    Nosqli,
    /// LDAP injection.
    Ldapi,
    /// XPath injection.
    Xpathi,
    /// CRLF injection: header or response splitting.
    Crlf,
    /// Log4Shell (JNDI lookups).
    Log4shell,
    /// SMTP/IMAP/mail header injection.
    Mail,
    /// Server-side includes.
    Ssi,
    /// Serialized objects (Java, PHP, Python, .NET, YAML).
    Deserialization,
    /// Open redirect attempt.
    OpenRedirect,
    /// Known scanners' fingerprints and out-of-band callback domains.
    Scanner,
    /// Protocol anomalies: request smuggling, conflicting framing.
    Protocol,
}

impl Class {
    /// Every class, in order.
    pub const ALL: [Class; 19] = [
        Class::Sqli,
        Class::Xss,
        Class::Rce,
        Class::Ptrav,
        Class::Rfi,
        Class::Ssrf,
        Class::Xxe,
        Class::Ssti,
        Class::Nosqli,
        Class::Ldapi,
        Class::Xpathi,
        Class::Crlf,
        Class::Log4shell,
        Class::Mail,
        Class::Ssi,
        Class::Deserialization,
        Class::OpenRedirect,
        Class::Scanner,
        Class::Protocol,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Sqli => "sqli",
            Class::Xss => "xss",
            Class::Rce => "rce",
            Class::Ptrav => "ptrav",
            Class::Rfi => "rfi",
            Class::Ssrf => "ssrf",
            Class::Xxe => "xxe",
            Class::Ssti => "ssti",
            Class::Nosqli => "nosqli",
            Class::Ldapi => "ldapi",
            Class::Xpathi => "xpathi",
            Class::Crlf => "crlf",
            Class::Log4shell => "log4shell",
            Class::Mail => "mail",
            Class::Ssi => "ssi",
            Class::Deserialization => "deserialization",
            Class::OpenRedirect => "open_redirect",
            Class::Scanner => "scanner",
            Class::Protocol => "protocol",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
