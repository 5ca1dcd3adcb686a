#!/usr/bin/env bash
# Re-records the committed real captures in tests/data/ (needs root; see tests/data/README.md).
# Each run is fresh traffic, so byte contents differ from one run to the next while the
# requests, targets and status codes stay the same.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../tests/data}
rec() { bash "$here/record.sh" "$@" 2>&1 | tail -n 1; }
rec -o "$data/sample.pcap"
rec -6 -o "$data/sample-ipv6.pcap"
rec -p nano -o "$data/sample-nanosecond.pcap"
rec -i any -o "$data/sample-sll2.pcap"
rec -i any -y LINUX_SLL -o "$data/sample-sll.pcap"
rec -s 200 -o "$data/damaged-snaplen200.pcap"
