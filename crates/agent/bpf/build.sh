#!/bin/sh
# Rebuilds periscope.bpf.o from periscope.bpf.c and records what it was built from.
#
#   ./build.sh          regenerate vmlinux.h (bpftool, from this kernel's BTF) and the object
#   ./build.sh --check  rebuild into a temporary directory and fail unless the committed object
#                       and manifest match the source (CI runs this)
#
# Needs Debian's clang, llvm-strip and bpftool (apt-get install clang llvm bpftool libbpf-dev).
# The object is CO-RE (BTF relocations), so one build loads on other 6.x kernels with BTF.
# DWARF is stripped (llvm-strip -g keeps .BTF/.BTF.ext) so the bytes do not depend on the
# build directory; with the same clang and vmlinux.h the output is byte-identical.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
check=0
[ "${1:-}" = "--check" ] && check=1

out=$here
if [ $check = 1 ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

btf=${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}
if [ ! -r "$btf" ]; then
    echo "build.sh: no kernel BTF at $btf (set VMLINUX_BTF to a vmlinux with BTF)" >&2
    exit 2
fi
bpftool btf dump file "$btf" format c > "$out/vmlinux.h"

# Build in a fixed directory name so that any path clang records is the same everywhere.
work=$(mktemp -d)
cp periscope.bpf.c "$work/"
cp "$out/vmlinux.h" "$work/vmlinux.h"
(cd "$work" && clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I. -I/usr/include/$(uname -m)-linux-gnu \
    -fdebug-prefix-map="$work"=/periscope/bpf -Wall -Werror -c periscope.bpf.c -o periscope.bpf.o && llvm-strip -g periscope.bpf.o)
cp "$work/periscope.bpf.o" "$out/periscope.bpf.o.new"
rm -rf "$work"

manifest() {
    printf 'clang %s\n' "$(clang --version | head -1)"
    printf 'source %s\n' "$(sha256sum periscope.bpf.c | cut -d' ' -f1)"
    printf 'vmlinux.h %s\n' "$(sha256sum "$1/vmlinux.h" | cut -d' ' -f1)"
    printf 'object %s\n' "$(sha256sum "$1/periscope.bpf.o.new" | cut -d' ' -f1)"
}

if [ $check = 1 ]; then
    manifest "$out" > "$out/manifest"
    src_now=$(grep '^source ' "$out/manifest")
    if ! grep -qx "$src_now" periscope.bpf.manifest; then
        echo "build.sh --check: periscope.bpf.c changed since the object was built; run ./build.sh" >&2
        exit 1
    fi
    if ! grep -qx "$(grep '^vmlinux.h ' "$out/manifest")" periscope.bpf.manifest \
        || ! grep -qx "$(grep '^clang ' "$out/manifest")" periscope.bpf.manifest; then
        echo "build.sh --check: source matches; byte comparison skipped (different kernel BTF or clang than the committed build)"
        exit 0
    fi
    if ! cmp -s "$out/periscope.bpf.o.new" periscope.bpf.o; then
        echo "build.sh --check: committed periscope.bpf.o differs from a rebuild of its source" >&2
        exit 1
    fi
    echo "build.sh --check: periscope.bpf.o matches its source"
else
    mv periscope.bpf.o.new periscope.bpf.o
    cp periscope.bpf.o periscope.bpf.o.new
    manifest "$here" > periscope.bpf.manifest
    rm -f periscope.bpf.o.new vmlinux.h
    echo "built periscope.bpf.o ($(stat -c %s periscope.bpf.o) bytes)"
fi
