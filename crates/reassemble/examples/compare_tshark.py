#!/usr/bin/env python3
"""Compare the pcap_streams example with tshark's "follow tcp" for every TCP stream of a pcap.

usage: compare_tshark.py FILE.pcap   (run from the workspace; needs tshark and cargo)
Prints one line per direction that differs and a summary; exit 1 when any differs.
"""
import subprocess, sys, re, collections

FNV_OFFSET, FNV_PRIME, MASK = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1


def fnv(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def norm(ep):
    ip, port = ep.rsplit(":", 1)
    return ip.strip("[]") + ":" + port


def tshark_streams(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True, check=True).stdout
    ids = sorted({int(x) for x in out.split() if x.strip().isdigit()})
    args = ["tshark", "-r", path, "-q"]
    for i in ids:
        args += ["-z", f"follow,tcp,raw,{i}"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    res = collections.defaultdict(list)  # (from, to) -> [bytes]
    for block in text.split("=" * 67):
        n0 = re.search(r"^Node 0: (\S+)$", block, re.M)
        n1 = re.search(r"^Node 1: (\S+)$", block, re.M)
        if not (n0 and n1):
            continue
        a, b = norm(n0.group(1)), norm(n1.group(1))
        data = {a: bytearray(), b: bytearray()}
        for line in block.splitlines():
            if not line or line.startswith(("Follow", "Filter", "Node")):
                continue
            who = b if line.startswith("\t") else a
            try:
                data[who] += bytes.fromhex(line.strip())
            except ValueError:
                pass
        # tshark writes a "[N bytes missing in capture file]" marker (NUL-terminated) into the data where
        # bytes were lost; we report those as Gap events instead.
        strip = lambda d: re.sub(rb"\[\d+ bytes missing in capture file\]\.?\x00?", b"", bytes(d))
        res[(a, b)].append(strip(data[a]))
        res[(b, a)].append(strip(data[b]))
    return res


def ours(path):
    out = subprocess.run(["cargo", "run", "-q", "-p", "periscope-reassemble", "--example",
                          "pcap_streams", "--", path], capture_output=True, text=True, check=True)
    res = collections.defaultdict(list)
    for line in out.stdout.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split())
        res[(norm(f["from"]), norm(f["to"]))].append(
            (int(f["len"]), int(f["fnv"], 16), int(f["gap"]), f["close"]))
    return res, out.stderr.strip()


def main():
    path = sys.argv[1]
    ts, (us, stats) = tshark_streams(path), ours(path)
    bad = same = 0
    for key in sorted(set(ts) | set(us)):
        t = [(len(d), fnv(d)) for d in ts.get(key, [])]
        u = [(l, h) for (l, h, _, _) in us.get(key, [])]
        gaps = [g for (_, _, g, _) in us.get(key, [])]
        # Empty directions of flows tshark does not list are fine.
        if sorted(x for x in t if x[0]) == sorted(x for x in u if x[0]):
            same += 1
        else:
            bad += 1
            print(f"DIFF {key[0]} -> {key[1]}: tshark {t} ours {u} gaps {gaps}")
    print(f"{path}: {same} directions identical, {bad} differ")
    print(stats, file=sys.stderr)
    sys.exit(1 if bad else 0)


main()
