//! Risk score of an endpoint, 1 (low) to 10 (high), with its reasons. Each reason adds a fixed
//! weight; the weights say what matters most for an API an attacker can reach: data that
//! leaves, no authentication, and features that are known to be abused.

use crate::auth::AuthKind;
use crate::inventory::{admin_like, EndpointSummary, Operation};

/// Scores an endpoint from its summary and raw counters.
pub(crate) fn score(e: &EndpointSummary, op: &Operation) -> (u8, Vec<String>) {
    let mut score: u32 = 1;
    let mut reasons = Vec::new();
    let mut add = |w: u32, why: String| {
        score += w;
        reasons.push(why);
    };
    let resp_creds: Vec<&str> = e
        .sensitive
        .iter()
        .filter(|s| s.place.starts_with("response") && s.kind.is_credential())
        .map(|s| s.kind.as_str())
        .collect();
    let resp_pii: Vec<&str> = e
        .sensitive
        .iter()
        .filter(|s| s.place.starts_with("response") && !s.kind.is_credential())
        .map(|s| s.kind.as_str())
        .collect();
    let req_sens: Vec<&str> = e
        .sensitive
        .iter()
        .filter(|s| s.place.starts_with("request"))
        .map(|s| s.kind.as_str())
        .collect();
    if !resp_creds.is_empty() {
        add(
            3,
            format!("credentials in responses ({})", dedup(&resp_creds)),
        );
    }
    if !resp_pii.is_empty() {
        let w = if resp_pii
            .iter()
            .any(|k| matches!(*k, "payment_card" | "iban" | "national_id"))
        {
            3
        } else {
            2
        };
        add(
            w,
            format!("personal data in responses ({})", dedup(&resp_pii)),
        );
    }
    if !req_sens.is_empty() {
        add(
            1,
            format!("sensitive data in requests ({})", dedup(&req_sens)),
        );
    }
    let no_auth_only = e.auth.iter().all(|(a, _)| *a == AuthKind::None);
    if op.unauth_ok > 0 {
        let write = matches!(e.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE");
        let w = if no_auth_only && (write || !e.sensitive.is_empty()) {
            3
        } else {
            2
        };
        let what = if no_auth_only {
            "no authentication"
        } else {
            "succeeds without authentication"
        };
        add(
            w,
            format!(
                "{what} ({} of {} requests answered 2xx unauthenticated)",
                op.unauth_ok, e.hits
            ),
        );
    }
    if let Some(what) = admin_like(&e.path) {
        add(2, format!("{what} reachable"));
    }
    if op.uploads > 0 {
        add(1, "file upload".to_string());
    }
    if !op.url_params.is_empty() {
        let names: Vec<&str> = op.url_params.iter().map(String::as_str).collect();
        add(2, format!("takes URLs (SSRF-prone): {}", names.join(", ")));
    }
    if op.attacks > 0 {
        add(2, format!("{} attacks seen", op.attacks));
    }
    if op.answered >= 10 && op.server_errors * 20 > op.answered {
        add(
            1,
            format!(
                "server error rate {}%",
                op.server_errors * 100 / op.answered.max(1)
            ),
        );
    }
    (score.min(10) as u8, reasons)
}

fn dedup(kinds: &[&str]) -> String {
    let mut v: Vec<&str> = kinds.to_vec();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}
