#!/usr/bin/env bash
# Generates a large, realistic API capture for throughput benchmarks (not committed):
# wrk with keep-alive connections against nginx in the recording namespaces, JSON responses
# of varying size (nginx-served catalog, ~150 B to ~40 KB, plus ~5% dynamic answers from the
# Python backend), captured by tcpdump until the file reaches the wanted size.
#
# usage: scripts/bench-capture.sh OUTPUT.pcap [MIN_MB]     (default 512 MB; needs root, wrk)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: bench-capture.sh OUTPUT.pcap [MIN_MB]}
min_mb=${2:-512}
command -v wrk >/dev/null || { echo "bench-capture.sh: wrk not found (apt-get install wrk)" >&2; exit 2; }

lua=$(mktemp /tmp/periscope-wrk.XXXXXX.lua)
trap 'rm -f "$lua"' EXIT
cat >"$lua" <<'LUA'
-- Seeded per thread so every run asks the same mix: catalog pages, user lookups, searches, logins.
local counter = 0
function setup(thread) thread:set("seed", counter + 1); counter = counter + 1 end
function init(args) math.randomseed(seed) end
function request()
  local r = math.random(100)
  if r <= 80 then
    return wrk.format("GET", "/api/catalog/" .. math.random(0, 999) .. (r % 4 == 0 and "?page=2&sort=price" or ""),
                      {["Accept"] = "application/json", ["User-Agent"] = "shop-mobile/4.2"})
  elseif r <= 90 then
    return wrk.format("GET", "/static/app.js", {["User-Agent"] = "Mozilla/5.0"})
  elseif r <= 95 then
    return wrk.format("GET", "/api/users/" .. math.random(1, 200), {["Authorization"] = "Bearer t0k3n" .. math.random(9)})
  else
    return wrk.format("POST", "/api/users", {["Content-Type"] = "application/json"},
                      '{"name":"u' .. math.random(1e6) .. '","email":"x@shop.test"}')
  end
end
LUA

# The client command runs inside the client namespace; CAPTURE_FILE is the pcap being written.
client=$(cat <<SH
while [ "\$(stat -c %s "\$CAPTURE_FILE" 2>/dev/null || echo 0)" -lt $((min_mb * 1024 * 1024)) ]; do
  wrk -t 2 -c 32 -d 15s -s "$lua" "http://\$SERVER/" | sed -n '1,4p;/Requests\\/sec/p;/Transfer\\/sec/p'
done
SH
)
bash "$here/record/record.sh" -o "$out" -- bash -c "$client"
