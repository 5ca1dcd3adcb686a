#!/bin/sh
# Periscope vs ModSecurity v3 + OWASP CRS 3.3 (paranoia levels 1 and 2) on the same labelled JSONL files.
#   crates/analyse/detect/bench/modsec/compare.sh [FILE.jsonl ...]
# Default files: shared/datasets/gotestwaf-dev.jsonl and the detect crate's corpus (benign + attacks).
# When more than one file is given, an extra row set "all files" runs over their concatenation, so a benign-only
# file and an attack-only file together give both TPR and FPR.
# Prints ONE table: tool, file, TPR, FPR, requests/s per core (CPU time of the detection loop only) and
# Periscope's requests/s divided by that row's (best run; and median of runs); the rates are the best of $RUNS runs (default 3), with min-median-max beside them. Raw outputs are kept in $OUT (default /tmp/periscope-modsec-bench).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../../.." && pwd)
OUT=${OUT:-/tmp/periscope-modsec-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-modsec}
PLS=${PLS:-"1 2"}
RUNS=${RUNS:-3}
mkdir -p "$OUT"

if [ $# -eq 0 ]; then
    set -- "$repo/../shared/datasets/gotestwaf-dev.jsonl" \
        "$repo/crates/analyse/detect/corpus/benign.jsonl" "$repo/crates/analyse/detect/corpus/attacks.jsonl"
    [ -f "$1" ] || shift
fi

"$here/build.sh"
(cd "$repo" && cargo build -q -p periscope-detect --release --example eval) >&2
periscope="$CARGO_TARGET_DIR/release/examples/eval"

files=""
for f in "$@"; do files="$files $f"; done
if [ $# -gt 1 ]; then
    cat "$@" > "$OUT/all-files.jsonl"
    files="$files $OUT/all-files.jsonl"
fi

# best_of TOOL NAME OUTFILE CMD...: runs CMD $RUNS times (the machine is shared, CPU-time rates still move with
# cache and frequency contention), keeps the per-request output of the first run and appends the summary with
# the highest cpu_requests_per_sec (TPR/FPR are identical across runs) to $rows.
best_of() {
    tool=$1 name=$2 out=$3
    shift 3
    i=1
    while [ "$i" -le "$RUNS" ]; do
        "$@" 2>/dev/null > "$out.run"
        [ "$i" -eq 1 ] && cp "$out.run" "$out"
        tail -n 1 "$out.run"
        i=$((i + 1))
    done | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; b=max(r, key=lambda s: s["cpu_requests_per_sec"]); b["cpu_runs"]=sorted(s["cpu_requests_per_sec"] for s in r); print(json.dumps(b))' \
        | { read -r best; printf '%s\t%s\t%s\n' "$tool" "$name" "$best" >> "$rows"; }
    rm -f "$out.run"
}

rows="$OUT/rows.tsv"
: > "$rows"
for f in $files; do
    name=$(basename "$f" .jsonl)
    echo "compare.sh: $name: periscope" >&2
    best_of periscope "$name" "$OUT/$name.periscope.jsonl" "$periscope" "$f" --format json
    for pl in $PLS; do
        echo "compare.sh: $name: modsecurity PL$pl" >&2
        best_of "modsecurity-crs PL$pl" "$name" "$OUT/$name.modsec-pl$pl.jsonl" "$here/modsec_eval" --pl "$pl" "$f"
    done
done

python3 - "$rows" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    tool, name, js = line.rstrip("\n").split("\t", 2)
    rows.append((tool, name, json.loads(js)))
pv = {name: s["cpu_requests_per_sec"] for tool, name, s in rows if tool == "periscope"}
print("| tool | file | requests (attack/benign) | TPR | FPR | req/s per core (CPU, best run) | all runs (min-median-max) | Periscope ÷ this (best; median) |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
def median(v):
    return v[len(v) // 2] if v else 0
pm = {name: median(s.get("cpu_runs", [])) for tool, name, s in rows if tool == "periscope"}
for tool, name, s in rows:
    tpr = f"{s['tpr']:.4f}" if s["attacks"] else "-"
    fpr = f"{s['fpr']:.4f}" if s["benign"] else "-"
    r = s["cpu_requests_per_sec"]
    runs = s.get("cpu_runs", [])
    m = median(runs)
    ratio = f"{pv[name] / r:.1f}×; {pm[name] / m:.1f}×" if r and m else "-"
    spread = f"{runs[0]:,.0f}-{m:,.0f}-{runs[-1]:,.0f}" if runs else "-"
    print(f"| {tool} | {name} | {s['requests']} ({s['attacks']}/{s['benign']}) | {tpr} | {fpr} | {r:,.0f} | {spread} | {ratio} |")
PY
