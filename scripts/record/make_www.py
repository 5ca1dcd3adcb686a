#!/usr/bin/env python3
"""Writes nginx's document root for recordings: an index page, a JS file worth gzipping, a small
text file to upload and a 64 KiB deterministic blob for the 100-continue upload.

Usage: make_www.py DIR
"""
import os
import random
import sys

root = sys.argv[1]
os.makedirs(os.path.join(root, "static"), exist_ok=True)
with open(os.path.join(root, "index.html"), "w") as f:
    f.write("<!doctype html><html><head><title>shop.test</title>"
            "<script src=\"/static/app.js\"></script></head><body><h1>shop.test</h1></body></html>\n")
with open(os.path.join(root, "static", "app.js"), "w") as f:
    for i in range(60):
        f.write(f"function handler{i}(event) {{ return fetch('/api/users/{i}').then(r => r.json()); }}\n")
with open(os.path.join(root, "static", "logo.txt"), "w") as f:
    f.write("shop.test logo placeholder\n" * 20)
# Catalog: 1000 JSON documents from ~150 B to ~40 KB (sizes skewed small, like real APIs).
os.makedirs(os.path.join(root, "catalog"), exist_ok=True)
crng = random.Random(11)
for i in range(1000):
    n = min(int(crng.paretovariate(1.2)), 300)
    items = ",".join(
        f'{{"sku":"SKU-{i}-{k}","price":{crng.randint(100, 99999) / 100},"stock":{crng.randint(0, 500)},'
        f'"name":"item {k} of collection {i}","tags":["{crng.choice(["red", "blue", "sale", "new"])}"]}}'
        for k in range(n))
    with open(os.path.join(root, "catalog", f"{i}.json"), "w") as f:
        f.write(f'{{"id":{i},"page":1,"items":[{items}]}}')
rng = random.Random(7)
with open(os.path.join(root, "static", "blob.bin"), "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(64 * 1024)))
