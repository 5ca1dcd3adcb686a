//! Attack hits grouped: an `attack` incident per (source IP, host, class), and a `campaign` per
//! source IP once its attacks span several classes or hosts.

use crate::incidents::{span, Contribution};
use crate::{secs, Behaviour, Ctx};
use periscope_model::{Attack, Event, Outcome, Severity, Timestamp};

/// Classes and hosts a source attacked recently.
#[derive(Default)]
pub(crate) struct AttackHistory {
    pub(crate) classes: Vec<(String, Timestamp)>,
    pub(crate) hosts: Vec<(String, Timestamp)>,
    pub(crate) hits: u64,
    pub(crate) worst: Option<Outcome>,
    /// When the first of `hits` was seen.
    pub(crate) first: Timestamp,
}

/// Classes and hosts remembered per source for campaigns.
pub(crate) const MAX_HISTORY: usize = 32;

/// Order of outcomes from least to most worrying.
fn outcome_rank(o: Outcome) -> u8 {
    match o {
        Outcome::Blocked => 0,
        Outcome::Failed => 1,
        Outcome::Unknown => 2,
        Outcome::Succeeded => 3,
    }
}

fn worse(a: Option<Outcome>, b: Outcome) -> Outcome {
    match a {
        Some(a) if outcome_rank(a) >= outcome_rank(b) => a,
        _ => b,
    }
}

/// Severity of one attack hit.
fn attack_severity(class: &str, outcome: Outcome) -> Severity {
    let grave = matches!(
        class,
        "sqli"
            | "rce"
            | "log4shell"
            | "deserialization"
            | "xxe"
            | "ssti"
            | "ptrav"
            | "rfi"
            | "ssrf"
    );
    match outcome {
        Outcome::Succeeded if grave => Severity::Critical,
        Outcome::Succeeded => Severity::High,
        Outcome::Blocked => Severity::Low,
        _ if matches!(class, "scanner" | "protocol") => Severity::Low,
        _ => Severity::Medium,
    }
}

impl Behaviour {
    /// `attack` per (source, host, class) and `campaign` per source.
    pub(crate) fn on_attack(&mut self, c: &Ctx<'_>, a: &Attack, out: &mut Vec<Event>) {
        let key = format!("attack|{}|{}|{}", c.src_label, c.host, a.class);
        let severity = attack_severity(&a.class, a.outcome);
        let min = self.cfg.attack_min_hits;
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count: 1,
                since: None,
            },
            || (c.incident("attack", severity, vec![a.class.clone()]), min),
            |inc| {
                inc.severity = inc.severity.max(severity);
                inc.outcome = Some(worse(inc.outcome, a.outcome));
                inc.summary = format!(
                    "{} {} hits from {} against {} {}, worst outcome {}",
                    inc.count,
                    a.class,
                    c.src_label,
                    c.host,
                    span(inc),
                    outcome_name(inc.outcome),
                );
            },
            out,
        );

        // Campaign: the source's recent classes and hosts.
        let idle = secs(self.cfg.idle_gap_secs);
        let (min_classes, min_hosts) = (self.cfg.campaign_min_classes, self.cfg.campaign_min_hosts);
        let src = self.source(c.src);
        let h = src.attacks.get_or_insert_with(Default::default);
        h.classes.retain(|(_, t)| c.ts.since(*t) <= idle);
        h.hosts.retain(|(_, t)| c.ts.since(*t) <= idle);
        if h.classes.is_empty() && h.hosts.is_empty() {
            h.hits = 0;
            h.worst = None;
        }
        if h.hits == 0 {
            h.first = c.ts;
        }
        remember(&mut h.classes, &a.class, c.ts);
        remember(&mut h.hosts, c.host, c.ts);
        h.hits += 1;
        h.worst = Some(worse(h.worst, a.outcome));
        if h.classes.len() < min_classes && h.hosts.len() < min_hosts {
            return;
        }
        let classes: Vec<String> = h.classes.iter().map(|(c, _)| c.clone()).collect();
        let hosts: Vec<String> = h.hosts.iter().map(|(h, _)| h.clone()).collect();
        let (hits, worst, first) = (h.hits, h.worst, h.first);
        let key = format!("campaign|{}", c.src_label);
        let count = if self.tracker.is_open(&key, c.ts) {
            1
        } else {
            hits
        };
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count,
                since: Some(first),
            },
            || (c.incident("campaign", Severity::Medium, Vec::new()), 1),
            |inc| {
                for cl in &classes {
                    if !inc.classes.contains(cl) && inc.classes.len() < MAX_HISTORY {
                        inc.classes.push(cl.clone());
                    }
                }
                if let Some(w) = worst {
                    inc.outcome = Some(worse(inc.outcome, w));
                }
                inc.severity = match inc.outcome {
                    Some(Outcome::Succeeded) => Severity::High,
                    _ => Severity::Medium,
                };
                inc.summary = format!(
                    "{} attack hits from {} {} in {} classes ({}) against {} hosts ({})",
                    inc.count,
                    c.src_label,
                    span(inc),
                    inc.classes.len(),
                    inc.classes.join(", "),
                    hosts.len(),
                    hosts.join(", "),
                );
            },
            out,
        );
    }
}

fn remember(list: &mut Vec<(String, Timestamp)>, name: &str, ts: Timestamp) {
    if let Some(e) = list.iter_mut().find(|(n, _)| n == name) {
        e.1 = e.1.max(ts);
    } else if list.len() < MAX_HISTORY {
        list.push((name.to_string(), ts));
    }
}

fn outcome_name(o: Option<Outcome>) -> &'static str {
    match o {
        Some(Outcome::Succeeded) => "succeeded",
        Some(Outcome::Failed) => "failed",
        Some(Outcome::Blocked) => "blocked",
        Some(Outcome::Unknown) | None => "unknown",
    }
}
