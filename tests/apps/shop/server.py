#!/usr/bin/env python3
"""Shop test server: the ground truth application for Periscope's API discovery tests.

Python standard library only. Implements every operation of openapi.yaml, one undocumented
endpoint (GET /api/v1/internal/metrics, a "shadow" endpoint) and a few static assets.
Authentication is checked for presence and shape only; data is generated, not stored.

    python3 server.py --port 8080          # serve on 127.0.0.1:8080
"""
import argparse
import base64
import json
import random
import re
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UID = r"(?P<userId>\d+)"
UUID = r"(?P<{}>[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})"

ROUTES = []


def route(method, pattern):
    def deco(fn):
        ROUTES.append((method, re.compile("^" + pattern + "$"), fn))
        return fn
    return deco


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user(uid, rnd):
    first = rnd.choice(["ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis"])
    return {"id": uid, "name": first.title(), "email": f"{first}{uid}@example.org",
            "phone": f"+1 555 {rnd.randint(100, 999)} {rnd.randint(1000, 9999)}", "createdAt": now()}


def bearer(h):
    a = h.get("Authorization", "")
    return a.startswith("Bearer ") and len(a) > 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ShopTest/1.0"
    # Headers and body leave in one write, without Nagle: no 40 ms delayed-ACK stalls.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, status, body=None, ctype="application/json", extra=()):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(data)
        self.flush_headers()

    def handle_any(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.rnd = random.Random(self.path)
        for method, rx, fn in ROUTES:
            m = rx.match(parts.path)
            if m and method == self.command:
                return fn(self, **m.groupdict())
        self.send(404, {"error": "not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


STATIC = {
    "/": ("text/html", b"<!doctype html><title>Shop</title><script src=/static/app.js></script>"),
    "/static/app.js": ("application/javascript", b"console.log('shop');"),
    "/static/style.css": ("text/css", b"body{margin:0}"),
    "/static/img/logo.png": ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(32)),
    "/favicon.ico": ("image/x-icon", bytes(64)),
}
for _path, (_ct, _data) in STATIC.items():
    route("GET", re.escape(_path))(lambda s, _c=_ct, _d=_data: s.send(200, _d, _c))


@route("GET", "/health")
def health(s):
    s.send(200, {"status": "ok"})


def needs_bearer(fn):
    def wrapped(s, **kw):
        if not bearer(s.headers):
            return s.send(401, {"error": "missing token"})
        return fn(s, **kw)
    return wrapped


@route("GET", "/api/v1/users")
@needs_bearer
def list_users(s):
    n = int(s.query.get("limit", "10") or 10)
    s.send(200, [user(s.rnd.randint(1, 99999), s.rnd) for _ in range(min(n, 5))])


@route("POST", "/api/v1/users")
@needs_bearer
def create_user(s):
    try:
        b = json.loads(s.body)
        assert all(k in b for k in ("name", "email", "password"))
    except Exception:
        return s.send(400, {"error": "invalid user"})
    u = user(s.rnd.randint(1, 99999), s.rnd)
    u.update(name=b["name"], email=b["email"])
    s.send(201, u)


@route("GET", "/api/v1/users/" + UID)
@needs_bearer
def get_user(s, userId):
    if int(userId) % 17 == 0:
        return s.send(404, {"error": "no such user"})
    s.send(200, user(int(userId), s.rnd))


@route("PUT", "/api/v1/users/" + UID)
@needs_bearer
def put_user(s, userId):
    s.send(200, user(int(userId), s.rnd))


@route("DELETE", "/api/v1/users/" + UID)
@needs_bearer
def delete_user(s, userId):
    s.send(204)


@route("GET", "/api/v1/users/" + UID + "/orders")
@needs_bearer
def user_orders(s, userId):
    s.send(200, [{"id": str(uuid.UUID(int=s.rnd.getrandbits(128), version=4)), "status": s.query.get("status", "pending"),
                  "total": round(s.rnd.uniform(5, 500), 2)} for _ in range(3)])


@route("GET", "/api/v1/users/" + UID + "/orders/" + UUID.format("orderId"))
@needs_bearer
def user_order(s, userId, orderId):
    if orderId.endswith("0"):
        return s.send(404, {"error": "no such order"})
    s.send(200, {"id": orderId, "userId": int(userId), "status": "shipped", "total": 12.5,
                 "shipTo": {"street": "1 Main St", "city": "Springfield"}})


@route("POST", "/api/v1/orders")
@needs_bearer
def create_order(s):
    s.send(201, {"id": str(uuid.uuid4()), "status": "pending", "createdAt": now()})


@route("PATCH", "/api/v1/orders/" + UUID.format("orderId"))
@needs_bearer
def patch_order(s, orderId):
    s.send(200, {"id": orderId, "status": json.loads(s.body or b"{}").get("status", "pending")})


@route("GET", "/api/v1/products")
def products(s):
    s.send(200, [{"sku": "%012x" % s.rnd.getrandbits(48), "name": "Thing", "price": 9.99, "inStock": True}])


@route("GET", "/api/v1/products/(?P<sku>[0-9a-f]{12})")
def product(s, sku):
    s.send(200, {"sku": sku, "name": "Thing " + sku[:4], "price": round(s.rnd.uniform(1, 99), 2), "tags": ["new"]})


@route("GET", "/api/v1/products/(?P<sku>[0-9a-f]{12})/reviews")
def reviews(s, sku):
    s.send(200, [{"rating": s.rnd.randint(1, 5), "text": "fine", "author": {"name": "Ann"}}])


@route("POST", "/api/v1/files")
@needs_bearer
def upload(s):
    s.send(201, {"id": str(uuid.uuid4()), "size": len(s.body)})


@route("GET", "/api/v1/files/" + UUID.format("fileId"))
@needs_bearer
def download(s, fileId):
    s.send(200, bytes(s.rnd.getrandbits(8) for _ in range(48)), "application/octet-stream")


@route("GET", r"/api/v1/reports/(?P<date>\d{4}-\d{2}-\d{2})")
def report(s, date):
    if not s.headers.get("X-Api-Key"):
        return s.send(403, {"error": "api key"})
    if s.headers.get("X-Report-Format") == "csv":
        return s.send(200, b"day,total\n" + date.encode() + b",42\n", "text/csv")
    s.send(200, {"date": date, "total": 42, "orders": 7})


@route("GET", r"/api/v1/accounts/(?P<email>[^/@]+@[^/]+)/profile")
def profile(s, email):
    if not s.query.get("api_key"):
        return s.send(403, {"error": "api key"})
    s.send(200, {"email": email, "plan": "pro", "iban": "GB82WEST12345698765432", "dateOfBirth": "1984-03-02"})


@route("GET", r"/api/v1/teams/(?P<teamSlug>[a-z0-9-]+)/members")
@needs_bearer
def members(s, teamSlug):
    s.send(200, [{"name": "Ann", "role": s.query.get("role", "member")}])


@route("GET", r"/api/v1/invites/(?P<inviteToken>[A-Za-z0-9_-]{20,})")
def invite(s, inviteToken):
    if inviteToken[0] in "AB":
        return s.send(410, {"error": "expired"})
    s.send(200, {"team": "core", "expiresAt": now()})


@route("GET", r"/api/v1/hosts/(?P<ip>\d+\.\d+\.\d+\.\d+)/status")
@needs_bearer
def host_status(s, ip):
    s.send(200, {"ip": ip, "up": True, "latencyMs": s.rnd.randint(1, 80)})


@route("POST", "/api/v1/login")
def login(s):
    form = {k: v[0] for k, v in parse_qs(s.body.decode(errors="replace")).items()}
    if form.get("password", "").startswith("wrong"):
        return s.send(401, {"error": "bad credentials"})
    sid = base64.urlsafe_b64encode(s.rnd.randbytes(18)).decode()
    s.send(200, {"ok": True}, extra=[("Set-Cookie", f"session={sid}; HttpOnly; Path=/")])


@route("GET", "/api/v1/me")
def me(s):
    if "session=" not in s.headers.get("Cookie", ""):
        return s.send(401, {"error": "no session"})
    s.send(200, user(7, s.rnd))


@route("GET", "/api/v1/search")
def search(s):
    s.send(200, {"q": s.query.get("q", ""), "hits": [{"id": i, "score": 0.5} for i in range(2)]})


@route("GET", "/api/v1/fetch")
def fetch(s):
    if not s.query.get("api_key"):
        return s.send(403, {"error": "api key"})
    s.send(200, {"url": s.query.get("url"), "status": 200, "bytes": 1234})


@route("POST", "/api/v1/webhooks")
@needs_bearer
def webhooks(s):
    s.send(201, {"id": s.rnd.randint(1, 10**6), "active": True})


@route("POST", "/api/v1/import")
@needs_bearer
def xml_import(s):
    s.send(202, b"<result><status>queued</status></result>", "application/xml")


@route("GET", "/api/v1/admin/stats")
def admin_stats(s):
    if not s.headers.get("Authorization", "").startswith("Basic "):
        return s.send(401, {"error": "auth"}, extra=[("WWW-Authenticate", "Basic")])
    s.send(200, {"users": 1234, "orders": 5678, "window": int(s.query.get("window", "60") or 60)})


@route("GET", "/api/v1/debug/config")
def debug_config(s):
    s.send(200, {"db": "postgres://shop@db/shop", "apiSecret": "sk_live_" + "x" * 24, "debug": True})


@route("GET", "/api/v1/internal/metrics")
def internal_metrics(s):
    s.send(200, b"requests_total 42\n", "text/plain")


@route("GET", "/api/v0/users/" + UID)
@needs_bearer
def old_user(s, userId):
    s.send(200, {"user_id": int(userId), "user_name": "legacy"})


def serve(port, host="127.0.0.1"):
    httpd = ThreadingHTTPServer((host, port), Handler)
    return httpd


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    args = ap.parse_args()
    serve(args.port).serve_forever()
