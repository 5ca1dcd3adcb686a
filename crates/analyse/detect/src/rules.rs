//! The rules: an Aho-Corasick prefilter picks which checks can apply to a value; the checks
//! are language-aware where it pays (libinjection's SQL tokenizer and HTML5 tokenizer, a
//! shell command-position scanner, path normalisation, URL host classification, JNDI lookup
//! unfolding) and regular expressions (linear-time `regex` crate) elsewhere.

use crate::class::Class;
use crate::points::PointKind;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use std::borrow::Cow;
use std::net::Ipv4Addr;

/// What a rule runs once its prefilter fired.
enum Check {
    /// A regular expression, and a byte it cannot match without (checked first: the
    /// prefilter's trigger for `xss_handler` is just `on`, which most English text has).
    Re(Regex, Option<u8>),
    Sqli,
    Xss,
    Shell,
    Ptrav,
    Ssrf,
    Log4j,
    Redirect,
    NosqlKey,
    Callable,
}

struct Rule {
    class: Class,
    name: &'static str,
    score: f32,
    check: Check,
}

/// One rule's finding in one value.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub class: Class,
    pub rule: String,
    pub score: f32,
    pub excerpt: String,
}

/// The compiled rule set. Immutable once built; shared by all threads.
pub(crate) struct Rules {
    ac: AhoCorasick,
    /// For each prefilter pattern, the rules it arms.
    arms: Vec<Vec<u16>>,
    rules: Vec<Rule>,
}

/// (class, name, score, triggers, check). Triggers are matched ASCII-case-insensitively.
type Def = (
    Class,
    &'static str,
    f32,
    &'static [&'static str],
    &'static str,
);

/// libinjection needs something to break out of a literal or to end a statement with; a
/// value with none of these cannot tokenize to an injection fingerprint worth reporting.
const SQL_TRIG: &[&str] = &[
    "'", "\"", "`", "(", ";", "#", "--", "/*", "=", "union", "select", "||", "&&", "<>", "!=",
];

const DEFS: &[Def] = &[
    // SQL: libinjection first (Check::Sqli, added in build), then the functions and shapes it misses.
    (
        Class::Sqli,
        "sqli_time",
        0.9,
        &[
            "sleep",
            "benchmark",
            "waitfor",
            "pg_sleep",
            "dbms_pipe",
            "randomblob",
        ],
        r"(?i)\b(?:(?:pg_)?sleep\s*\(\s*\(?\s*\d|benchmark\s*\(\s*\d+\s*,|waitfor\s+(?:delay|time)\s+'|dbms_pipe\.receive_message\s*\(|randomblob\s*\(\s*\d{6,})",
    ),
    (
        Class::Sqli,
        "sqli_union",
        0.9,
        &["union"],
        r"(?i)\bunion(?:\s|/\*.*?\*/|\(|\+)+(?:all(?:\s|/\*.*?\*/|\+)+|distinct(?:\s|\+)+)?\(?\s*select\b",
    ),
    (
        Class::Sqli,
        "sqli_func",
        0.85,
        &[
            "information_schema",
            "sysobjects",
            "syscolumns",
            "pg_catalog",
            "sqlite_master",
            "xp_cmdshell",
            "sp_executesql",
            "extractvalue",
            "updatexml",
            "load_file",
            "into outfile",
            "into dumpfile",
            "utl_inaddr",
            "utl_http",
            "fn_varbintohexstr",
            "json_extract",
            "json_depth",
            "group_concat",
            "@@version",
            "xp_dirtree",
            "sp_oacreate",
            "dbms_",
            "pg_read_file",
            "sys.fn_",
            "mysql.user",
            "master..",
            "@@datadir",
            "current_user(",
            "session_user",
        ],
        r"(?i)(?:information_schema|\bsys(?:objects|columns)\b|pg_catalog\.|sqlite_master|xp_cmdshell|xp_dirtree|sp_oacreate|sp_executesql|\b(?:extractvalue|updatexml|load_file|utl_inaddr\.\w+|utl_http\.\w+|fn_varbintohexstr|json_extract|json_depth|group_concat|pg_read_file)\s*\(|into\s+(?:out|dump)file\s|@@(?:version|datadir|hostname)\b|\bdbms_\w+\.\w+|\bmysql\.user\b|master\.\.\w+|\b(?:current_user|session_user|system_user)\s*\(\))",
    ),
    (
        Class::Sqli,
        "sqli_stacked",
        0.8,
        &[";"],
        r"(?i)(?:^|['\d)]\s*);\s*(?:declare\s+@|drop\s+(?:table|database)\s|exec(?:ute)?\s+(?:master|xp_|sp_|\()|shutdown\b|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|select\s+\S|truncate\s+table\s|create\s+(?:table|user)\s|alter\s+table\s)",
    ),
    (
        Class::Sqli,
        "sqli_tautology",
        0.75,
        &["'", "\""],
        r#"(?i)['"]\s*\)?\s*(?:or|and|\|\||&&)\s+\(?\s*['"]?\s*(\w+)\s*['"]?\s*(?:=|<>|!=|<|>|like)\s*['"]?\s*\w*"#,
    ),
    // Login bypass: a name, a closing quote, and a comment that cuts the rest of the query
    // off (`admin'--`, `admin' #`, `admin')-- -`).
    (
        Class::Sqli,
        "sqli_comment_cut",
        0.8,
        &[
            "'#", "' #", "'--", "' --", "'/*", "' /*", "')--", "') --", "')#", "\"#", "\" #",
            "\"--", "\" --",
        ],
        r#"^\s*[\w@.+-]{1,64}['"]\s*\)?\s*(?:#|--(?:[\s+-]|$)|/\*)"#,
    ),
    // XSS: libinjection's HTML5 tokenizer (Check::Xss), plus script shapes without tags.
    (
        Class::Xss,
        "xss_script_tag",
        0.95,
        &["<script", "< script", "%3cscript"],
        r"(?i)<\s*script\b",
    ),
    (
        Class::Xss,
        "xss_handler",
        0.85,
        &["on"],
        r#"(?i)(?:<[^>]*|["'`]\s*[^"'`<>]{0,40}?|^[^<>]{0,20})[\s"'/;]on(?:[a-z]{3,30}|x)\s*=\s*["'`(]?\s*[\w$(\[`'"]"#,
    ),
    (
        Class::Xss,
        "xss_js_call",
        0.8,
        &[
            "alert",
            "prompt",
            "confirm",
            "settimeout",
            "setinterval",
            "fromcharcode",
            "constructor",
            "atob(",
        ],
        r"(?i)(?:\b(?:alert|prompt|confirm)(?:\(|`|\s*\)\s*[(`]|\s*\.\s*(?:call|apply|bind)\s*\()|\bset(?:timeout|interval)\s*\(\s*['`]|String\s*\.\s*fromCharCode\s*\(|\.constructor\s*\(\s*['`]|\bconstructor\s*\(\s*['`]\s*alert|\batob\s*\(\s*['`])",
    ),
    (
        Class::Xss,
        "xss_js_uri",
        0.85,
        &["javascript", "vbscript", "data:text/html", "livescript"],
        r"(?i)(?:java|vb|live)script\s*:[\w$(\[`'{/]+\s*[(`.\[=]|(?:java|vb|live)script\s*:\s*[\w$.]+\s*[(`]|data:text/html[;,]",
    ),
    (
        Class::Xss,
        "xss_dom",
        0.75,
        &[
            "document.",
            "window.",
            "location",
            "__proto__",
            "top[",
            "self[",
        ],
        r#"(?i)(?:\bdocument\s*\.\s*(?:cookie|domain|write\s*\()|\bwindow\s*\.\s*location\s*(?:\.href\s*)?=|__proto__\s*\[|\b(?:top|self|window|parent)\s*\[\s*['"`]\w+['"`]\s*\]|\blocation\s*=\s*['"`]?(?:https?:|//|javascript))"#,
    ),
    // OS commands and code execution.
    (
        Class::Rce,
        "rce_shellshock",
        0.95,
        &["() {"],
        r"\(\)\s*\{\s*[:\w]*\s*;\s*\}\s*;",
    ),
    (
        Class::Rce,
        "rce_php",
        0.85,
        &[
            "system",
            "passthru",
            "shell_exec",
            "exec",
            "popen",
            "proc_open",
            "assert",
            "<?php",
            "<?=",
            "$_get",
            "$_post",
            "$_request",
            "base64_decode",
            "call_user_func",
            "file_put_contents",
            "phpinfo",
        ],
        r#"(?i)(?:\b(?:system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|assert|call_user_func(?:_array)?|create_function|file_put_contents|eval)\s*\(\s*(?:['"$]|base64_decode|\$_|str_rot13|gzinflate|chr\s*\()|<\?php\b|<\?=|\$_(?:GET|POST|REQUEST|COOKIE|SERVER)\s*\[|\bphpinfo\s*\(\s*\))"#,
    ),
    (
        Class::Rce,
        "rce_asp",
        0.85,
        &[
            "eval",
            "execute",
            "scripttimeout",
            "on error resume",
            "wscript",
            "createobject",
        ],
        r#"(?i)(?:\bev\s?al\s*\(\s*(?:request|["(])|\bexecute(?:global)?\s*\(\s*(?:request|["(])|server\.scripttimeout|on\s+error\s+resume\s+next|wscript\.shell|createobject\s*\(\s*["'](?:wscript|scripting|adodb))"#,
    ),
    (
        Class::Rce,
        "rce_python",
        0.85,
        &[
            "__import__",
            "os.system",
            "os.popen",
            "subprocess",
            "!!python",
            "import os",
            "import socket",
            "import subprocess",
            "__builtins__",
            "exec(",
        ],
        r"(?i)(?:__import__\s*\(|\bos\s*\.\s*(?:system|popen|exec\w*)\s*\(|\bsubprocess\s*\.\s*\w+\s*\(|!!python/|\bimport\s+(?:os|socket|subprocess|pty)\b|__builtins__|\bexec\s*\(\s*['\x22](?:import|__))",
    ),
    (
        Class::Rce,
        "rce_java",
        0.9,
        &[
            "runtime",
            "processbuilder",
            "java.lang",
            "_memberaccess",
            "classloader",
            "child_process",
            "mainmodule",
            "ognl",
            "scriptengine",
            ".execute()",
            "%{",
            "${",
            "xwork2",
            "new java.",
        ],
        r"(?i)(?:getruntime\s*\(\s*\)\s*\.\s*exec|\bnew\s+(?:java\.lang\.)?processbuilder\b|java\.lang\.(?:runtime|processbuilder|system)\b|#_memberaccess|class\.module\.classloader|\.classloader\.|child_process|process\.mainmodule|@ognl\.|scriptenginemanager|['\x22][^'\x22]{1,200}['\x22]\s*\.\s*execute\s*\(\s*\)\s*\.\s*(?:text|in|waitfor)|[%$]\{\s*\(?\s*#(?:context|_memberaccess|application|request|session|attr|parameters|_|[a-z]\w*\s*=)|com\.opensymphony\.xwork2|\bnew\s+java\.(?:io|lang|net)\.\w+\s*\()",
    ),
    (
        Class::Rce,
        "rce_git_arg",
        0.8,
        &["--exec", "--upload-pack", "--receive-pack", "--output="],
        r"(?i)--(?:exec|upload-pack|receive-pack)\s*=|-o\s*proxycommand=",
    ),
    // Traversal, remote inclusion, SSRF.
    (
        Class::Rfi,
        "rfi_url",
        0.75,
        &["http:", "https:", "ftp:", "\\\\"],
        r"(?i)^\s*(?:https?|ftps?)://[^\s?#]+/[^\s?#]*\.(?:txt|php\d?|phtml|sh|pl|py|jsp|aspx?|cgi|inc|dat)(?:\?+|%00|\x00|#)?\s*$|^\s*(?:https?|ftps?)://[^\s]+\?\s*$",
    ),
    // Markup and templates.
    (
        Class::Xxe,
        "xxe_entity",
        0.95,
        &["<!entity", "<!doctype"],
        r"(?is)<!ENTITY\s+%?\s*\w+\s+(?:SYSTEM|PUBLIC)\b|<!DOCTYPE\s+\w+[^>]*\[\s*<!ENTITY|<!DOCTYPE\s+[\w:.-]+\s+\[\s*<!ENTITY\s+%",
    ),
    (
        Class::Xxe,
        "xxe_doctype",
        0.8,
        &["<!doctype"],
        r#"(?is)<!DOCTYPE\s+[\w:.-]+\s+(?:SYSTEM\s+["'](?:[^"']*?(?:file:|expect:|php:|//|\.dtd|/etc/))|PUBLIC\s+["'][^"']*["']\s+["'](?:https?|file|ftp|jar|netdoc):[^"']*["']|\[\s*<!ENTITY)"#,
    ),
    (
        Class::Xxe,
        "xxe_xinclude",
        0.85,
        &[
            "xinclude",
            "xi:include",
            "xs:include",
            "xs:import",
            ":include",
            ":import",
            ":redefine",
            "schemalocation",
        ],
        r#"(?is)<xi:include\b[^>]*\bhref\s*=|xmlns:xi\s*=\s*["']http://www\.w3\.org/2001/XInclude|<[\w.-]+:(?:include|import|redefine|override)\b[^>]*\b(?:schemaLocation|namespace)\s*=\s*["'](?:https?|file|ftp)://|[\w.-]+:schemaLocation\s*=\s*["']\s*[^\s"']+\s*["']|noNamespaceSchemaLocation\s*=\s*["']\s*(?:file:|ftp:|https?://(?:127\.|localhost|10\.|192\.168\.|169\.254\.|0\.|\[))"#,
    ),
    (
        Class::Ssti,
        "ssti_expr",
        0.9,
        &["{{", "${", "#{", "*{", "<%", "@("],
        r#"(?is)(?:\{\{[^}]{0,200}?(?:\d+\s*[*+/-]\s*['"]?\d+|__\w+__|\.\s*(?:__class__|mro|subclasses|globals|builtins|getruntime|popen|exec)\b|\b(?:config|_?self|request|lipsum|cycler|joiner|namespace|range)\b\s*(?:\.|\(|\||\[)|\[\s*['"]__|\|\s*attr\b|constructor)[^}]{0,200}?\}\}|[$#*]\{[^}]{0,200}?(?:\d+\s*[*+/]\s*\d+|\bT\s*\(|getclass|getruntime|\.exec\s*\(|new\s*\(|\w\s*\(\s*["']|@java|#_memberaccess|\bclass\.)[^}]{0,200}?\}|<%=?\s*[^%]{0,200}?(?:\d+\s*\*\s*\d+|system|exec|`|runtime|File\.)[^%]{0,200}?%>|@\(\s*\d+\s*\*\s*\d+\s*\))"#,
    ),
    (
        Class::Ssti,
        "ssti_engine",
        0.9,
        &[
            "<#assign",
            "freemarker",
            "?new()",
            "{% ",
            "{%",
            "{php}",
            "{$smarty",
            "#set(",
            "$class.inspect",
            "velocity",
        ],
        r"(?i)<#assign\b|freemarker\.template\.utility|\?new\s*\(\s*\)|\{%\s*(?:import|debug|load|include\s+['\x22]/)\b|\{php\}|\{\$smarty\.|#set\s*\(\s*\$\w+\s*=|\$class\.inspect\s*\(",
    ),
    (
        Class::Ssi,
        "ssi_directive",
        0.95,
        &["<!--#", "<!-- #"],
        r"(?i)<!--\s*#\s*(?:exec|include|echo|config|set|printenv|fsize|flastmod|if|elif)\b",
    ),
    // Query languages.
    (
        Class::Nosqli,
        "nosqli_operator",
        0.85,
        &["$"],
        r#"(?i)(?:^|[\[{,"'\s(]|&&|\|\|)\$(?:where|ne|gt|gte|lt|lte|in|nin|or|and|nor|not|regex|exists|expr|elemmatch|size|type|all|mod|function|accumulator|lookup|jsonschema)\b\s*["'\]]?\s*[:=\]]"#,
    ),
    (
        Class::Nosqli,
        "nosqli_js",
        0.85,
        &[
            "db.", "while", "sleep(", "this.", "return", "tojson", "objectid",
        ],
        r"(?i)(?:\bdb\s*\.\s*(?:\w+\s*\.\s*(?:find|insert|update|remove|drop|aggregate|count)\w*|getcollection|eval|dropdatabase|getsiblingdb)\s*\(|\bdo\s*\{[^}]{0,200}\}\s*while\s*\(|\bwhile\s*\(\s*\w+\s*-\s*\w+\s*<\s*\d|;\s*return\s+(?:true|1|this)\b|\bthis\s*\.\s*\w+\s*(?:==|\.match\s*\()|\bsleep\s*\(\s*\d{3,}\s*\))",
    ),
    (
        Class::Ldapi,
        "ldapi_filter",
        0.85,
        &[")(", "*)", "(|", "(&", "(!", ":="],
        r"(?:\*\)\s*\(+\s*[|&!]|\(\s*[\w.-]*(?::dn)?(?::[\w.-]+)?\s*:=|[\w-]+:dn(?::[\w.-]+)?:=|[\w-]+:(?:caseExact|caseIgnore|octetString|numericString|distinguishedName|integer|generalizedTime)\w*Match:=|\)\s*\(\s*[|&!]\s*\(|^\s*\*?\s*\(\s*[|&]\s*\(\s*[\w.-]+\s*[=~<>]|\(\s*[\w.-]+\s*=\s*\*\s*\)\s*\)|\(\s*!\s*\(\s*&\s*\(|[\w-]+:\d+(?:\.\d+){3,}:=|\*\)\s*\(\s*[\w.-]+\s*=\s*\*|\)\s*\(\s*[&|]\s*\)\s*\)?\s*$)",
    ),
    (
        Class::Ldapi,
        "ldapi_objectclass",
        0.7,
        &["objectclass"],
        r"(?i)objectclass\s*=\s*\*",
    ),
    (
        Class::Xpathi,
        "xpathi",
        0.8,
        &[
            "(/",
            "count(",
            "name(",
            "string-length(",
            "substring(",
            "::",
            "//*",
            "text()",
            "position()",
            "true()",
            "false()",
            "not(",
        ],
        r#"(?i)(?:['"]\s*\)?\s*(?:or|and)\s+(?:true|false|not)\s*\(\s*\)|['"]\s*(?:or|and|\]|\|)\s*(?:count|name|string-length|substring|local-name|contains|starts-with|position|last|string)\s*\(|\b(?:count|name|local-name|string-length)\s*\(\s*(?:/|\.\.|\*|name\s*\()|//\*\s*\[|\]\s*\|\s*//|\b(?:descendant|ancestor|following|preceding)(?:-or-self|-sibling)?::|\bchild::node\s*\(\s*\))"#,
    ),
    // Header/response splitting and mail.
    (
        Class::Crlf,
        "crlf_header",
        0.9,
        &["\r", "\n", "\u{560a}", "\u{560d}"],
        r"(?i)(?:[\r\n]|\xE5\x98[\x8A\x8D])\s*(?:set-cookie|location|content-(?:type|length|security-policy|disposition)|x-[\w-]+|refresh|access-control-[\w-]+|transfer-encoding|cache-control|host|cookie|link|server|connection)\s*:|(?:[\r\n]|\xE5\x98[\x8A\x8D])\s*(?:http/1\.[01]\s+\d{3}|<html|<script)",
    ),
    (
        Class::Mail,
        "mail_smtp_imap",
        0.85,
        &["\r", "\n"],
        r"(?i)[\r\n]\s*(?:rcpt\s+to\s*:|mail\s+from\s*:|data\s*(?:[\r\n]|$)|quit\s*(?:[\r\n]|$)|(?:helo|ehlo|vrfy|expn)\s+\S|auth\s+(?:login|plain)\b|rset\s*(?:[\r\n]|$)|[a-z]{0,4}\d{1,6}\s+(?:capability|login|select|examine|fetch|store|search|list|lsub|logout|append|uid|noop|authenticate|copy|delete|rename|create)\b)",
    ),
    (
        Class::Mail,
        "mail_header",
        0.8,
        &["\r", "\n"],
        r"(?i)[\r\n]\s*(?:bcc|cc|to|reply-to)\s*:\s*[^\s@]+@",
    ),
    // Serialized objects.
    (
        Class::Deserialization,
        "deser_java",
        0.9,
        &[
            "ro0ab",
            "aced0005",
            "\u{ac}\u{ed}\u{0}\u{5}",
            "h4siaaaaaaaaaj",
            "jdbcrowsetimpl",
            "templatesimpl",
            "commons.collections",
            "ysoserial",
            "java.beans.xmldecoder",
            "<java",
            "@type",
            "!!javax",
            "!!java",
            "!!com.sun",
            "invokertransformer",
        ],
        r#"(?i)(?:\brO0AB|\baced0005|\xC2\xAC\xC3\xAD\x00\x05|com\.sun\.rowset\.JdbcRowSetImpl|TemplatesImpl|commons\.collections\d?\.functors|invokertransformer|ysoserial|<java\b[^>]*>\s*<object\s+class\s*=|java\.beans\.XMLDecoder|"@type"\s*:\s*"(?:com\.|org\.|java\.|javax\.)|!!(?:javax?|com\.sun)\.)"#,
    ),
    (
        Class::Deserialization,
        "deser_php",
        0.85,
        &["o:", "c:", "a:"],
        r#"(?:^|[;{(\s])[OC]:\+?\d+:"[\w\\]+":\d+:\{|^a:\d+:\{[si]:\d+[:;]"#,
    ),
    (
        Class::Deserialization,
        "deser_python",
        0.85,
        &[
            "cos\n",
            "cposix",
            "c__builtin__",
            "cbuiltins",
            "csubprocess",
            "\u{80}\u{4}\u{95}",
            "gasv",
            "y3bvc2l4",
            "y29zcnn5c3rlbq",
            "!!python",
        ],
        r"(?:^|\n)c(?:os|posix|nt|__builtin__|builtins|subprocess)\n(?:system|popen|exec|eval|check_output|getattr)\n|\bgASV[\w+/]{8,}|\bY3Bvc2l4|\bY29zCnN5c3Rlb|!!python/(?:object|name|module)",
    ),
    (
        Class::Deserialization,
        "deser_dotnet",
        0.85,
        &[
            "aaeaaad/////",
            "$type",
            "__type",
            "objectdataprovider",
            "typeconfusedelegate",
            "windowsidentity",
        ],
        r#"(?i)(?:AAEAAAD/////|"\$type"\s*:\s*"System\.|"__type"\s*:\s*"System\.|ObjectDataProvider|TypeConfuseDelegate|System\.Windows\.Data|System\.Diagnostics\.Process\b)"#,
    ),
    (
        Class::Rce,
        "rce_php_callable",
        0.85,
        &[
            "call_user_func",
            "invokefunction",
            "#post_render",
            "#pre_render",
            "#lazy_builder",
            "#access_callback",
            "${@",
            "${ @",
        ],
        r"(?i)\bcall_user_func(?:_array)?\b|\\think\\app/invokefunction|#(?:post_render|pre_render|lazy_builder|access_callback)\b|\$\{\s*@?\s*(?:print|system|eval|phpinfo|passthru|exec|assert|shell_exec)\s*\(",
    ),
    (
        Class::Rce,
        "rce_spring_context",
        0.85,
        &["xmlapplicationcontext"],
        r"(?i)\b(?:ClassPath|FileSystem)XmlApplicationContext\b",
    ),
    (
        Class::Sqli,
        "sqli_bool_num",
        0.75,
        &[
            " or ", " and ", " xor ", "+or+", "+and+", ")or", ")and", "\tor", "\tand", "\nor",
            "\nand",
        ],
        r"(?i)^\s*[\w'\x22]{0,20}\s*\)?(?:\s+|\+|\))(?:or|and|xor)(?:\s+|\+|\()\(?\s*-?\d+\s*(?:=|<>|!=|<=|>=|<|>|\s+like\s+|\s+between\s+)\s*\(?\s*-?\d+",
    ),
    // Scanner fingerprints in headers (User-Agent and tool-specific headers only: see `scan`).
    (
        Class::Scanner,
        "scanner_ua",
        0.9,
        &[
            "sqlmap",
            "nikto",
            "nmap",
            "masscan",
            "nuclei",
            "gobuster",
            "dirbuster",
            "wpscan",
            "acunetix",
            "netsparker",
            "zgrab",
            "ffuf",
            "wfuzz",
            "hydra",
            "havij",
            "w3af",
            "openvas",
            "nessus",
            "arachni",
            "owasp zap",
            "zaproxy",
            "jaeles",
            "commix",
            "xsstrike",
            "feroxbuster",
            "dirb",
            "burp",
            "qualys",
            "whatweb",
            "wapiti",
            "skipfish",
            "vega/",
            "paros",
            "joomscan",
            "droopescan",
            "nessus",
            "appscan",
            "webinspect",
            "fimap",
            "grabber",
            "bsqlbf",
            "sqlninja",
            "brutus",
            "morfeus",
            "zmeu",
            "interactsh",
            "gotestwaf",
            "python-requests/",
            "go-http-client",
            "curl/",
            "wget/",
            "libwww-perl",
            "nuclei",
        ],
        r"(?i)\b(?:sqlmap|nikto|nmap scripting engine|nmap|masscan|nuclei|gobuster|dirbuster|wpscan|acunetix|netsparker|zgrab|ffuf|fuzz faster u fool|wfuzz|hydra|havij|w3af|openvas|nessus|arachni|owasp[ _-]?zap|zaproxy|jaeles|commix|xsstrike|feroxbuster|dirb|burp(?:suite| collaborator)|qualysguard|whatweb|wapiti|skipfish|paros|joomscan|droopescan|appscan|webinspect|fimap|bsqlbf|sqlninja|morfeus|zmeu|interactsh|gotestwaf)\b",
    ),
    // Out-of-band callback domains used by scanners and exploit kits.
    (
        Class::Scanner,
        "scanner_oob_domain",
        0.8,
        &[
            "burpcollaborator",
            "oastify",
            "interact.sh",
            "interactsh",
            ".oast.",
            "dnslog.cn",
            "ceye.io",
            "requestbin",
            "canarytokens",
            "xss.ht",
            "bxss.me",
            "pipedream.net",
            "dnslog.link",
        ],
        r"(?i)(?:burpcollaborator\.net|oastify\.com|interact\.sh|interactsh\.com|\.oast\.(?:pro|live|site|online|fun|me)|dnslog\.(?:cn|link)|ceye\.io|requestbin\.\w+|canarytokens\.com|xss\.ht|bxss\.me|pipedream\.net)",
    ),
];

/// Commands whose appearance in a command position (after `;`, `|`, `&`, `` ` ``, `$(`, a
/// newline) means a shell command. Grouped by how specific they are.
const STRONG_CMDS: &[&str] = &[
    "cat",
    "id",
    "whoami",
    "uname",
    "wget",
    "curl",
    "nc",
    "ncat",
    "netcat",
    "bash",
    "sh",
    "zsh",
    "ksh",
    "dash",
    "csh",
    "tcsh",
    "ping",
    "nslookup",
    "getent",
    "ls",
    "ifconfig",
    "ipconfig",
    "passwd",
    "chmod",
    "chown",
    "rm",
    "python",
    "python2",
    "python3",
    "perl",
    "php",
    "ruby",
    "lua",
    "node",
    "powershell",
    "pwsh",
    "cmd",
    "cmd.exe",
    "certutil",
    "bitsadmin",
    "telnet",
    "ssh",
    "scp",
    "tftp",
    "ftp",
    "dig",
    "host",
    "net",
    "netstat",
    "systeminfo",
    "tasklist",
    "taskkill",
    "reg",
    "wmic",
    "mshta",
    "rundll32",
    "regsvr32",
    "cscript",
    "wscript",
    "xterm",
    "socat",
    "busybox",
    "base64",
    "xxd",
    "od",
    "hexdump",
    "awk",
    "gawk",
    "sed",
    "grep",
    "egrep",
    "find",
    "xargs",
    "env",
    "printenv",
    "crontab",
    "nohup",
    "sudo",
    "su",
    "useradd",
    "usermod",
    "kill",
    "killall",
    "pkill",
    "ps",
    "mkfifo",
    "mknod",
    "tar",
    "unzip",
    "gzip",
    "chattr",
    "dir",
    "type",
    "ver",
    "hostname",
    "pwd",
    "uptime",
    "w",
    "who",
    "last",
    "lsof",
    "ip",
    "route",
    "arp",
    "traceroute",
    "tracert",
    "expr",
    "eval",
    "exec",
    "sleep",
    "echo",
    "printf",
    "set",
    "head",
    "tail",
    "more",
    "less",
    "sort",
    "uniq",
    "wc",
    "touch",
    "mkdir",
    "cp",
    "mv",
    "ln",
    "timeout",
    "time",
    "start",
    "call",
    "copy",
    "del",
    "erase",
    "whoami.exe",
    "fsockopen",
    "openssl",
    "jrunscript",
    "java",
    "gcc",
    "make",
];
/// Commands that are also ordinary words: need an argument that looks like a shell argument.
const WEAK_CMDS: &[&str] = &[
    "echo", "printf", "set", "sleep", "type", "time", "start", "call", "copy", "del", "more",
    "less", "sort", "find", "kill", "head", "tail", "host", "net", "w", "who", "last", "ip",
    "route", "make", "expr", "eval", "exec", "dir", "ver", "env", "touch", "make", "cp", "mv",
    "ln", "su", "od", "wc", "ps", "rm", "nc", "sh", "cmd", "id", "ls", "cat", "dig", "reg", "ftp",
    "timeout", "java", "node", "php", "ruby", "lua", "perl", "python", "ping", "grep", "sed",
    "awk", "tar", "start", "base64", "pwd", "hostname", "uptime", "ssh", "telnet",
];

const SENSITIVE_FILES: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/hosts",
    "etc/issue",
    "etc/motd",
    "etc/sudoers",
    "etc/crontab",
    "etc/profile",
    "etc/bashrc",
    "etc/apache2/",
    "etc/httpd/",
    "etc/nginx/",
    "etc/mysql/",
    "etc/ssh/",
    "proc/self/",
    "proc/version",
    "proc/net/",
    "proc/1/",
    "var/log/",
    "var/run/secrets",
    "root/.",
    "home/",
    "boot.ini",
    "win.ini",
    "system.ini",
    "windows/system32",
    "windows/repair",
    "winnt/",
    "inetpub/",
    "ntuser.dat",
    "web-inf/",
    "meta-inf/",
    ".htaccess",
    ".htpasswd",
    ".env",
    ".git/",
    ".svn/",
    ".ssh/",
    "id_rsa",
    "id_dsa",
    "authorized_keys",
    "wp-config",
    "config.php",
    "settings.py",
    "application.properties",
    "appsettings.json",
    "web.config",
    "database.yml",
    "credentials",
    ".aws/",
    ".bash_history",
    "/c$/",
    "/admin$/",
    "sam",
    "system32/config",
];

impl Rules {
    pub fn new() -> anyhow::Result<Rules> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut pats: Vec<String> = Vec::new();
        let mut arms: Vec<Vec<u16>> = Vec::new();
        let mut add = |rule: Rule, triggers: &[&str], rules: &mut Vec<Rule>| {
            let idx = rules.len() as u16;
            rules.push(rule);
            for t in triggers {
                let t = t.to_ascii_lowercase();
                match pats.iter().position(|p| *p == t) {
                    Some(i) => {
                        if let Some(a) = arms.get_mut(i) {
                            a.push(idx);
                        }
                    }
                    None => {
                        pats.push(t);
                        arms.push(vec![idx]);
                    }
                }
            }
        };
        add(
            Rule {
                class: Class::Sqli,
                name: "sqli_libinjection",
                score: 0.8,
                check: Check::Sqli,
            },
            SQL_TRIG,
            &mut rules,
        );
        add(
            Rule {
                class: Class::Xss,
                name: "xss_libinjection",
                score: 0.85,
                check: Check::Xss,
            },
            &["<", ">", "\"", "'", "`", "javascript", "vbscript", "data:"],
            &mut rules,
        );
        add(
            Rule {
                class: Class::Rce,
                name: "rce_shell",
                score: 0.9,
                check: Check::Shell,
            },
            &[
                ";", "|", "&", "`", "$(", "\n", "\r", "${ifs", "$ifs", "\u{0}", "/bin/", "/usr/",
                "/etc/", " -", "<(", ">(", "-c ",
            ],
            &mut rules,
        );
        add(
            Rule {
                class: Class::Ptrav,
                name: "ptrav",
                score: 0.9,
                check: Check::Ptrav,
            },
            &[
                "..",
                "/etc/",
                "\\etc\\",
                "file:",
                "php:",
                "boot.ini",
                "win.ini",
                "c$",
                "admin$",
                "web-inf",
                "/proc/",
                "\\\\",
                "zip:",
                "phar:",
                "expect:",
                "data:",
                "glob:",
                "/var/",
                "system32",
                ".htaccess",
                ".htpasswd",
                "/.env",
                "/.git/",
                "id_rsa",
                "/root/",
                "\u{c0}\u{ae}",
                "\u{c0}\u{af}",
                "\u{e0}\u{80}\u{ae}",
            ],
            &mut rules,
        );
        add(
            Rule {
                class: Class::Ssrf,
                name: "ssrf_url",
                score: 0.85,
                check: Check::Ssrf,
            },
            &[
                "://",
                "169.254",
                "metadata",
                "localhost",
                "127.",
                "[::",
                "0x7f",
                "2130706433",
                "0177",
                "gopher:",
                "dict:",
                "@",
            ],
            &mut rules,
        );
        add(
            Rule {
                class: Class::Log4shell,
                name: "log4shell_jndi",
                score: 0.95,
                check: Check::Log4j,
            },
            &["${", "jndi", "%24%7b"],
            &mut rules,
        );
        add(
            Rule {
                class: Class::OpenRedirect,
                name: "open_redirect",
                score: 0.7,
                check: Check::Redirect,
            },
            &[
                "//", "\\\\", "/\\", "\\/", "@", ":/", "http:", "https:", "/%09", "/\t", "/%2f",
            ],
            &mut rules,
        );
        add(
            Rule {
                class: Class::Rce,
                name: "rce_callable_param",
                score: 0.85,
                check: Check::Callable,
            },
            PHP_EXEC_FUNCTIONS,
            &mut rules,
        );
        add(
            Rule {
                class: Class::Nosqli,
                name: "nosqli_key",
                score: 0.85,
                check: Check::NosqlKey,
            },
            &["$"],
            &mut rules,
        );
        for (class, name, score, triggers, re) in DEFS {
            // Byte-oriented, ASCII-only classes: `\b` and `\w` stay on the fast DFA even
            // when the text has non-ASCII letters (measured: 8x slower with Unicode on).
            let re = RegexBuilder::new(re)
                .unicode(false)
                .build()
                .map_err(|e| anyhow::anyhow!("rule {name}: {e}"))?;
            add(
                Rule {
                    class: *class,
                    name,
                    score: *score,
                    check: Check::Re(re, needed_byte(name)),
                },
                triggers,
                &mut rules,
            );
        }
        // A full DFA: the automaton runs over every value, raw and decoded, and the DFA is
        // the fastest kind for overlapping search (a few hundred patterns: a few MiB at most).
        let ac = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&pats)?;
        Ok(Rules { ac, arms, rules })
    }

    /// Runs every armed rule over `s` and appends what matched.
    pub fn scan(
        &self,
        s: &str,
        kind: PointKind,
        point: &str,
        excerpt_len: usize,
        min_score: f32,
        out: &mut Vec<Found>,
    ) {
        let mut armed = [0u64; 2];
        for m in self.ac.find_overlapping_iter(s) {
            if let Some(a) = self.arms.get(m.pattern().as_usize()) {
                for &r in a {
                    if let Some(w) = armed.get_mut(usize::from(r) / 64) {
                        *w |= 1u64 << (r % 64);
                    }
                }
            }
        }
        if armed == [0, 0] {
            return;
        }
        // SQL quoted as markdown code in prose ("the filter `status = 'open' OR x = 'y'` is
        // slow") is being talked about, not injected: the SQL checks read the prose without
        // its code spans.
        let prose_without_code = without_code_spans(s);
        let sql_text: &str = prose_without_code.as_deref().unwrap_or(s);
        for (i, rule) in self.rules.iter().enumerate() {
            let on = armed
                .get(i / 64)
                .is_some_and(|w| w & (1u64 << (i % 64)) != 0);
            if !on || !applies(rule.class, kind) {
                continue;
            }
            // Tool names are fingerprints in headers; in a search box they are search terms.
            if rule.name == "scanner_ua" && kind != PointKind::Header {
                continue;
            }
            let hit: Option<(f32, String, Option<String>)> = match &rule.check {
                Check::Re(re, needs) => {
                    if matches!(rule.class, Class::Crlf | Class::Mail)
                        && !single_line_context(s, kind)
                    {
                        continue;
                    }
                    if needs.is_some_and(|b| memchr::memchr(b, s.as_bytes()).is_none()) {
                        continue;
                    }
                    let text = if rule.class == Class::Sqli {
                        sql_text
                    } else {
                        s
                    };
                    re.find(text.as_bytes()).map(|m| {
                        (
                            rule.score,
                            String::from_utf8_lossy(m.as_bytes()).into_owned(),
                            None,
                        )
                    })
                }
                Check::Sqli => sqli(sql_text, kind, min_score),
                Check::Xss => xss(s),
                Check::Shell => shell(s),
                Check::Ptrav => ptrav(s, kind),
                Check::Ssrf => ssrf(s, kind, point),
                Check::Log4j => log4j(s),
                Check::Redirect => redirect(s, point),
                Check::NosqlKey => nosql_key(s, kind),
                Check::Callable => php_callable(s, point),
            };
            if let Some((score, ex, sub)) = hit {
                let rule_name = match sub {
                    Some(sub) => format!("{}:{sub}", rule.name),
                    None => rule.name.to_owned(),
                };
                let score = if score < 0.0 { rule.score } else { score };
                out.push(Found {
                    class: rule.class,
                    rule: rule_name,
                    score,
                    excerpt: excerpt(&ex, excerpt_len),
                });
            }
        }
    }
}

/// A byte that every match of the named regex rule contains and its triggers do not imply.
fn needed_byte(rule: &str) -> Option<u8> {
    match rule {
        // `on<event> =`
        "xss_handler" => Some(b'='),
        _ => None,
    }
}

/// A file extension is too short for anything but traversal tricks.
fn applies(class: Class, kind: PointKind) -> bool {
    match kind {
        PointKind::PathExt => matches!(class, Class::Ptrav),
        _ => true,
    }
}

/// Header splitting and mail injection live in values that end up in a header or an SMTP
/// line: short, a few line breaks. A multi-line comment or a YAML file is not that.
fn single_line_context(s: &str, kind: PointKind) -> bool {
    kind != PointKind::Body && s.bytes().filter(|&b| b == b'\n').count() <= 4
}

fn excerpt(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut e: String = s.chars().take(n).collect();
    e.push('…');
    e
}

type Hit = Option<(f32, String, Option<String>)>;

fn catch<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    // libinjectionrs is young: a panic on odd input must cost one check, not the sensor.
    std::panic::catch_unwind(f).ok()
}

/// True when a header value has a sign that SQL could break out of a literal or comment the
/// rest away: a quote, `#`, a `--` or `/*` comment opener, or the word SELECT. The media
/// range `*/*` (every Accept header) and the dash runs of multipart boundaries and PEM armour
/// (`----WebKitFormBoundary…`) are not comment openers.
fn header_may_hold_sql(s: &str) -> bool {
    let b = s.as_bytes();
    if s.contains(['\'', '"', '`', '#']) {
        return true;
    }
    let comment_slash = s
        .match_indices("/*")
        .any(|(i, _)| i == 0 || b.get(i - 1) != Some(&b'*'));
    let comment_dash = s.match_indices("--").any(|(i, _)| {
        let run_start = b
            .get(..i)
            .map_or(0, |p| p.iter().rev().take_while(|&&c| c == b'-').count());
        let run_end = b
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|&&c| c == b'-').count());
        run_start + run_end < 4
    });
    comment_slash || comment_dash || contains_ignore_case(b, b"select")
}

/// ASCII case-insensitive substring test without allocating.
fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The score a libinjection finding in `s` would get (before running libinjection, which is
/// the expensive part): prose (letters, spaces and an apostrophe or two) is where
/// libinjection is weakest, so it needs a second sign of SQL to be believed.
fn sqli_score(s: &str, kind: PointKind) -> f32 {
    let (mut letters, mut total) = (0usize, 0usize);
    for c in s.chars() {
        total += 1;
        if c.is_alphabetic() || c.is_whitespace() {
            letters += 1;
        }
    }
    let words = s.split_whitespace().count();
    let sql_comment = s.match_indices("--").any(|(i, _)| {
        s.get(i + 2..)
            .and_then(|r| r.chars().next())
            .is_none_or(|c| c.is_whitespace() || c.is_ascii_alphanumeric() || c == '+')
    });
    let prose = (letters * 10 >= total * 9 || (words >= 6 && letters * 4 >= total * 3))
        && !s.contains(['=', '(', ')', ';', '#', '*'])
        && !sql_comment;
    let mut score = if prose { 0.4 } else { 0.8 };
    // Browser headers (User-Agent, Accept) are full of parentheses and semicolons.
    if kind == PointKind::Header {
        score -= 0.1;
    }
    score
}

/// libinjection's SQL tokenizer, run only where its finding could be reported: it costs more
/// than every other check together, so the cheap reasons to skip it come first.
fn sqli(s: &str, kind: PointKind, min_score: f32) -> Hit {
    // Header values (User-Agent, Accept, ...) are full of `(`, `;` and `=`: in a header, SQL
    // needs a quote or a comment to break out; quote-less numeric forms are left to
    // `sqli_bool_num`.
    if kind == PointKind::Header && !header_may_hold_sql(s) {
        return None;
    }
    if kind == PointKind::Body && s.trim_start().starts_with('<') {
        // Whole XML documents: their text nodes are points of their own.
        return None;
    }
    let score = sqli_score(s, kind);
    if score < min_score {
        return None;
    }
    let b = s.as_bytes();
    // `SqliState` rather than `libinjectionrs::detect_sqli`: the latter tokenizes the whole
    // input once more after deciding, only to report a fingerprint; the state keeps the
    // fingerprint of the pass that decided.
    let fp = catch(|| {
        let mut state = libinjectionrs::SqliState::new(b, libinjectionrs::SqliFlags::FLAG_NONE);
        state.detect().then(|| state.fingerprint_string())
    })??;
    // Barewords joined by AND/OR in parentheses, and nothing else (`(shoes OR boots) AND
    // size:42`): search-box boolean syntax. Without a literal, number, keyword or comment
    // there is nothing for SQL to compare or run.
    if !fp.is_empty() && fp.bytes().all(|c| matches!(c, b'n' | b'&' | b'(' | b')')) {
        return None;
    }
    Some((score, s.to_owned(), Some(fp)))
}

/// Markup that can run script. libinjection's HTML5 tokenizer also flags harmless rich text
/// (`<iframe src=https://youtube…>`, XML documents, SAML): without one of these it is not
/// believed on its own.
const XSS_DANGER: &[&str] = &[
    "style=",
    "datasrc",
    "dataformatas",
    "<xml",
    "<vmlframe",
    "<xsl:",
    "xml-stylesheet",
    "xmlns:ev",
    "<image",
    "<path",
    "<div",
    "<p ",
    "<span",
    "javascript:",
    "vbscript:",
    "<script",
    "<svg",
    "<math",
    "<object",
    "<embed",
    "<base",
    "<meta",
    "<link",
    "<style",
    "<form",
    "<isindex",
    "<applet",
    "<frameset",
    "srcdoc",
    "expression(",
    "data:text",
    "data:image/svg",
    "<x ",
    "`",
    "formaction",
    "xlink:href",
    "<template",
    "<portal",
    "<frame",
    "<animate",
    "<set ",
    "<handler",
    "<listener",
    "<!entity",
    "<?import",
    "<xss",
    "background=",
    "dynsrc",
    "lowsrc",
    "<bgsound",
    "<layer",
    "<import",
    "<marquee",
    "<details",
    "<video",
    "<audio",
    "<body",
    "<html",
    "<input",
    "<keygen",
    "<textarea",
    "<select",
    "<button",
    "<img",
    "<iframe",
    "<a/",
    "<a ",
];

fn xss(s: &str) -> Hit {
    let b = s.as_bytes();
    let r = catch(|| libinjectionrs::detect_xss(b))?;
    if !r.is_injection() {
        return None;
    }
    let mut l = s.to_ascii_lowercase();
    // Browsers drop tabs and line breaks inside URLs: `j&Tab;ava&NewLine;script:` is
    // `javascript:`. The checks below read the markup without them.
    if l.contains(['\t', '\n', '\r']) {
        l.retain(|c| !matches!(c, '\t' | '\n' | '\r'));
    }
    // An XML document (SOAP, SAML, a feed) is markup, not an injection, unless it carries
    // script-capable parts.
    let xml_doc = l.trim_start().starts_with("<?xml ")
        && ![
            "<svg",
            "<script",
            "xml-stylesheet",
            "<xsl:",
            "xmlns:ev",
            "<iframe",
        ]
        .iter()
        .any(|d| l.contains(d));
    let danger = XSS_DANGER.iter().any(|d| l.contains(d));
    let score = if has_handler(&l) || (danger && !xml_doc && !benign_rich_text(&l)) {
        0.85
    } else {
        0.45
    };
    Some((score, s.to_owned(), None))
}

/// An event-handler attribute: a delimiter, `on`, three or more letters, optional space, `=`.
fn has_handler(l: &str) -> bool {
    let b = l.as_bytes();
    let mut i = 0;
    while let Some(off) = l.get(i..).and_then(|r| r.find("on")) {
        let at = i + off;
        i = at + 2;
        let before = at.checked_sub(1).and_then(|j| b.get(j)).copied();
        if !matches!(
            before,
            Some(b' ' | b'/' | b'"' | b'\'' | b'\t' | b'\n' | b'\r' | b';')
        ) {
            continue;
        }
        let name_len = b.get(at + 2..).map_or(0, |r| {
            r.iter().take_while(|c| c.is_ascii_alphabetic()).count()
        });
        if name_len < 3 {
            continue;
        }
        let after = b.get(at + 2 + name_len..).unwrap_or(&[]);
        let after = after
            .iter()
            .skip_while(|c| c.is_ascii_whitespace())
            .copied()
            .next();
        if after == Some(b'=') {
            return true;
        }
    }
    false
}

/// Rich text from an editor: tags only from a harmless set, no handler, no script URL.
fn benign_rich_text(l: &str) -> bool {
    const OK: &[&str] = &[
        "p",
        "/p",
        "b",
        "/b",
        "i",
        "/i",
        "em",
        "/em",
        "strong",
        "/strong",
        "a",
        "/a",
        "ul",
        "/ul",
        "ol",
        "/ol",
        "li",
        "/li",
        "br",
        "br/",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "/h1",
        "/h2",
        "/h3",
        "/h4",
        "img",
        "div",
        "/div",
        "span",
        "/span",
        "table",
        "/table",
        "tr",
        "/tr",
        "td",
        "/td",
        "th",
        "/th",
        "blockquote",
        "/blockquote",
        "code",
        "/code",
        "pre",
        "/pre",
        "figure",
        "/figure",
        "figcaption",
        "/figcaption",
        "iframe",
        "/iframe",
        "small",
        "/small",
        "sup",
        "/sup",
        "sub",
        "/sub",
        "u",
        "/u",
        "s",
        "/s",
        "tbody",
        "/tbody",
        "thead",
        "/thead",
    ];
    // CSS that loads or runs something, CSS escapes, data binding: not plain rich text.
    if [
        "javascript:",
        "vbscript:",
        "data:",
        "srcdoc",
        "expression",
        "`",
        "url(",
        "behavior",
        "behaviour",
        "binding",
        "@import",
        "\\",
        "datasrc",
        "view-source:",
        "sandbox",
    ]
    .iter()
    .any(|d| l.contains(d))
    {
        return false;
    }
    l.split('<').skip(1).all(|t| {
        let name: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        name.is_empty() || OK.contains(&name.as_str())
    })
}

/// Normalises shell evasions: quotes and backslashes inside words, `$IFS`, `${IFS}`, `$9`.
/// Borrowed when there is nothing to normalise (most values), so the common case costs one
/// byte scan and no allocation.
fn shell_normalise(s: &str) -> Cow<'_, str> {
    if !s.contains(['$', '\'', '"', '\\', '^', '\0']) {
        return Cow::Borrowed(s);
    }
    let mut t = s
        .replace("${IFS}", " ")
        .replace("$IFS$9", " ")
        .replace("$IFS", " ")
        .replace("$@", "")
        .replace("$9", "");
    t.retain(|c| c != '\'' && c != '"' && c != '\\' && c != '^' && c != '\0');
    Cow::Owned(t)
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

fn shell(s: &str) -> Hit {
    let t = shell_normalise(s);
    let bytes = t.as_bytes();
    let mut best: Hit = None;
    // Command positions: the start, or after a separator, with how sure the separator is.
    let mut positions: Vec<(usize, Sep)> = vec![(0, Sep::Start)];
    // Counted only when a backtick needs it: this runs on every value with a `;` or `&`.
    let word_count = std::cell::OnceCell::new();
    let words = || *word_count.get_or_init(|| t.split_whitespace().count());
    // `-c id`: the argument of `sh -c` is a command line.
    if let Some(rest) = t.trim_start().strip_prefix("-c ") {
        positions.push((t.len() - rest.len(), Sep::DashC));
    }
    // Markdown in prose: `code spans` and ```fenced blocks``` quote commands, they do not run
    // them. When backticks pair up in text of many words, nothing inside them is a position.
    let ticks = memchr::memchr_iter(b'`', bytes).count();
    let quoted_code = ticks >= 2 && ticks.is_multiple_of(2) && words() >= 6;
    let mut in_code = false;
    let mut i = 0;
    while i < bytes.len() && positions.len() < 64 {
        let c = bytes.get(i).copied().unwrap_or(0);
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        if quoted_code && c == b'`' {
            in_code = !in_code;
            i += 1;
            continue;
        }
        if in_code {
            i += 1;
            continue;
        }
        match c {
            b';' | b'\n' | b'\r' => positions.push((i + 1, Sep::Strong)),
            // `&copy;` and `&#39;` are HTML entities, not background jobs.
            b'&' if is_entity(t.get(i + 1..).unwrap_or("")) => {}
            // A lone `&` is also English ("salt & pepper", "& more").
            b'&' if next != b'&' => positions.push((i + 1, Sep::Weak)),
            b'|' | b'&' => positions.push((i + 1 + usize::from(next == c), Sep::Strong)),
            // Backticks: command substitution, unless it reads as markdown code in prose
            // (a space before the opening backtick, many words around).
            b'`' => {
                let before = i.checked_sub(1).and_then(|j| bytes.get(j)).copied();
                if !(matches!(before, Some(b' ' | b'\n' | b'(')) && words() >= 6) {
                    positions.push((i + 1, Sep::Strong));
                }
            }
            b'$' if next == b'(' => positions.push((i + 2, Sep::Strong)),
            b'<' | b'>' if next == b'(' => positions.push((i + 2, Sep::Strong)),
            _ => {}
        }
        if matches!(c, b'|' | b'&') && next == c {
            i += 1;
        }
        i += 1;
    }
    for (pos, kind) in positions {
        let sep = kind != Sep::Start;
        let rest = t.get(pos..).unwrap_or("");
        let rest = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || c == '(' || c == '{' || c == '!' || c == '+'
        });
        // `/???/??t /???/p??s??`: a binary named by a glob, so no word list can match it.
        if sep && globbed_path(rest) {
            if best.as_ref().is_none_or(|b| b.0 < 0.85) {
                best = Some((0.85, rest.chars().take(80).collect(), Some("glob".into())));
            }
            continue;
        }
        let word_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = rest.get(..word_len).unwrap_or("");
        let after = rest.get(word_len..).unwrap_or("");
        // `/bin/cat` → `cat`; `cmd.exe` stays.
        let base = word.rsplit('/').next().unwrap_or(word);
        // No command name is longer than 16 bytes; a longer word is not one (and is not
        // lower-cased into a fresh string just to find that out).
        if base.is_empty() || base.len() > 16 {
            continue;
        }
        let mut lower_buf = [0u8; 16];
        let Some(lower) = lower_buf.get_mut(..base.len()) else {
            continue;
        };
        lower.copy_from_slice(base.as_bytes());
        lower.make_ascii_lowercase();
        let Ok(base) = std::str::from_utf8(lower) else {
            continue;
        };
        if !STRONG_CMDS.contains(&base) {
            continue;
        }
        // The word must end there: `id=5` is a parameter, not the `id` command.
        let end = after.chars().next();
        if !matches!(
            end,
            None | Some(
                ' ' | '\t'
                    | ';'
                    | '|'
                    | '&'
                    | '`'
                    | ')'
                    | '>'
                    | '<'
                    | '\n'
                    | '\r'
                    | '+'
                    | '}'
                    | '$'
            )
        ) {
            continue;
        }
        let args = after.trim_start_matches([' ', '\t', '+']);
        let digit_arg = args
            .get(..1)
            .is_some_and(|c| c.chars().all(|c| c.is_ascii_digit()));
        let shelly_args = args.starts_with(['-', '/', '$', '>', '<', '|', ';', '`', '~', '.'])
            || (sep && digit_arg)
            || args.contains("/etc/")
            || args.contains("/bin/")
            || args.contains("/tmp/")
            || args.contains("http://")
            || args.contains("https://")
            || args.contains(".sh")
            || windows_path(args)
            || word.starts_with('/');
        // The command ends right there (`; id`, `$(id)`, `| id #`, `&& id;`).
        let bare = args.is_empty() || args.starts_with([')', '`', ';', '|', '&', '#', '}']);
        let weak = WEAK_CMDS.contains(&base);
        let score = match (sep, weak, shelly_args) {
            // `sh -c id`: whatever follows `-c` is a command line.
            _ if kind == Sep::DashC => 0.85,
            // `; cat /etc/passwd`, `| whoami`
            (true, false, _) => 0.9,
            // `; id`, `$(id)`: a command word alone between shell separators. Lower case only,
            // as a shell needs it: "Products | More" is a page title.
            (true, true, false)
                if bare && kind == Sep::Strong && !word.bytes().any(|c| c.is_ascii_uppercase()) =>
            {
                0.85
            }
            (true, true, true) => 0.85,
            // `; sleep well` in prose: a separator and a word that is also English.
            (true, true, false) => {
                if args.is_empty()
                    && (t.trim_end().ends_with(base) || t.contains('`'))
                    && !t.contains(' ')
                {
                    0.8
                } else {
                    0.3
                }
            }
            // At the very start with shell-looking arguments: `cat /etc/passwd`, `ls -la`; a
            // sentence that starts with a command name (`rm -rf is dangerous`) is prose.
            (false, _, true)
                if !args.is_empty()
                    && (t.split_whitespace().count() <= 4
                        || args.contains("/etc/")
                        || args.contains("/bin/")
                        || args.contains("http")) =>
            {
                0.7
            }
            _ => 0.0,
        };
        if score > best.as_ref().map_or(0.0, |b| b.0) {
            let ex: String = rest.chars().take(80).collect();
            best = Some((score, ex, None));
        }
    }
    best
}

/// Prose of eight words or more with paired backticks, its code spans removed; `None` when
/// `s` is not that (most values: one byte scan).
fn without_code_spans(s: &str) -> Option<String> {
    let ticks = memchr::memchr_iter(b'`', s.as_bytes()).count();
    if ticks < 2 || !ticks.is_multiple_of(2) || s.split_whitespace().nth(7).is_none() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        } else {
            out.push(' ');
        }
    }
    Some(out)
}

/// How a command position was reached.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// The start of the value.
    Start,
    /// A lone `&`, which prose uses too.
    Weak,
    /// `;`, `|`, `||`, `&&`, a line break, `` ` ``, `$(`, `<(`, `>(`.
    Strong,
    /// The argument of `sh -c`.
    DashC,
}

/// `/???/??t` or `/bin/c*t`: an absolute path with glob characters in it, at least two deep.
fn globbed_path(rest: &str) -> bool {
    let tok = rest.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    tok.starts_with('/')
        && tok.matches('/').count() >= 2
        && tok.contains(['?', '*'])
        && tok.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '?' | '*' | '[' | ']' | '.' | '_' | '-')
        })
}

/// `c:\`, `C:/Windows`, `c:` (its backslash normalised away): a Windows drive path as a
/// command argument.
fn windows_path(args: &str) -> bool {
    let b = args.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.get(1) == Some(&b':')
        && matches!(b.get(2), None | Some(b'\\' | b'/' | b' '))
}

/// `name;`, `#123;` or `#x1f;` at the start of `s`.
fn is_entity(s: &str) -> bool {
    let body = s
        .strip_prefix('#')
        .map_or(s, |r| r.strip_prefix(['x', 'X']).unwrap_or(r));
    let n = body
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    (2..=10).contains(&n) && body.as_bytes().get(n) == Some(&b';')
}

fn ptrav(s: &str, kind: PointKind) -> Hit {
    // Stream wrappers first: the slash collapsing below would turn `php://` into `php:/`.
    let raw = s.to_ascii_lowercase();
    let rt = raw.trim_start();
    if let Some(w) = ["php://filter", "php://input", "phar://", "expect://"]
        .iter()
        .find(|w| raw.contains(*w))
    {
        return Some((0.9, (*w).to_owned(), Some("wrapper".into())));
    }
    if let Some(w) = ["file:/", "zip://", "glob://", "data://text", "php://"]
        .iter()
        .find(|w| {
            // `file:///etc/hosts` yes; "file:// protocol explained" no.
            rt.strip_prefix(*w).is_some_and(|r| {
                r.trim_start_matches('/')
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_whitespace())
            })
        })
    {
        return Some((0.9, (*w).to_owned(), Some("wrapper".into())));
    }
    // Normalise: backslashes, overlong UTF-8 dots and slashes, `..;/`, doubled slashes.
    let mut t = s
        .replace('\\', "/")
        .replace("\u{c0}\u{ae}", ".")
        .replace("\u{c0}\u{af}", "/")
        .replace("\u{e0}\u{80}\u{ae}", ".")
        .replace(";/", "/");
    while t.contains("//") && t.len() < 1 << 20 {
        let n = t.replace("//", "/");
        if n.len() == t.len() {
            break;
        }
        t = n;
    }
    let l = t.to_ascii_lowercase();
    // Longest run of consecutive `../`: `../../..` climbs, two unrelated `../` in a URL do not.
    let mut ups = 0usize;
    let mut run = 0usize;
    let mut rest = l.as_str();
    while let Some(i) = rest.find("../") {
        run = if i == 0 { run + 1 } else { 1 };
        ups = ups.max(run);
        rest = rest.get(i + 3..).unwrap_or("");
    }
    if l.ends_with("/..") || l.contains("....") {
        ups = ups.max(1);
    }
    let sensitive = SENSITIVE_FILES.iter().find(|f| l.contains(*f));
    let lt = l.trim_start();
    let wrapper = ["php://filter", "php://input", "phar://", "expect://"]
        .iter()
        .find(|w| l.contains(*w))
        .or_else(|| {
            ["file:/", "zip://", "glob://", "data://text", "php://"]
                .iter()
                .find(|w| {
                    // `file:///etc/hosts` yes; "file:// protocol explained" no.
                    lt.strip_prefix(*w).is_some_and(|r| {
                        r.trim_start_matches('/')
                            .chars()
                            .next()
                            .is_some_and(|c| !c.is_whitespace())
                    })
                })
        });
    if let Some(w) = wrapper {
        return Some((0.9, (*w).to_owned(), Some("wrapper".into())));
    }
    // UNC paths to admin shares: `\\host\c$\...`.
    if l.starts_with("/")
        && s.starts_with("\\\\")
        && (l.contains("/c$/") || l.contains("/admin$/") || sensitive.is_some())
    {
        return Some((0.9, excerpt(s, 80), Some("unc".into())));
    }
    // A parameter that is nothing but a climb (`../`, `..\\..`): no form field holds that.
    let only_climb = ups >= 1
        && matches!(kind, PointKind::Value | PointKind::Header)
        && l.trim().chars().all(|c| c == '.' || c == '/')
        && l.trim().contains("..");
    match (ups, sensitive) {
        (n, Some(f)) if n >= 1 => Some((0.95, format!("../ {f}"), Some("sensitive".into()))),
        _ if only_climb => Some((0.7, excerpt(&t, 80), Some("climb-only".into()))),
        (n, None) if n >= 3 => Some((0.8, excerpt(&t, 80), Some("deep".into()))),
        (n, None) if n >= 2 && kind != PointKind::Body => {
            Some((0.6, excerpt(&t, 80), Some("dotdot".into())))
        }
        (0, Some(f)) => {
            // An absolute path to a well-known secret: `/etc/passwd`, `c:/windows/win.ini`.
            let abs = l.starts_with('/') || l.get(1..3) == Some(":/") || l.starts_with("file:");
            let strong = [
                "etc/passwd",
                "etc/shadow",
                "boot.ini",
                "win.ini",
                "system.ini",
                "proc/self/",
                "web-inf/web.xml",
                "ntuser.dat",
                "id_rsa",
                ".htpasswd",
            ]
            .iter()
            .any(|x| l.contains(x));
            if strong && (abs || kind != PointKind::Path) && kind != PointKind::Body {
                Some((0.85, (*f).to_owned(), Some("absolute".into())))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The host of every `scheme://` URL in `s`.
fn url_hosts(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.match_indices("://").take(16).filter_map(move |(i, _)| {
        let scheme_start = s
            .get(..i)?
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |j| j + 1);
        let scheme = s.get(scheme_start..i)?;
        let rest = s.get(i + 3..)?;
        let auth_end = rest
            .find(['/', '?', '#', '\\', ' ', '"', '\'', '<', '>'])
            .unwrap_or(rest.len());
        let auth = rest.get(..auth_end)?;
        let host = auth.rsplit('@').next()?;
        Some((scheme, host))
    })
}

/// True for hosts that point inside: loopback, private ranges, link-local/metadata, and the
/// odd notations (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) that parse to them.
fn internal_host(host: &str) -> Option<&'static str> {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let h = if let Some(v6) = h.strip_prefix('[') {
        let v6 = v6.split(']').next().unwrap_or("");
        // Parsed, so `[::ffff:a9fe:a9fe]` (169.254.169.254) and `[0:0::1]` are seen for what
        // they are, whatever the spelling.
        if let Ok(a) = v6.parse::<std::net::Ipv6Addr>() {
            if a.is_loopback() || a.is_unspecified() {
                return Some("ipv6-internal");
            }
            if let Some(v4) = a.to_ipv4_mapped() {
                return internal_host(&v4.to_string());
            }
            let first = a.segments()[0];
            if first & 0xffc0 == 0xfe80 || first & 0xfe00 == 0xfc00 {
                return Some("ipv6-internal");
            }
            return None;
        }
        if v6 == "::1"
            || v6 == "::"
            || v6.starts_with("fe80")
            || v6.starts_with("fd")
            || v6.starts_with("fc")
            || v6.contains("ffff:127.")
            || v6.contains("ffff:7f")
            || v6.contains("ffff:169.254")
            || v6 == "0:0:0:0:0:0:0:1"
        {
            return Some("ipv6-internal");
        }
        return None;
    } else {
        h.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(h.clone(), |(a, _)| a.to_owned())
    };
    if h == "localhost"
        || h.ends_with(".localhost")
        || h == "metadata.google.internal"
        || h == "metadata"
        || h.ends_with(".internal")
        || h == "kubernetes.default"
        || h.starts_with("kubernetes.default.")
        || h == "localtest.me"
        || h.ends_with(".localtest.me")
    {
        return Some("internal-name");
    }
    if h.ends_with(".nip.io") || h.ends_with(".xip.io") || h.ends_with(".sslip.io") {
        let first = h.split(".nip.io").next().unwrap_or("");
        if first.contains("127.0.0.1")
            || first.contains("169.254.")
            || first.contains("10.")
            || first.contains("192.168.")
        {
            return Some("wildcard-dns-internal");
        }
    }
    let ip = parse_ipv4_loose(&h)?;
    let o = ip.octets();
    let [a, b, ..] = o;
    if ip.is_loopback() || ip.is_unspecified() {
        Some("loopback")
    } else if a == 169 && b == 254 || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("metadata")
    } else if ip.is_private() {
        Some("private")
    } else {
        None
    }
}

/// Parses IPv4 the way `inet_aton` does: 1–4 parts, each decimal, octal (`0` prefix) or hex.
fn parse_ipv4_loose(h: &str) -> Option<Ipv4Addr> {
    if h.is_empty()
        || !h
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c == 'x')
    {
        return None;
    }
    let parts: Vec<&str> = h.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(x) = p.strip_prefix("0x") {
            u64::from_str_radix(x, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(p, 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        nums.push(v);
    }
    let v: u64 = match nums.as_slice() {
        [a] => *a,
        [a, b] => (a << 24) | b,
        [a, b, c] => (a << 24) | (b << 16) | c,
        [a, b, c, d] => (a << 24) | (b << 16) | (c << 8) | d,
        _ => return None,
    };
    if v > u64::from(u32::MAX) {
        return None;
    }
    Some(Ipv4Addr::from(v as u32))
}

/// Headers that name the page a browser came from: an internal address there is the intranet
/// page that linked to this one, not a URL the server will fetch.
fn names_the_referring_page(point: &str) -> bool {
    matches!(point, "header.referer" | "header.origin")
}

fn ssrf(s: &str, kind: PointKind, point: &str) -> Hit {
    let l = s.to_ascii_lowercase();
    for m in [
        "169.254.169.254",
        "metadata.google.internal",
        "/latest/meta-data",
        "computemetadata/v1",
        "100.100.100.200",
        "/metadata/instance?api-version",
        "fd00:ec2::254",
    ] {
        if l.contains(m) {
            return Some((0.95, m.to_owned(), Some("metadata".into())));
        }
    }
    for (scheme, host) in url_hosts(s) {
        let sch = scheme.to_ascii_lowercase();
        if matches!(
            sch.as_str(),
            "gopher" | "dict" | "tftp" | "ldap" | "jar" | "netdoc" | "sftp"
        ) {
            return Some((0.85, format!("{scheme}://{host}"), Some(sch)));
        }
        if let Some(why) = internal_host(host) {
            if names_the_referring_page(point) {
                continue;
            }
            let score = if why == "private" { 0.6 } else { 0.8 };
            return Some((score, format!("{scheme}://{host}"), Some(why.into())));
        }
    }
    // A bare host or IP in odd notation: `0x7f000001`, `2130706433`, `0177.0.0.1`.
    let t = s.trim();
    // A scheme-less internal host with a path, `localhost/owa/auth.aspx` or
    // `127.0.0.1:8080/admin`, where a back end builds a URL from a parameter or cookie.
    if kind != PointKind::Header && !t.contains(char::is_whitespace) {
        if let Some((host, path)) = t.split_once('/') {
            // `127.0.0.1/8` is a CIDR block in a firewall form, not a URL.
            let cidr = !path.is_empty() && path.bytes().all(|c| c.is_ascii_digit());
            if !host.is_empty() && !cidr && !host.contains(['@', '?', '=']) {
                if let Some(why) = internal_host(host) {
                    if why != "private" {
                        return Some((0.7, excerpt(t, 80), Some(format!("host-path-{why}"))));
                    }
                }
            }
        }
    }
    if t.len() <= 64 && !t.contains(' ') {
        let host = t.split(['/', '?']).next().unwrap_or("");
        let odd = host.starts_with("0x")
            || host.starts_with("0177")
            || (host.chars().all(|c| c.is_ascii_digit()) && host.len() >= 9 && host.len() <= 10)
            || host == "127.1"
            || host.starts_with("[::");
        if odd {
            if let Some(why) = internal_host(host) {
                return Some((0.7, host.to_owned(), Some(format!("odd-ip-{why}"))));
            }
        }
    }
    None
}

fn log4j(s: &str) -> Hit {
    let l = s.to_ascii_lowercase();
    if !l.contains("${") {
        return None;
    }
    // Unfold `${lower:j}`, `${::-n}`, `${env:X:-d}`, `${upper:i}` until stable.
    let mut t = l.clone();
    for _ in 0..12 {
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        let mut changed = false;
        while let Some(i) = rest.find("${") {
            out.push_str(rest.get(..i).unwrap_or(""));
            let after = rest.get(i + 2..).unwrap_or("");
            let close = after.find('}');
            let open = after.find("${");
            match close {
                Some(c) if open.is_none_or(|o| o > c) => {
                    let inner = after.get(..c).unwrap_or("");
                    let unfolded = if let Some(v) = inner
                        .strip_prefix("lower:")
                        .or_else(|| inner.strip_prefix("upper:"))
                    {
                        Some(v.to_owned())
                    } else {
                        inner
                            .find(":-")
                            .map(|j| inner.get(j + 2..).unwrap_or("").to_owned())
                    };
                    match unfolded {
                        Some(v) => {
                            out.push_str(&v);
                            changed = true;
                        }
                        None => {
                            out.push_str("${");
                            out.push_str(inner);
                            out.push('}');
                        }
                    }
                    rest = after.get(c + 1..).unwrap_or("");
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        if !changed || out.len() > t.len() {
            t = out;
            break;
        }
        t = out;
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(i) = compact.find("${jndi:") {
        return Some((0.95, compact.chars().skip(i).take(80).collect(), None));
    }
    for p in [
        "${env:",
        "${sys:",
        "${java:",
        "${ctx:",
        "${main:",
        "${bundle:",
        "${docker:",
        "${k8s:",
        "${spring:",
        "${web:",
        "${log4j:",
    ] {
        if compact.contains(p) {
            return Some((0.7, p.to_owned(), Some("lookup".into())));
        }
    }
    None
}

/// Parameter names that carry a redirect target.
const REDIRECT_NAMES: &[&str] = &[
    "redirect",
    "redir",
    "url",
    "next",
    "return",
    "returnurl",
    "return_url",
    "returnto",
    "return_to",
    "goto",
    "dest",
    "destination",
    "continue",
    "target",
    "forward",
    "callback",
    "to",
    "out",
    "r",
    "u",
    "back",
    "successurl",
    "success_url",
    "redirect_uri",
    "redirect_url",
    "location",
    "checkout_url",
    "go",
    "view",
    "login_url",
    "logout",
    "image_url",
    "link",
    "ref",
];

/// True when the last part of a point name says it carries a redirect target: one of
/// [`REDIRECT_NAMES`], `<anything>_<one of them>`, or anything with "redirect" in it.
/// Allocation-free: it runs on every value the prefilter arms for `open_redirect`.
fn redirect_name(point: &str) -> bool {
    let name = point.rsplit('.').next().unwrap_or("");
    if name.len() > 64 {
        let l = name.to_ascii_lowercase();
        return l.contains("redirect")
            || REDIRECT_NAMES
                .iter()
                .any(|n| l.strip_suffix(n).is_some_and(|r| r.ends_with('_')));
    }
    let mut buf = [0u8; 64];
    let Some(lower) = buf.get_mut(..name.len()) else {
        return false;
    };
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    REDIRECT_NAMES.iter().any(|n| {
        let n = n.as_bytes();
        lower == n
            || (lower.len() > n.len()
                && lower.ends_with(n)
                && lower.get(lower.len() - n.len() - 1) == Some(&b'_'))
    }) || lower.windows(8).any(|w| w == b"redirect")
}

fn redirect(s: &str, point: &str) -> Hit {
    if !redirect_name(point) {
        return None;
    }
    let t = s.trim();
    let l = t.to_ascii_lowercase();
    let odd_start = [
        "//",
        "/\\",
        "\\\\",
        "\\/",
        "/%09/",
        "/%2f",
        "/\t/",
        "https:/\\",
        "http:/\\",
        "https:\\\\",
        "http:\\\\",
        "///",
        "https:///",
        "http:///",
        "/.\\",
    ]
    .iter()
    .any(|p| l.starts_with(p));
    let scheme_no_slash = (l.starts_with("http:") || l.starts_with("https:")) && !l.contains("://");
    let userinfo = url_hosts(t).next().is_some_and(|(_, _)| {
        let after = l.split("://").nth(1).unwrap_or("");
        let auth = after.split(['/', '?', '#']).next().unwrap_or("");
        auth.contains('@')
    });
    if odd_start || scheme_no_slash || userinfo {
        return Some((-1.0, excerpt(t, 80), None));
    }
    None
}

/// PHP functions that run commands or code when a framework calls a parameter's value.
const PHP_EXEC_FUNCTIONS: &[&str] = &[
    "system",
    "passthru",
    "shell_exec",
    "exec",
    "popen",
    "proc_open",
    "pcntl_exec",
    "assert",
    "call_user_func",
    "call_user_func_array",
    "create_function",
];

/// A parameter a framework calls as a function (`filter[]=system`, `callback=`,
/// `vars[0]=system`) whose value is a command-running function: callback injection
/// (ThinkPHP `invokefunction`/`__construct` filters and their kind).
fn php_callable(s: &str, point: &str) -> Hit {
    let v = s.trim();
    if !PHP_EXEC_FUNCTIONS.iter().any(|f| v.eq_ignore_ascii_case(f)) {
        return None;
    }
    // The last name of the point that is not an array index.
    let name = point
        .rsplit('.')
        .find(|p| !p.is_empty() && !p.bytes().all(|c| c.is_ascii_digit()))
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        name.as_str(),
        "filter" | "callback" | "function" | "func" | "cb" | "call" | "vars" | "handler"
    )
    .then(|| (-1.0, format!("{name}={v}"), None))
}

/// Mongo operators used as keys: `user[$ne]=`, `{"$gt": ""}`.
fn nosql_key(s: &str, kind: PointKind) -> Hit {
    if kind != PointKind::Key {
        return None;
    }
    const OPS: &[&str] = &[
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$regex",
        "$where",
        "$exists",
        "$or",
        "$and",
        "$nor",
        "$not",
        "$expr",
        "$elemmatch",
        "$function",
        "$accumulator",
        "$lookup",
        "$size",
        "$type",
        "$all",
        "$jsonschema",
    ];
    let l = s.to_ascii_lowercase();
    for seg in l.split(['[', ']', '.']) {
        if OPS.contains(&seg) {
            return Some((-1.0, s.to_owned(), None));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_ipv4() {
        assert_eq!(
            parse_ipv4_loose("2130706433"),
            Some(Ipv4Addr::new(127, 0, 0, 1))
        );
        assert_eq!(
            parse_ipv4_loose("0x7f000001"),
            Some(Ipv4Addr::new(127, 0, 0, 1))
        );
        assert_eq!(
            parse_ipv4_loose("0177.0.0.1"),
            Some(Ipv4Addr::new(127, 0, 0, 1))
        );
        assert_eq!(parse_ipv4_loose("127.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_ipv4_loose("99999999999"), None);
        assert_eq!(parse_ipv4_loose("example"), None);
        assert_eq!(internal_host("169.254.169.254:80"), Some("metadata"));
        assert_eq!(internal_host("example.com"), None);
        assert_eq!(internal_host("[::1]:8080"), Some("ipv6-internal"));
    }

    #[test]
    fn shell_positions() {
        assert!(shell("; cat /et'c/pa'ss'wd").is_some_and(|h| h.0 >= 0.5));
        assert!(shell(";getent$IFS$9hosts$IFS$9x;").is_some_and(|h| h.0 >= 0.5));
        assert!(shell("127.0.0.1 && ls /etc").is_some_and(|h| h.0 >= 0.5));
        assert!(shell("echo in the mirror").is_none_or(|h| h.0 < 0.5));
        assert!(shell("nc 8000 controller").is_none_or(|h| h.0 < 0.5));
        assert!(shell("Tom & Jerry; salt & pepper").is_none_or(|h| h.0 < 0.5));
        assert!(shell("a=1&id=5&cat=shoes").is_none_or(|h| h.0 < 0.5));
    }

    #[test]
    fn jndi_unfolding() {
        assert!(log4j("${jndi:ldap://x/a}").is_some());
        assert!(log4j("${${lower:j}${::-n}di:ldap://x}").is_some());
        assert!(log4j("${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://x}").is_some());
        assert!(log4j("price: ${amount}").is_none());
        assert!(log4j("${${${${${${${${${${${${${${").is_none());
    }
}
