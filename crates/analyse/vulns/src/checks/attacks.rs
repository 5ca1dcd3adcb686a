//! Confirmed attacks (`confirmed_attack`): attacks the detector marked
//! [`Outcome::Succeeded`](periscope_model::Outcome::Succeeded) — the response showed that the
//! attack worked (database error, `/etc/passwd`, a reflected script). One finding per endpoint,
//! attack class and request point; the attack's evidence is the finding's.

use super::{Hit, Kind};
use crate::text::one_line;
use periscope_model::{Attack, Outcome, Severity};

/// Classes whose success usually means the server or its data is compromised.
const CRITICAL: &[&str] = &[
    "sqli",
    "rce",
    "ptrav",
    "xxe",
    "deserialization",
    "log4shell",
    "ssti",
    "rfi",
    "nosqli",
    "ssrf",
];

/// Turns the succeeded attacks into hits.
pub fn check<'a>(attacks: impl IntoIterator<Item = &'a Attack>, hits: &mut Vec<Hit>) {
    for a in attacks
        .into_iter()
        .filter(|a| a.outcome == Outcome::Succeeded)
        .take(16)
    {
        let severity = if CRITICAL.contains(&a.class.as_str()) {
            Severity::Critical
        } else {
            Severity::High
        };
        let evidence = a.evidence.as_deref().unwrap_or(&a.excerpt);
        hits.push(Hit::endpoint(
            Kind::ConfirmedAttack,
            severity,
            format!(
                "Confirmed {} attack through {} (rule {})",
                one_line(&a.class),
                one_line(&a.point),
                one_line(&a.rule)
            ),
            one_line(evidence),
            format!("{}|{}", a.class, a.point),
        ));
    }
}
