#!/usr/bin/env bash
# Records the behaviour test captures: tests/apps/behaviourapp/app.py in a server network
# namespace, real clients (curl, wget, nginx as a forwarding proxy) in a client namespace joined
# by a veth pair, tcpdump on the client's end of the link. Modelled on record.sh. Needs root,
# iproute2, tcpdump, curl, wget, python3 (and nginx for the "proxy" scenario).
#
# usage: behaviour.sh -o FILE SCENARIO     one scenario into FILE
#        behaviour.sh -d DIR               every scenario into DIR/SCENARIO.pcap
#   SCENARIO is a script in tests/apps/behaviourapp/clients/ (without .sh): dirbuster,
#   bruteforce, stuffing, botstuffing, idwalk, scanner, stealthscan, benign, proxy.
#   The scenario runs in the client namespace with SERVER (host:port of the app), CLIENT_IPS
#   (extra client addresses on the link, space separated) and PROXY_IP (the client
#   namespace's main address, which the proxy scenario's nginx sends from) in its environment.
#
# All traffic stays between the two namespaces; nothing leaves the machine. Namespaces,
# processes and temp files are removed on exit, also on error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app_dir=$(cd "$here/../../tests/apps/behaviourapp" && pwd)

out="" dir=""
while getopts "o:d:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    d) dir=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ -n "$dir" ]; then
  mkdir -p "$dir"
  for s in dirbuster bruteforce stuffing botstuffing idwalk scanner stealthscan benign proxy; do
    "$0" -o "$dir/$s.pcap" "$s"
  done
  exit 0
fi
scenario=${1:-}
[ -n "$out" ] && [ -n "$scenario" ] || { sed -n '2,16p' "$0"; exit 2; }
[ -f "$app_dir/clients/$scenario.sh" ] || { echo "behaviour.sh: no scenario $scenario" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "behaviour.sh: needs root (network namespaces)" >&2; exit 2; }
for t in ip nsenter tcpdump curl python3; do
  command -v "$t" >/dev/null || { echo "behaviour.sh: $t not found" >&2; exit 2; }
done
out=$(realpath -m "$out")

tag="b$$"
IP_C=10.78.0.1 IP_S=10.78.0.2
# Extra client addresses: the "different users" of the benign scenarios and the id walker.
CLIENT_IPS="10.78.0.11 10.78.0.12 10.78.0.13 10.78.0.14 10.78.0.15 10.78.0.16"
work=$(mktemp -d /tmp/periscope-behaviour.XXXXXX)
# shellcheck source=netns.sh
. "$(dirname "$0")/netns.sh"

# --- network ----------------------------------------------------------------------------------
netns_up
in_c ip addr add "$IP_C/24" dev "$VC"
for a in $CLIENT_IPS; do in_c ip addr add "$a/24" dev "$VC"; done
in_s ip addr add "$IP_S/24" dev "$VS"
links_up

# --- server -----------------------------------------------------------------------------------
nsenter --net="/run/netns/$NS_S" -- python3 "$app_dir/app.py" --host "$IP_S" --port 80 &
pids+=($!)
for _ in $(seq 1 50); do
  in_c curl -s -o /dev/null "http://$IP_S/about" 2>/dev/null && break
  sleep 0.1
done

# --- capture (only from here on: the readiness probe above is not recorded) --------------------
nsenter --net="/run/netns/$NS_C" -- tcpdump -i "$VC" --immediate-mode -B 32768 -U -n -Z root \
  -w "$work/out.pcap" "tcp port 80" 2>"$work/tcpdump.stderr" &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/tcpdump.stderr" 2>/dev/null && break
  sleep 0.05
done
sleep 0.2

# --- clients ----------------------------------------------------------------------------------
export SERVER="$IP_S:80" CLIENT_IPS PROXY_IP="$IP_C" WORK="$work" APP_DIR="$app_dir"
in_c bash "$app_dir/clients/$scenario.sh"
sleep 1

kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
grep -E "captured|dropped" "$work/tcpdump.stderr" >&2 || true
mkdir -p "$(dirname "$out")"
mv "$work/out.pcap" "$out"
echo "behaviour.sh: $scenario -> $out ($(stat -c %s "$out") bytes)" >&2
