#!/usr/bin/env bash
# Records the vulnapp traffic (tests/apps/vulnapp) for the passive vulnerability tests: two
# network namespaces joined by a veth pair, in the server one nginx (tests/apps/vulnapp/
# nginx.conf.in: port 80 unhardened, 8080 hardened) in front of app.py, `python3 -m http.server`
# on 8000, Node.js, Java, PHP (built-in server) and Ruby (WEBrick) error pages on 3000-3003;
# tcpdump on the client's veth;
# the curl clients of tests/apps/vulnapp/clients.sh. Modelled on record.sh. Needs root, iproute2,
# nginx, tcpdump, curl, python3; node, java, php (php-cli) and ruby (ruby-webrick) are
# optional (their requests then fail, and the tests say which exchange is missing).
#
# usage: vulns.sh -o FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app_dir=$(cd "$here/../../tests/apps/vulnapp" && pwd)

out=""
while getopts "o:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "vulns.sh: -o FILE is required" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vulns.sh: needs root (network namespaces)" >&2; exit 2; }
for t in ip nsenter nginx tcpdump curl python3; do
  command -v "$t" >/dev/null || { echo "vulns.sh: $t not found" >&2; exit 2; }
done
out=$(realpath -m "$out")

tag="v$$"
IP_C=10.78.0.1 IP_S=10.78.0.2 SERVER=10.78.0.2
work=$(mktemp -d /tmp/periscope-vulns.XXXXXX)
# shellcheck source=netns.sh
. "$(dirname "$0")/netns.sh"
bg_s() { nsenter --net="/run/netns/$NS_S" -- "$@" & pids+=($!); }

# --- network ----------------------------------------------------------------------------------
netns_up
in_c ip addr add "$IP_C/24" dev "$VC"
in_s ip addr add "$IP_S/24" dev "$VS"
links_up

# --- server side ------------------------------------------------------------------------------
mkdir -p "$work/tmp" "$work/www/static" "$work/www/files/reports" "$work/listing/site"
echo "body { margin: 0 }" >"$work/www/static/site.css"
echo "quarterly numbers" >"$work/www/files/reports/q3.txt"
echo "price list" >"$work/www/files/prices.txt"
cp "$work/www/files/prices.txt" "$work/listing/prices.txt"
mkdir -p "$work/listing/site"
echo "<!doctype html><html><head><title>Site</title></head><body>Site</body></html>" >"$work/listing/site/index.html"
sed -e "s#@PREFIX@#$work#g" -e "s#@IP@#$IP_S#g" -e "s#@APP@#127.0.0.1:9100#g" \
  "$app_dir/nginx.conf.in" >"$work/nginx.conf"
bg_s python3 "$app_dir/app.py" 127.0.0.1 9100
bg_s nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;'
bg_s python3 -m http.server 8000 --bind "$IP_S" --directory "$work/listing"
command -v node >/dev/null && bg_s node "$app_dir/node_error.js" "$IP_S" 3000
command -v java >/dev/null && bg_s java "$app_dir/ErrorServer.java" "$IP_S" 3001
# php.ini-development's display_errors=1: PHP prints errors into the page.
command -v php >/dev/null && bg_s php -d display_errors=1 -d html_errors=1 -S "$IP_S:3002" -t "$app_dir/php"
command -v ruby >/dev/null && bg_s ruby "$app_dir/ruby_error.rb" "$IP_S" 3003
ready() {
  in_s curl -s -o /dev/null "http://127.0.0.1:9100/" && in_s curl -s -o /dev/null "http://$SERVER/" \
    && in_s curl -s -o /dev/null "http://$SERVER:8000/" \
    && { ! command -v node >/dev/null || in_s curl -s -o /dev/null "http://$SERVER:3000/ok"; } \
    && { ! command -v java >/dev/null || in_s curl -s -o /dev/null "http://$SERVER:3001/ok"; } \
    && { ! command -v php >/dev/null || in_s curl -s -o /dev/null "http://$SERVER:3002/ok.php"; } \
    && { ! command -v ruby >/dev/null || in_s curl -s -o /dev/null "http://$SERVER:3003/ok"; }
}
for _ in $(seq 1 200); do ready 2>/dev/null && break; sleep 0.1; done

# --- capture ----------------------------------------------------------------------------------
nsenter --net="/run/netns/$NS_C" -- tcpdump -i "$VC" --immediate-mode -B 32768 -U -n -Z root \
  -w "$work/out.pcap" 2>"$work/tcpdump.stderr" &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/tcpdump.stderr" 2>/dev/null && break
  sleep 0.05
done
sleep 0.2

# --- clients ----------------------------------------------------------------------------------
export SERVER
in_c bash "$app_dir/clients.sh"
sleep 1

kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
cat "$work/tcpdump.stderr" >&2
mkdir -p "$(dirname "$out")"
mv "$work/out.pcap" "$out"
echo "vulns.sh: wrote $out ($(stat -c %s "$out") bytes)" >&2
