#!/usr/bin/env bash
# Records real HTTP traffic between two network namespaces joined by a veth pair: nginx (with a
# Python backend behind it) in the server namespace, real clients in the client namespace,
# tcpdump on the client's end of the link. Needs root, iproute2, nginx, tcpdump, curl, python3.
#
# usage: record.sh -o FILE [-6] [-s SNAPLEN] [-p micro|nano] [-i veth|any] [-y LINKTYPE]
#                  [-- CLIENT_COMMAND...]
#   -o FILE     pcap to write
#   -6          IPv6 between the namespaces (default IPv4)
#   -s SNAPLEN  tcpdump snap length (default: whole packets)
#   -p PREC     tcpdump --time-stamp-precision (micro or nano; default micro)
#   -i IFACE    capture on the veth (default) or on "any" (Linux cooked SLL2, or SLL with -y)
#   -y LINKTYPE tcpdump -y, e.g. LINUX_SLL
#   CLIENT_COMMAND runs in the client namespace instead of clients.sh, with SERVER (URL host),
#   SERVER_IP, WWW and CAPTURE_FILE (the pcap being written) in its environment.
#
# All traffic stays on the veth link and on the server namespace's loopback; nothing leaves
# the machine. Namespaces, processes and temp files are removed on exit, also on error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

out="" v6=0 snaplen="" prec="micro" iface="veth" linktype=""
while getopts "o:6s:p:i:y:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    6) v6=1 ;;
    s) snaplen=$OPTARG ;;
    p) prec=$OPTARG ;;
    i) iface=$OPTARG ;;
    y) linktype=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$out" ] || { echo "record.sh: -o FILE is required" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "record.sh: needs root (network namespaces)" >&2; exit 2; }
for t in ip nsenter nginx tcpdump curl python3; do
  command -v "$t" >/dev/null || { echo "record.sh: $t not found" >&2; exit 2; }
done
out=$(realpath -m "$out")

# Unique names so that parallel runs (a test and a benchmark) do not collide; veth names
# must fit in 15 bytes.
tag="p$$"
if [ $v6 = 1 ]; then
  IP_C=fd77::1 IP_S=fd77::2 PLEN=64 SERVER="[fd77::2]"
else
  IP_C=10.77.0.1 IP_S=10.77.0.2 PLEN=24 SERVER="10.77.0.2"
fi
work=$(mktemp -d /tmp/periscope-record.XXXXXX)
# shellcheck source=netns.sh
. "$here/netns.sh"

# --- network ----------------------------------------------------------------------------------
netns_up
if [ $v6 = 1 ]; then
  in_c sysctl -qw net.ipv6.conf.all.disable_ipv6=0
  in_s sysctl -qw net.ipv6.conf.all.disable_ipv6=0
  in_c ip -6 addr add "$IP_C/$PLEN" dev "$VC" nodad
  in_s ip -6 addr add "$IP_S/$PLEN" dev "$VS" nodad
else
  in_c ip addr add "$IP_C/$PLEN" dev "$VC"
  in_s ip addr add "$IP_S/$PLEN" dev "$VS"
fi
links_up

# --- server side ------------------------------------------------------------------------------
mkdir -p "$work/tmp" "$work/www/static"
python3 "$here/make_www.py" "$work/www"
if [ $v6 = 1 ]; then
  listen="        listen [$IP_S]:80;\n        listen [$IP_S]:8080;"
else
  listen="        listen $IP_S:80;\n        listen $IP_S:8080;"
fi
sed -e "s#@PREFIX@#$work#g" -e "s#@BACKEND@#127.0.0.1:9000#g" -e "s#^@LISTEN@#$listen#" \
  "$here/nginx.conf.in" >"$work/nginx.conf"
# Background processes are started by nsenter directly (not through in_s) so that $! is the
# process itself and a signal reaches it.
nsenter --net="/run/netns/$NS_S" -- python3 "$here/backend.py" 127.0.0.1 9000 &
pids+=($!)
nsenter --net="/run/netns/$NS_S" -- nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.stderr" &
pids+=($!)
for _ in $(seq 1 50); do
  if in_s curl -s -o /dev/null "http://127.0.0.1:9000/api/users" 2>/dev/null \
     && in_s curl -g -s -o /dev/null "http://$SERVER/" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

# --- capture ----------------------------------------------------------------------------------
cap_if=$VC
[ "$iface" = any ] && cap_if=any
# --immediate-mode: packets reach the file as they come, not when a ring block fills, so
# that nothing is still in the kernel's buffer when tcpdump is stopped; a 32 MiB buffer (-B)
# so that bursts (the 64 KiB upload) are not dropped.
targs=(-i "$cap_if" --immediate-mode -B 32768 -U -n -Z root --time-stamp-precision="$prec" -w "$work/out.pcap")
[ -n "$snaplen" ] && targs+=(-s "$snaplen")
[ -n "$linktype" ] && targs+=(-y "$linktype")
nsenter --net="/run/netns/$NS_C" -- tcpdump "${targs[@]}" 2>"$work/tcpdump.stderr" &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/tcpdump.stderr" 2>/dev/null && break
  sleep 0.05
done
sleep 0.2

# --- clients ----------------------------------------------------------------------------------
export SERVER SERVER_IP="$IP_S" WWW="$work/www" CAPTURE_FILE="$work/out.pcap"
if [ $# -gt 0 ]; then
  in_c "$@"
else
  in_c bash "$here/clients.sh"
fi
sleep 1  # let the last FIN/ACKs reach the capture

kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
cat "$work/tcpdump.stderr" >&2
mkdir -p "$(dirname "$out")"
mv "$work/out.pcap" "$out"
echo "record.sh: wrote $out ($(stat -c %s "$out") bytes)" >&2
