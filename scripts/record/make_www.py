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
rng = random.Random(7)
with open(os.path.join(root, "static", "blob.bin"), "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(64 * 1024)))
