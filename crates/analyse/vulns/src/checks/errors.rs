//! Verbose errors: stack traces of Java, Python, PHP, .NET, Node, Go and Ruby (`stack_trace`),
//! and database error messages (`sql_error`).
//!
//! A trace needs a language's frame lines (at least two, or a header line and one frame; one
//! PHP error line with its file and line number), so a sentence that merely mentions an
//! exception does not count. In JSON bodies only string values under error-like keys
//! (`error`, `stack`, `trace`, `exception`, `detail`, `message` …) are read, and never those
//! under documentation keys (`example`, `description` …): an API's docs page that shows a
//! sample traceback is not a leak.

use super::{family, Ctx, Hit, Kind};
use crate::text::{excerpt, unescape_basic, BodyKind};
use periscope_model::Severity;
use regex::bytes::Regex;

/// Anchors of stack traces for the prefilter.
pub const STACK_ANCHORS: &[&str] = &[
    "Traceback (most recent call last)",
    ".java:",
    "(Native Method)",
    "(Unknown Source)",
    ".php on line",
    ".php</b> on line",
    "Stack trace:",
    ":line ",
    "Server Error in '",
    ".js:",
    ".ts:",
    "node:internal",
    "goroutine ",
    ".go:",
    ".rb:",
    ".py\", line",
    ".py&quot;, line",
];

/// Anchors of SQL error messages for the prefilter.
pub const SQL_ANCHORS: &[&str] = &[
    "SQL syntax",
    "mysql_",
    "mysqli",
    "MySqlException",
    "SQLSTATE",
    "ORA-",
    "PG::",
    "PSQLException",
    "syntax error at or near",
    "unterminated quoted string",
    "sqlite3.",
    "SQLite3::",
    "SQLITE_ERROR",
    "SQLiteException",
    "syntax error",
    "unrecognized token",
    "no such table",
    "no such column",
    "Unclosed quotation mark",
    "Incorrect syntax near",
    "OLE DB Provider",
    "ODBC",
    "java.sql.",
    "SQLSyntaxErrorException",
    "DB2 SQL error",
    "Dynamic SQL Error",
    "pg_query",
    "psycopg2",
];

/// One language's trace: frame lines, an optional header that counts as a frame, and where the
/// exception name is.
struct TraceRule {
    lang: &'static str,
    frame: Regex,
    header: Option<Regex>,
    /// Frames needed (a header counts as one).
    needed: usize,
    /// First capture group is the exception or message to put in the title.
    name: Option<Regex>,
}

/// A database product's error message.
struct SqlRule {
    db: &'static str,
    re: Regex,
}

/// Compiled patterns for both checks.
pub struct ErrorRules {
    traces: Vec<TraceRule>,
    sql: Vec<SqlRule>,
}

/// JSON keys whose string values may carry an error the application leaked.
const ERROR_KEYS: &[&str] = &[
    "error",
    "errors",
    "err",
    "exception",
    "exceptions",
    "stack",
    "stacktrace",
    "stack_trace",
    "stacktraces",
    "trace",
    "traceback",
    "backtrace",
    "detail",
    "details",
    "message",
    "msg",
    "debug",
    "cause",
    "reason",
    "errormessage",
    "error_description",
    "exceptionmessage",
];

/// JSON keys under which text is documentation, not a live error.
const DOC_KEYS: &[&str] = &[
    "example",
    "examples",
    "description",
    "summary",
    "doc",
    "docs",
    "documentation",
    "sample",
    "samples",
    "schema",
    "content",
    "markdown",
    "text",
    "body",
    "html",
    "snippet",
    "code",
];

/// Deepest JSON nesting walked.
const MAX_JSON_DEPTH: usize = 32;
/// Most JSON strings looked at per body.
const MAX_JSON_STRINGS: usize = 256;

impl ErrorRules {
    /// Compiles the patterns.
    pub fn new() -> Result<ErrorRules, regex::Error> {
        let q = r#"(?:"|')"#;
        let traces = vec![
            TraceRule {
                lang: "Python",
                frame: super::bre(&format!(
                    r#"(?m)^[ \t]*File {q}[^"'\n]{{1,300}}{q}, line \d+(?:, in [^\n]{{1,200}})?"#
                ))?,
                header: Some(super::bre(r"Traceback \(most recent call last\):")?),
                needed: 2,
                name: Some(super::bre(
                    r"(?m)^((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning)\b[^\n]{0,80})",
                )?),
            },
            TraceRule {
                lang: ".NET",
                frame: super::bre(
                    r"(?m)^[ \t]*at [\w.`<>\[\]+,]+\([^)\n]{0,300}\) in [^\n]{1,300}:line \d+",
                )?,
                header: Some(super::bre(
                    r"Server Error in '[^'\n]{0,100}' Application|\[(?:System\.)?[\w.]*Exception[:\]]",
                )?),
                needed: 2,
                name: Some(super::bre(r"(System(?:\.\w+)*\.\w*Exception)")?),
            },
            TraceRule {
                lang: "Java",
                frame: super::bre(
                    r"(?m)^[ \t]*at (?:[\w$]+\.)+[\w$<>]+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)",
                )?,
                header: None,
                needed: 2,
                name: Some(super::bre(
                    r"((?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b)",
                )?),
            },
            TraceRule {
                lang: "Node.js",
                frame: super::bre(
                    r"(?m)^[ \t]*at (?:[^\n()]{1,200} \()?(?:/|[A-Za-z]:\\|node:|file://)[^\n()]{1,300}:\d+:\d+\)?[ \t]*\r?$",
                )?,
                header: None,
                needed: 2,
                name: Some(super::bre(
                    r"(?m)^((?:[A-Z]\w*)?Error(?: \[\w+\])?: [^\n]{0,80})",
                )?),
            },
            TraceRule {
                lang: "Go",
                frame: super::bre(
                    r"(?m)^[ \t]+(?:/|[A-Za-z]:\\)[^\n]{1,300}\.go:\d+(?: \+0x[0-9a-f]+)?[ \t]*\r?$",
                )?,
                header: Some(super::bre(r"goroutine \d+ \[[\w ,]+\]:")?),
                needed: 2,
                name: Some(super::bre(r"(?m)^(panic: [^\n]{0,80})")?),
            },
            TraceRule {
                lang: "Ruby",
                frame: super::bre(r"(?m)[^\s:'\x22]{1,300}\.rb:\d+:in [`'][^'\n]{1,100}'")?,
                header: None,
                needed: 2,
                name: Some(super::bre(
                    r"\(((?:[A-Z]\w*::)*[A-Z]\w*(?:Error|Exception))\)",
                )?),
            },
            TraceRule {
                lang: "PHP",
                frame: super::bre(
                    r"(?:(?:Fatal error|Parse error|Warning|Notice|Deprecated)(?:</b>)?:[^\n]{1,500}? in (?:<b>)?[^\s<]{1,300}\.(?:php|inc|phtml)(?:</b>)?(?: on line (?:<b>)?\d+|:\d+)|(?m)^#\d+ [^\n]{1,300}\.php\(\d+\): )",
                )?,
                header: None,
                needed: 1,
                name: Some(super::bre(
                    r"((?:Fatal error|Parse error|Warning|Notice|Deprecated|Uncaught [\w\\]+))",
                )?),
            },
        ];
        let sql_rules: &[(&str, &str)] = &[
            (
                "MySQL",
                r"You have an error in your SQL syntax|\bmysqli?_(?:fetch|query|num_rows|connect)\w*\(|MySqlException|com\.mysql\.jdbc|Warning: mysqli?_",
            ),
            (
                "PostgreSQL",
                r"\bPG::\w+Error|PSQLException|ERROR:\s+(?:syntax error at or near|unterminated quoted string at or near|column \x22[^\x22\n]{1,64}\x22 does not exist)|psycopg2\.\w+|pg_query\(\)",
            ),
            (
                "SQLite",
                r"sqlite3\.(?:Operational|Integrity|Programming|Database)Error|SQLite3::\w+Exception|SQLITE_ERROR|SQLiteException|unrecognized token: \x22|near \x22[^\x22\n]{0,64}\x22: syntax error|no such (?:table|column): \w+",
            ),
            ("Oracle", r"\bORA-\d{5}\b"),
            (
                "SQL Server",
                r"Unclosed quotation mark after the character string|Incorrect syntax near|Microsoft OLE DB Provider for (?:SQL Server|ODBC)|\[ODBC SQL Server Driver\]|\[SQL Server\]",
            ),
            ("ODBC", r"\[Microsoft\]\[ODBC [^\]\n]{1,60}\]"),
            (
                "JDBC",
                r"java\.sql\.SQL\w*Exception|SQLSyntaxErrorException",
            ),
            ("DB2", r"DB2 SQL error"),
            ("Firebird", r"Dynamic SQL Error"),
            ("SQL", r"SQLSTATE\[\w{5}\]"),
        ];
        let mut sql = Vec::new();
        for (db, re) in sql_rules {
            sql.push(SqlRule {
                db,
                re: super::bre(re)?,
            });
        }
        Ok(ErrorRules { traces, sql })
    }

    /// Runs both checks on the response body.
    pub fn check(&self, ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
        let stack = ctx.saw(family::STACK);
        let sql = ctx.saw(family::SQL);
        if !stack && !sql {
            return;
        }
        if ctx.body_kind == BodyKind::Json {
            self.check_json(ctx, stack, sql, hits);
            return;
        }
        let body = if ctx.body_kind == BodyKind::Html {
            unescape_basic(ctx.body)
        } else {
            std::borrow::Cow::Borrowed(ctx.body)
        };
        if stack {
            if let Some(h) = self.trace_in(&body) {
                hits.push(h);
            }
        }
        if sql {
            if let Some(h) = self.sql_in(&body) {
                hits.push(h);
            }
        }
    }

    fn check_json(&self, ctx: &Ctx<'_>, stack: bool, sql: bool, hits: &mut Vec<Hit>) {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(ctx.body) else {
            // Truncated or not JSON after all: read it as text, with the same rules.
            if stack {
                hits.extend(self.trace_in(ctx.body));
            }
            if sql {
                hits.extend(self.sql_in(ctx.body));
            }
            return;
        };
        let mut strings = Vec::new();
        error_strings(&value, false, false, 0, &mut strings);
        let (mut found_trace, mut found_sql) = (false, false);
        for s in strings {
            if stack && !found_trace {
                if let Some(h) = self.trace_in(s.as_bytes()) {
                    hits.push(h);
                    found_trace = true;
                }
            }
            if sql && !found_sql {
                if let Some(h) = self.sql_in(s.as_bytes()) {
                    hits.push(h);
                    found_sql = true;
                }
            }
        }
    }

    /// The first language whose trace `body` holds.
    fn trace_in(&self, body: &[u8]) -> Option<Hit> {
        for rule in &self.traces {
            let mut frames = rule.frame.find_iter(body);
            let first = frames.next();
            let header = rule.header.as_ref().and_then(|h| h.find(body));
            let count = usize::from(first.is_some())
                + frames.take(rule.needed).count()
                + usize::from(header.is_some());
            // A header alone is not a trace; a frame is required.
            let Some(first) = first else { continue };
            if count < rule.needed {
                continue;
            }
            let name = rule
                .name
                .as_ref()
                .and_then(|n| n.captures(body))
                .and_then(|c| c.get(1))
                .map(|m| crate::text::one_line(&String::from_utf8_lossy(m.as_bytes())));
            let title = match name {
                Some(n) => format!("{} stack trace ({n})", rule.lang),
                None => format!("{} stack trace", rule.lang),
            };
            let start = header.map_or(first.start(), |h| h.start().min(first.start()));
            return Some(Hit::endpoint(
                Kind::StackTrace,
                Severity::Medium,
                cap_title(title),
                excerpt(body, start, start, 0),
                rule.lang,
            ));
        }
        None
    }

    /// The first database error message in `body`.
    fn sql_in(&self, body: &[u8]) -> Option<Hit> {
        for rule in &self.sql {
            if let Some(m) = rule.re.find(body) {
                return Some(Hit::endpoint(
                    Kind::SqlError,
                    Severity::Medium,
                    format!("{} error message", rule.db),
                    excerpt(body, m.start(), m.end(), 60),
                    rule.db,
                ));
            }
        }
        None
    }
}

fn cap_title(mut t: String) -> String {
    if t.len() > 160 {
        let mut cut = 160;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push('…');
    }
    t
}

/// Collects the strings of a JSON document that sit under an error-like key and not under a
/// documentation key.
fn error_strings<'v>(
    v: &'v serde_json::Value,
    under_error: bool,
    under_doc: bool,
    depth: usize,
    out: &mut Vec<&'v str>,
) {
    if depth > MAX_JSON_DEPTH || out.len() >= MAX_JSON_STRINGS {
        return;
    }
    match v {
        serde_json::Value::String(s) if under_error && !under_doc => out.push(s),
        serde_json::Value::Array(items) => {
            for i in items {
                error_strings(i, under_error, under_doc, depth + 1, out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let key = k.to_ascii_lowercase();
                let err = under_error || ERROR_KEYS.contains(&key.as_str());
                let doc = under_doc || DOC_KEYS.contains(&key.as_str());
                error_strings(child, err, doc, depth + 1, out);
            }
        }
        _ => {}
    }
}
