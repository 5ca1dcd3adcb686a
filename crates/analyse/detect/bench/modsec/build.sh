#!/bin/sh
# Builds modsec_eval (ModSecurity v3 + OWASP CRS 3.3 over a labelled JSONL file) next to this script.
# Installs Debian's libmodsecurity3, libmodsecurity-dev, modsecurity-crs and libjansson-dev when missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for p in libmodsecurity3 libmodsecurity-dev modsecurity-crs libjansson-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "build.sh: installing$missing" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >&2 \
        || { $SUDO apt-get update >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >&2; }
fi
${CC:-cc} -O2 -Wall -Wextra -o "$here/modsec_eval" "$here/modsec_eval.c" \
    $(pkg-config --cflags --libs modsecurity jansson)
echo "build.sh: built $here/modsec_eval" >&2
