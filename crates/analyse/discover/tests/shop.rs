//! Ground truth: the shop test application (`tests/apps/shop`) with its own OpenAPI spec.
//! The generator drives the real server over loopback sockets and records every exchange;
//! we rebuild `Exchange`s from that record, run discovery, and measure against the spec:
//! endpoints templated exactly as in the spec, parameters with the right location and type,
//! spurious endpoints. Then the export is checked by a real OpenAPI 3.1 validator
//! (`openapi-spec-validator`) and fed back as `--spec` (round trip).
//!
//! Needs `python3` (standard library) for the server and generator, and the PyPI package
//! `openapi-spec-validator` for validation; each part is skipped with a printed reason when
//! missing. Print the figures with `cargo test -p periscope-discover --test shop -- --nocapture`.

use periscope_discover::testing::load_jsonl;
use periscope_discover::{parse_spec, DiscoverOptions, Location};
use periscope_model::Exchange;
use std::path::{Path, PathBuf};
use std::process::Command;

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/apps/shop")
}

fn python_ok() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Reads the generator's JSON lines into exchanges.
fn load_exchanges(path: &Path) -> Vec<Exchange> {
    let (ex, bad) = load_jsonl(&std::fs::read_to_string(path).expect("traffic file"));
    assert_eq!(bad, 0, "unreadable lines");
    ex
}

fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn shop_ground_truth() {
    if !python_ok() {
        println!("SKIPPED shop_ground_truth: python3 not found (needed for tests/apps/shop)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("periscope-shop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let traffic = dir.join("traffic.jsonl");
    // Other seeds and sizes: PERISCOPE_SHOP_SEED, PERISCOPE_SHOP_COUNT.
    let seed = std::env::var("PERISCOPE_SHOP_SEED").unwrap_or_else(|_| "7".into());
    let count: usize = std::env::var("PERISCOPE_SHOP_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2500);
    let st = Command::new("python3")
        .arg(app_dir().join("generate.py"))
        .args(["--seed", &seed, "--count", &count.to_string(), "--out"])
        .arg(&traffic)
        .status()
        .expect("run generator");
    assert!(st.success(), "generator failed");
    let exchanges = load_exchanges(&traffic);
    assert_eq!(exchanges.len(), count);

    let spec_text = std::fs::read_to_string(app_dir().join("openapi.yaml")).expect("spec");
    let spec = parse_spec(&spec_text).expect("truth spec");
    let openapi = dir.join("discovered.yaml");
    let opts = DiscoverOptions {
        openapi: Some(openapi.clone()),
        spec: Some(app_dir().join("openapi.yaml")),
        ..Default::default()
    };
    let (inv, report) = periscope_discover::run(exchanges, &opts).expect("discover");
    let eps: Vec<_> = report
        .endpoints
        .iter()
        .filter(|e| e.host == "shop.test")
        .collect();
    println!("{}", report.render(periscope_discover::OutputFormat::Text));

    // Endpoints templated exactly as in the spec (variable names aside, and with names).
    let mut exact = 0;
    let mut named = 0;
    let mut missing = Vec::new();
    for op in &spec.operations {
        match eps
            .iter()
            .find(|e| e.method == op.method && shape(&e.path) == shape(&op.path))
        {
            Some(e) => {
                exact += 1;
                if e.path == op.path {
                    named += 1;
                }
            }
            None => missing.push(format!("{} {}", op.method, op.path)),
        }
    }
    let undocumented = ["GET /api/v1/internal/metrics"];
    let spurious: Vec<String> = eps
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .filter(|k| !undocumented.contains(&k.as_str()))
        .filter(|k| {
            !spec
                .operations
                .iter()
                .any(|o| format!("{} {}", o.method, shape(&o.path)) == shape(k))
        })
        .collect();

    // Parameters: right location and type.
    let (mut p_total, mut p_found, mut p_typed, mut p_format_ok, mut p_format_total) =
        (0, 0, 0, 0, 0);
    let mut wrong = Vec::new();
    for op in &spec.operations {
        let Some(e) = eps
            .iter()
            .find(|e| e.method == op.method && shape(&e.path) == shape(&op.path))
        else {
            continue;
        };
        let spec_path_vars: Vec<&str> = op.path.split('/').filter(|s| s.starts_with('{')).collect();
        let seen_path_vars: Vec<_> = e
            .params
            .iter()
            .filter(|p| p.location == Location::Path)
            .collect();
        for sp in &op.params {
            p_total += 1;
            let seen = if sp.location == "path" {
                let idx = spec_path_vars
                    .iter()
                    .position(|v| v.trim_matches(|c| c == '{' || c == '}') == sp.name);
                idx.and_then(|i| seen_path_vars.get(i).copied())
            } else {
                e.params.iter().find(|p| {
                    p.location.as_str() == sp.location
                        && if sp.location == "header" {
                            p.name.eq_ignore_ascii_case(&sp.name)
                        } else {
                            p.name == sp.name
                        }
                })
            };
            let Some(seen) = seen else {
                wrong.push(format!(
                    "{} {} {}:{} not found",
                    op.method, op.path, sp.location, sp.name
                ));
                continue;
            };
            p_found += 1;
            if sp.ty.as_deref() == Some(seen.ty.as_str()) {
                p_typed += 1;
            } else {
                wrong.push(format!(
                    "{} {} {}:{} spec {:?} seen {}",
                    op.method, op.path, sp.location, sp.name, sp.ty, seen.ty
                ));
            }
        }
        // Formats inferred, checked against the formats the spec uses.
        for p in &e.params {
            if let Some(f) = &p.format {
                p_format_total += 1;
                if spec_text.contains(&format!("format: {f}")) {
                    p_format_ok += 1;
                }
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!("GROUND TRUTH (tests/apps/shop, seed {seed}, {count} exchanges):");
    println!("  endpoints templated exactly as in the spec: {exact}/{} = {:.1}% (same variable names too: {named}/{} = {:.1}%)",
        spec.operations.len(), pct(exact, spec.operations.len()), spec.operations.len(), pct(named, spec.operations.len()));
    println!("  parameters found with the right location: {p_found}/{p_total} = {:.1}%; with the right type too: {p_typed}/{p_total} = {:.1}%",
        pct(p_found, p_total), pct(p_typed, p_total));
    println!(
        "  spurious endpoints: {} {:?}; missing: {:?}",
        spurious.len(),
        spurious,
        missing
    );
    println!("  inferred formats that the spec uses somewhere: {p_format_ok}/{p_format_total}");
    for w in &wrong {
        println!("  param miss: {w}");
    }
    assert!(
        pct(exact, spec.operations.len()) >= 95.0,
        "endpoints {exact}/{}: missing {missing:?}",
        spec.operations.len()
    );
    assert!(
        pct(p_typed, p_total) >= 95.0,
        "params {p_typed}/{p_total}: {wrong:?}"
    );
    assert!(spurious.is_empty(), "spurious {spurious:?}");

    // Drift against the truth: the one undocumented endpoint is the only shadow, the
    // deprecated v0 endpoint is a zombie, nothing is orphaned.
    let drift = report.drift.as_ref().expect("drift");
    let shadow: Vec<String> = drift
        .shadow
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    assert_eq!(shadow, vec!["GET /api/v1/internal/metrics".to_string()]);
    assert!(drift.orphan.is_empty(), "{:?}", drift.orphan);
    assert!(
        drift
            .zombie
            .iter()
            .any(|z| z.path == "/api/v0/users/{userId}"),
        "{:?}",
        drift.zombie
    );

    // Round trip: the export, read back as the spec, leaves no shadow and no orphan.
    let exported = periscope_discover::load_spec(&openapi).expect("read export");
    let d2 = inv.drift(&exported);
    assert!(
        d2.shadow.is_empty() && d2.orphan.is_empty(),
        "round trip: {:?} {:?}",
        d2.shadow,
        d2.orphan
    );
    println!(
        "  round trip: {} shadow, {} orphan, {} mismatches",
        d2.shadow.len(),
        d2.orphan.len(),
        d2.mismatches.len()
    );

    // A real validator.
    let have_validator = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if have_validator {
        let out = Command::new("python3")
            .args(["-m", "openapi_spec_validator", "--schema", "3.1.0"])
            .arg(&openapi)
            .output()
            .expect("validator");
        let msg = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        println!("  openapi-spec-validator: {}", msg.trim());
        assert!(out.status.success(), "validator: {msg}");
        let json_out = dir.join("discovered.json");
        inv.write_openapi(&json_out).expect("json export");
        let out = Command::new("python3")
            .args(["-m", "openapi_spec_validator", "--schema", "3.1.0"])
            .arg(&json_out)
            .output()
            .expect("validator");
        assert!(
            out.status.success(),
            "validator (json): {}",
            String::from_utf8_lossy(&out.stdout)
        );
    } else {
        println!("SKIPPED OpenAPI validation: python3 -m pip install openapi-spec-validator");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
