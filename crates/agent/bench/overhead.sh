#!/bin/sh
# Overhead of the agent on nginx: wrk against plain HTTP and HTTPS on loopback, without and
# with the agent attached (agent_dump --quiet consuming every event), alternated ROUNDS
# times; HTTPS also with the OpenSSL uprobes in every process (`--tls-all-processes`) instead of
# the default, servers only. Prints wrk's requests/s and latency percentiles and the agent's summary line.
#
#   cargo build --release -p periscope-agent --example agent_dump
#   sudo crates/agent/bench/overhead.sh [seconds per run] [rounds]
set -eu
secs=${1:-10}
rounds=${2:-2}
bin=${AGENT_DUMP:-$(dirname "$0")/../../../target-agent/release/examples/agent_dump}
dir=$(mktemp -d)
plain=${PLAIN_PORT:-28080}
tls=${TLS_PORT:-28443}
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
cat > "$dir/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off; sendfile off; keepalive_requests 1000000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$plain; listen 127.0.0.1:$tls ssl;
    ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    location / { return 200 "hello from nginx, a small body of about sixty bytes........\n"; }
  }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" & ngx=$!
agent=
cleanup() { [ -n "$agent" ] && kill -INT "$agent" 2>/dev/null; kill "$ngx" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
sleep 1
run() { # label url
    wrk -t1 -c16 -d"${secs}s" --latency "$2" 2>&1 | awk -v l="$1" '
        /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        END {printf "%-28s req/s %10s  p50 %8s  p99 %8s\n", l, rps, p50, p99}'
}
with_agent() { # label url [agent options]
    label=$1 url=$2; shift 2
    /usr/bin/time -f "agent cpu: user %U s, sys %S s" "$bin" --quiet --port "$plain" --port "$tls" --secs $((secs + 4)) "$@" 2>"$dir/agent.err" & agent=$!
    sleep 3
    run "$label" "$url"
    wait "$agent" || true; agent=
    grep -E "summary|agent cpu" "$dir/agent.err" | sed 's/^/    /'
}
for r in $(seq "$rounds"); do
    for proto in http https; do
        port=$plain; [ $proto = https ] && port=$tls
        run "$proto without agent" "$proto://127.0.0.1:$port/"
        with_agent "$proto with agent" "$proto://127.0.0.1:$port/"
        # The OpenSSL uprobes in every process (wrk's libssl too) rather than in servers only.
        [ $proto = https ] && with_agent "$proto with agent, tls all" "$proto://127.0.0.1:$port/" --tls-all-processes
    done
done
