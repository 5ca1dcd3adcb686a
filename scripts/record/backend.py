#!/usr/bin/env python3
"""Small dynamic backend behind nginx for recording test traffic (stdlib only).

Serves a toy JSON API: list/get/create/delete users, a login form, multipart upload, a chunked
stream, an ETag'd resource answering 304, a slow answer, a websocket upgrade (101) and a
deterministic item endpoint of varying size for the throughput capture.

Usage: backend.py HOST PORT
"""
import base64
import hashlib
import json
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ETAG = '"v1-profile-7f3a"'


def user(i):
    return {"id": i, "name": f"user{i}", "email": f"user{i}@shop.test", "active": i % 3 != 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shop-api/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep the recording output quiet
        pass

    # -- helpers -----------------------------------------------------------------------------
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        return self.rfile.read(n) if n else b""

    def send(self, status, obj=None, ctype="application/json", extra=()):
        data = b"" if obj is None else (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(data)

    def chunked(self, parts):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for p in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"0\r\n\r\n")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        msg = b'{"event":"hello"}'
        self.wfile.write(bytes([0x81, len(msg)]) + msg)
        self.wfile.flush()
        # Read one client frame (masked) and echo it, then close.
        hdr = self.rfile.read(2)
        if len(hdr) == 2:
            n = hdr[1] & 0x7F
            mask = self.rfile.read(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
            self.wfile.write(bytes([0x81, len(payload)]) + payload)
            self.wfile.write(bytes([0x88, 0x00]))
            self.wfile.flush()
        self.close_connection = True

    # -- routes ------------------------------------------------------------------------------
    def route(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        m = self.command
        if url.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if url.path == "/api/users" and m in ("GET", "HEAD"):
            n = min(int(q.get("limit", ["5"])[0]) if q.get("limit", ["5"])[0].isdigit() else 5, 200)
            return self.send(200, {"users": [user(i) for i in range(1, n + 1)]})
        if url.path == "/api/users" and m == "POST":
            data = self.body()
            try:
                obj = json.loads(data or b"{}")
            except ValueError:
                return self.send(400, {"error": "invalid json"})
            return self.send(201, {"id": 101, **obj}, extra=[("Location", "/api/users/101")])
        if len(parts) == 3 and parts[:2] == ["api", "users"]:
            if not parts[2].isdigit() or int(parts[2]) > 150:
                return self.send(404, {"error": "no such user"})
            if m == "DELETE":
                return self.send(204)
            if m == "PUT":
                self.body()
                return self.send(200, user(int(parts[2])))
            return self.send(200, user(int(parts[2])))
        if url.path == "/api/login" and m == "POST":
            form = parse_qs(self.body().decode("utf-8", "replace"))
            ok = form.get("password", [""])[0] == "correct horse"
            return self.send(200 if ok else 401, {"ok": ok})
        if url.path == "/api/comments" and m == "POST":
            form = parse_qs(self.body().decode("utf-8", "replace"))
            return self.send(201, {"stored": form.get("comment", [""])[0]})
        if url.path == "/upload" and m == "POST":
            data = self.body()
            return self.send(200, {"received": len(data)})
        if url.path == "/api/stream":
            return self.chunked([json.dumps(user(i)).encode() + b"\n" for i in range(1, 6)])
        if url.path == "/api/profile":
            if self.headers.get("If-None-Match") == ETAG:
                return self.send(304, extra=[("ETag", ETAG)])
            return self.send(200, {"name": "Ada", "plan": "pro"}, extra=[("ETag", ETAG)])
        if url.path == "/slow":
            time.sleep(1.5)
            return self.send(200, {"slow": True})
        if url.path == "/api/search":
            return self.send(200, {"query": q.get("q", [""])[0], "results": []})
        if url.path == "/api/ping":
            return self.send(200, {"pong": q.get("host", [""])[0]})
        if url.path == "/api/report" and m == "POST":
            self.body()
            return self.send(202, {"queued": True})
        if len(parts) == 3 and parts[:2] == ["api", "items"] and parts[2].isdigit():
            # Deterministic JSON of varying size (100 B .. ~20 KB) for the throughput capture.
            i = int(parts[2])
            rng = random.Random(i)
            n = rng.choice([1, 2, 4, 8, 16, 32, 64, 128])
            items = [{"sku": f"SKU-{i}-{k}", "price": rng.randint(100, 99999) / 100,
                      "tags": rng.sample(["red", "blue", "sale", "new", "eco", "xl"], 2)} for k in range(n)]
            return self.send(200, {"id": i, "items": items})
        if m in ("POST", "PUT", "PATCH"):
            self.body()
        return self.send(404, {"error": "not found"})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = route


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((host, port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
