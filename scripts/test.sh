#!/usr/bin/env bash
# The project's test command (README; .ci/run runs it). On a fresh Debian machine it first
# installs what the tests need (tshark, tcpdump, nginx, curl, iproute2, libpcap-dev, python3),
# skipping the install when everything is already there; then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have tshark || need_pkgs+=(tshark)
have tcpdump || need_pkgs+=(tcpdump)
have nginx || need_pkgs+=(nginx)
have curl || need_pkgs+=(curl)
have wget || need_pkgs+=(wget)
have ip || need_pkgs+=(iproute2)
have nsenter || need_pkgs+=(util-linux)
have python3 || need_pkgs+=(python3)
have editcap || need_pkgs+=(wireshark-common)
have ethtool || need_pkgs+=(ethtool)
have openssl || need_pkgs+=(openssl)
have wrk || need_pkgs+=(wrk)
have tcpreplay || need_pkgs+=(tcpreplay)
# promtool and the Prometheus server check and scrape /metrics for real.
have promtool || need_pkgs+=(prometheus)
[ -e /usr/include/pcap/pcap.h ] || need_pkgs+=(libpcap-dev)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need_pkgs[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: not root, cannot install ${need_pkgs[*]}; tests needing them may skip" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    # tshark's package asks whether non-root users may capture: answer no, without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt_retry() {
      # Another process may hold the apt/dpkg lock for a while.
      for i in 1 2 3 4 5 6 7 8 9 10; do
        if "$@"; then return 0; fi
        echo "scripts/test.sh: '$*' failed (try $i), retrying in 15 s" >&2
        sleep 15
      done
      return 1
    }
    apt_retry apt-get update -q
    apt_retry apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
  fi
fi

# Python checkers from PyPI: a real OpenAPI validator for the discovery export, and the Prometheus
# client's text/OpenMetrics parsers for /metrics.
pip_need() { # module package
  python3 -c "import $1" 2>/dev/null && return 0
  echo "scripts/test.sh: installing $2"
  python3 -m pip install -q "$2" || python3 -m pip install -q --break-system-packages "$2" \
    || echo "scripts/test.sh: could not install $2; the tests that use it say they skip" >&2
}
pip_need openapi_spec_validator openapi-spec-validator
pip_need prometheus_client prometheus_client

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
