#!/usr/bin/env bash
# CPU cost per packet of the AF_PACKET source (and of the VXLAN listener), on the reading thread.
# Needs root, iproute2 and tcpreplay. Usage: crates/sources/bench-cpu.sh [capture] [loops] [mbps]
set -euo pipefail
cd "$(dirname "$0")/../.."
CAPTURE=${1:-tests/data/sample.pcap}
LOOPS=${2:-200}
MBPS=${3:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p periscope-sources --example cpu_cost
BIN=$CARGO_TARGET_DIR/release/examples/cpu_cost

echo "== VXLAN listener ($CAPTURE x $LOOPS over loopback)"
for per_call in 1 32; do "$BIN" udp "$CAPTURE" "$LOOPS" "$per_call"; done

A=pbench$$a B=pbench$$b
ip link add "$A" type veth peer name "$B"
trap 'ip link del "$A" 2>/dev/null || true' EXIT
ip link set "$A" up; ip link set "$B" up
PACKETS=$(( $(tcpdump -r "$CAPTURE" 2>/dev/null | wc -l) * LOOPS ))
for mode in plain decode; do
  echo "== AF_PACKET on a veth, tcpreplay --mbps $MBPS, $PACKETS packets ($mode)"
  OUT=$(mktemp)
  "$BIN" interface "$B" "$PACKETS" 60 "$mode" >"$OUT" &
  PID=$!
  until grep -q ready "$OUT"; do sleep 0.1; done
  sleep 0.2
  tcpreplay -q -i "$A" --mbps "$MBPS" -l "$LOOPS" "$CAPTURE" >/dev/null 2>&1
  wait $PID
  grep -v ready "$OUT"; rm -f "$OUT"
done
