//! Runs `run_eval` over the shared dev file and our own corpora and checks the rates against
//! floors set a little below what was measured (see the numbers in the comments), so a
//! regression fails the test while noise does not.

use periscope_detect::{run_eval, EvalFormat, EvalSummary};
use std::io::BufReader;
use std::path::Path;

fn eval(path: &Path) -> Option<EvalSummary> {
    let f = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    let s = run_eval(BufReader::new(f), &mut out, EvalFormat::Json).ok()?;
    // The output contract: one line per request, then the summary line.
    let text = String::from_utf8(out).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, s.requests + 1);
    for l in lines.iter().take(lines.len().saturating_sub(1)) {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        assert!(
            v.get("id").is_some()
                && v["detected"].is_boolean()
                && v["classes"].is_array()
                && v["points"].is_array(),
            "{l}"
        );
    }
    let last: serde_json::Value = serde_json::from_str(lines.last()?).ok()?;
    assert_eq!(last["type"], "summary");
    assert!(
        last.get("tpr").is_some()
            && last.get("fpr").is_some()
            && last.get("requests_per_sec").is_some()
    );
    Some(s)
}

fn corpus(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}

#[test]
fn dev_file_floors() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/datasets/gotestwaf-dev.jsonl");
    let Some(s) = eval(&p) else {
        eprintln!("skipped: {} not readable", p.display());
        return;
    };
    // Measured 2026-11-25: TPR 0.9940 (499/502), FPR 0 (0/72); 2026-12-05: TPR 1.0 (502/502),
    // FPR 0, after the LDAP extensible-match and XML schema-location fixes.
    assert!(s.tpr >= 0.985, "dev TPR {}", s.tpr);
    assert!(s.fpr <= 0.02, "dev FPR {}", s.fpr);
}

#[test]
fn own_benign_corpus_floor() {
    let s = eval(&corpus("benign.jsonl")).unwrap_or_else(|| panic!("corpus/benign.jsonl"));
    assert!(s.benign >= 3000);
    // Measured 2026-12-05: FPR 0.0013 (4/3200, all one prose sentence quoting 'or' and 'and');
    // the 600 harder cases added that day gave 0.0203 before their fixes.
    assert!(s.fpr <= 0.005, "benign FPR {}", s.fpr);
}

#[test]
fn own_attack_corpus_floor() {
    let s = eval(&corpus("attacks.jsonl")).unwrap_or_else(|| panic!("corpus/attacks.jsonl"));
    // Measured: TPR 0.9492 on first run (before rules were added for the misses), 0.9954 after;
    // with the second set (940 cases) 0.9287 before its fixes, 0.9936 after (the 6 misses are
    // base64 of 4-byte payloads, too short to tell from a random token).
    assert!(s.tpr >= 0.98, "attack TPR {}", s.tpr);
}
