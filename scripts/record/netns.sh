# Sourced by the recording scripts (record.sh, vulns.sh, behaviour.sh): two network namespaces,
# client and server, joined by a veth pair with offloads off (tcpdump then sees wire-sized
# segments, as a mirror port would), and the cleanup of everything they start.
#
# Set before sourcing: `tag` (short and unique per run: it names the namespaces and the veth
# ends) and `work` (a temporary directory, removed at exit). Then: `netns_up`, the addresses
# (`in_c ip addr add …`, `in_s ip addr add …`), `links_up`. Background processes go in `pids`.

NS_C="psc-$tag-c" NS_S="psc-$tag-s"
VC="${tag}c" VS="${tag}s"
pids=()

cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

in_c() { nsenter --net="/run/netns/$NS_C" -- "$@"; }
in_s() { nsenter --net="/run/netns/$NS_S" -- "$@"; }

netns_up() {
  ip netns add "$NS_C"
  ip netns add "$NS_S"
  ip link add "$VC" type veth peer name "$VS"
  ip link set "$VC" netns "$NS_C"
  ip link set "$VS" netns "$NS_S"
  in_c ip link set lo up
  in_s ip link set lo up
}

links_up() {
  in_c ip link set "$VC" up
  in_s ip link set "$VS" up
  in_c ethtool -K "$VC" tso off gso off gro off 2>/dev/null || true
  in_s ethtool -K "$VS" tso off gso off gro off 2>/dev/null || true
}
