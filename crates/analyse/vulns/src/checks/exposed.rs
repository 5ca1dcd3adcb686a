//! Exposed files (`exposed_file`) and admin consoles (`exposed_admin`) answering 200 **with
//! content that matches what was asked for**: a soft-404 page or a single-page-app fallback
//! (HTML for every path) must not count, so each path kind has a body test —
//!
//! - `.git/HEAD` starts with `ref: ` or a commit id, `.git/config` has `[core]`, `.git/index`
//!   starts with `DIRC`; `.svn/wc.db` is an SQLite file; `.hg/` metadata.
//! - `.env*`: most non-comment lines are `NAME=value`, and it is not HTML.
//! - `.DS_Store`: the `Bud1` magic.
//! - backups (`.bak`, `.old`, `.orig`, `.save`, `.swp`, `~`, `.backup`): source code of the
//!   original's language (`<?php`, `<%`, …), a Vim swap header, or any non-HTML body when the
//!   original is not a page.
//! - dumps (`.sql`, `.dump`): `CREATE TABLE`, `INSERT INTO` or a dump header.
//! - archives (`.zip`, `.tar`, `.tar.gz`, `.tgz`, `.gz`, `.7z`, `.rar`) whose name looks like a
//!   site backup (`backup`, `site`, `www`, `db`, `dump`, the host's name …) and whose bytes
//!   start with the format's magic number.
//! - consoles: phpMyAdmin, Tomcat manager, Spring Boot actuator, Apache `server-status` and
//!   `server-info`, nginx `stub_status`, the Werkzeug console, each by its page content.

use super::{Ctx, Hit, Kind};
use crate::text::{excerpt, find_ci, looks_like_html_page, memchr_ci, starts_with_ci, trim_start};
use periscope_model::Severity;

/// Runs both checks on a 200 response.
pub fn check(ctx: &Ctx<'_>, raw_body: &[u8], hits: &mut Vec<Hit>) {
    if ctx.status() != 200 || raw_body.is_empty() {
        return;
    }
    let path = ctx.path.to_ascii_lowercase();
    let last = path.rsplit('/').next().unwrap_or("");
    if let Some((what, severity)) = exposed_file(&path, last, ctx.host, raw_body) {
        hits.push(Hit::endpoint(
            Kind::ExposedFile,
            severity,
            format!("{what} served"),
            evidence(raw_body),
            what,
        ));
        return;
    }
    if let Some((what, severity)) = exposed_admin(&path, raw_body) {
        hits.push(Hit::endpoint(
            Kind::ExposedAdmin,
            severity,
            format!("{what} reachable"),
            evidence(raw_body),
            what,
        ));
    }
}

fn evidence(body: &[u8]) -> String {
    let head = &body[..body.len().min(120)];
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ' || **b == b'\n')
        .count();
    if printable * 10 >= head.len() * 9 {
        excerpt(body, 0, 0, 0).chars().take(120).collect()
    } else {
        let hex: Vec<String> = head.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{} bytes, starting {}", body.len(), hex.join(" "))
    }
}

fn exposed_file(
    path: &str,
    last: &str,
    host: &str,
    body: &[u8],
) -> Option<(&'static str, periscope_model::Severity)> {
    let text = trim_start(body);
    if path.contains("/.git/") || path.ends_with("/.git") {
        let ok = if last == "head" || last == "orig_head" || last == "fetch_head" {
            starts_with_ci(text, b"ref: refs/")
                || (text.len() >= 40 && text[..40].iter().all(u8::is_ascii_hexdigit))
        } else if last == "config" {
            memchr_ci(&body[..body.len().min(4096)], b"[core]")
        } else if last == "index" {
            body.starts_with(b"DIRC")
        } else {
            memchr_ci(&body[..body.len().min(4096)], b"repositoryformatversion")
                || starts_with_ci(text, b"ref: refs/")
        };
        return ok.then_some(("Git repository metadata (.git)", Severity::High));
    }
    if path.contains("/.svn/") {
        let ok = body.starts_with(b"SQLite format 3\0")
            || (last == "entries"
                && (text.starts_with(b"12") || text.starts_with(b"10") || text.starts_with(b"8"))
                && !looks_like_html_page(body));
        return ok.then_some(("Subversion metadata (.svn)", Severity::High));
    }
    if path.contains("/.hg/") {
        let ok = (last == "requires" && memchr_ci(body, b"revlogv1"))
            || (last == "hgrc" && memchr_ci(body, b"[paths]"));
        return ok.then_some(("Mercurial metadata (.hg)", Severity::High));
    }
    if last == ".env" || last.starts_with(".env.") {
        return is_env_file(body).then_some(("Environment file (.env)", Severity::High));
    }
    if last == ".ds_store" {
        return (body.len() >= 8 && &body[4..8] == b"Bud1")
            .then_some(("macOS .DS_Store file", Severity::Low));
    }
    if let Some(original) = backup_original(last) {
        return is_backup_of(original, body).then_some(("Backup file", Severity::High));
    }
    if last.ends_with(".sql") || last.ends_with(".dump") || last.ends_with(".sql.gz") {
        let head = &body[..body.len().min(64 * 1024)];
        let ok = body.starts_with(&[0x1f, 0x8b])
            || (!looks_like_html_page(body)
                && (find_ci(head, b"create table").is_some()
                    || find_ci(head, b"insert into").is_some()
                    || find_ci(head, b"-- mysql dump").is_some()
                    || find_ci(head, b"postgresql database dump").is_some()));
        return ok.then_some(("Database dump", Severity::Critical));
    }
    if let Some(magic_ok) = archive_magic(last, body) {
        let stem = last.split('.').next().unwrap_or("");
        let host_label = host.split(['.', ':']).next().unwrap_or("");
        const BACKUP_WORDS: &[&str] = &[
            "backup", "bak", "site", "www", "web", "html", "htdocs", "wwwroot", "public", "db",
            "database", "dump", "old", "src", "source", "app", "data", "archive", "release",
            "deploy",
        ];
        let backupish = BACKUP_WORDS.iter().any(|w| stem.contains(w))
            || (!host_label.is_empty() && stem.contains(host_label));
        return (magic_ok && backupish).then_some(("Site backup archive", Severity::High));
    }
    None
}

/// For `index.php.bak`, `config~`, … the original file name.
fn backup_original(last: &str) -> Option<&str> {
    for suffix in [
        ".bak", ".old", ".orig", ".save", ".backup", ".swp", ".copy", "~",
    ] {
        if let Some(o) = last.strip_suffix(suffix) {
            if !o.is_empty() {
                return Some(o.trim_start_matches('.'));
            }
        }
    }
    None
}

fn is_backup_of(original: &str, body: &[u8]) -> bool {
    if body.starts_with(b"b0VIM ") {
        return true;
    }
    let head = &body[..body.len().min(8192)];
    let ext = original.rsplit('.').next().unwrap_or("");
    match ext {
        "php" | "phtml" | "inc" => memchr_ci(head, b"<?php") || memchr_ci(head, b"<?="),
        "asp" | "aspx" | "jsp" | "ascx" => memchr_ci(head, b"<%"),
        "py" => memchr_ci(head, b"import ") || memchr_ci(head, b"def "),
        "rb" => memchr_ci(head, b"def ") || memchr_ci(head, b"require "),
        "js" | "ts" => {
            !looks_like_html_page(body)
                && (memchr_ci(head, b"function")
                    || memchr_ci(head, b"require(")
                    || memchr_ci(head, b"import ")
                    || memchr_ci(head, b"const "))
        }
        "html" | "htm" => true,
        _ => !looks_like_html_page(body),
    }
}

/// `Some(true)` when the name is an archive and the bytes start with its magic number.
fn archive_magic(last: &str, body: &[u8]) -> Option<bool> {
    let ok = if last.ends_with(".zip") {
        body.starts_with(b"PK\x03\x04")
    } else if last.ends_with(".tar.gz") || last.ends_with(".tgz") || last.ends_with(".gz") {
        body.starts_with(&[0x1f, 0x8b]) || tar_magic(body)
    } else if last.ends_with(".tar") {
        tar_magic(body)
    } else if last.ends_with(".7z") {
        body.starts_with(b"7z\xbc\xaf\x27\x1c")
    } else if last.ends_with(".rar") {
        body.starts_with(b"Rar!\x1a\x07")
    } else {
        return None;
    };
    Some(ok)
}

fn tar_magic(body: &[u8]) -> bool {
    body.len() > 262 && &body[257..262] == b"ustar"
}

/// Most lines are `NAME=value` (comments and blanks aside), at least two of them, and it is
/// not a web page.
fn is_env_file(body: &[u8]) -> bool {
    if looks_like_html_page(body)
        || trim_start(body).starts_with(b"<")
        || trim_start(body).starts_with(b"{")
    {
        return false;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    let (mut assignments, mut other) = (0usize, 0usize);
    for line in text.lines().take(400) {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        let is_assign = l.split_once('=').is_some_and(|(k, _)| {
            let k = k.trim();
            !k.is_empty()
                && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && !k.as_bytes()[0].is_ascii_digit()
        });
        if is_assign {
            assignments += 1;
        } else {
            other += 1;
        }
    }
    assignments >= 2 && assignments * 10 >= (assignments + other) * 8
}

fn exposed_admin(path: &str, body: &[u8]) -> Option<(&'static str, Severity)> {
    let head = &body[..body.len().min(64 * 1024)];
    let has = |needle: &[u8]| find_ci(head, needle).is_some();
    if (path.contains("phpmyadmin") || path.contains("/pma"))
        && head.windows(10).any(|w| w == b"phpMyAdmin")
    {
        return Some(("phpMyAdmin", Severity::High));
    }
    if path.contains("/manager/") && has(b"Tomcat Web Application Manager") {
        return Some(("Tomcat manager", Severity::Critical));
    }
    if path.contains("/actuator") || path.ends_with("/env") || path.ends_with("/heapdump") {
        if path.ends_with("/heapdump")
            && (body.starts_with(b"JAVA PROFILE") || body.starts_with(&[0x1f, 0x8b]))
        {
            return Some(("Spring Boot actuator heap dump", Severity::Critical));
        }
        if has(b"\"propertySources\"") || has(b"\"activeProfiles\"") {
            return Some(("Spring Boot actuator env", Severity::High));
        }
        if path.contains("/actuator") && has(b"\"_links\"") && has(b"actuator") {
            return Some(("Spring Boot actuator", Severity::Medium));
        }
    }
    if path.ends_with("server-status") && has(b"Apache Server Status for") {
        return Some(("Apache server-status", Severity::Medium));
    }
    if path.ends_with("server-info") && has(b"Apache Server Information") {
        return Some(("Apache server-info", Severity::Medium));
    }
    let t = trim_start(head);
    if starts_with_ci(t, b"Active connections:") && has(b"server accepts handled requests") {
        return Some(("nginx stub_status", Severity::Low));
    }
    if path.ends_with("/console") && has(b"Werkzeug") && has(b"Interactive Console") {
        return Some(("Werkzeug debugger console", Severity::Critical));
    }
    None
}
