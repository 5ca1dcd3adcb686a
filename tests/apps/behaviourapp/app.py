#!/usr/bin/env python3
"""A small web application for Periscope's behaviour tests (Python standard library only).

Pages: /, /about, /products, /products/<id> (public), /static/* (css, js), /login (HTML form,
POST sets a session cookie and redirects to /account, failure re-shows the form with
"Invalid username or password"), /account (needs the session), /search?q=.

API: POST /api/login (JSON {"username", "password"}: 200 {"token": <JWT with sub>} or
401 {"error": "invalid credentials"}), GET /api/me/orders (the caller's order ids),
GET /api/orders/<id> (Bearer JWT or session; deliberately vulnerable to BOLA: any logged-in user
reads any order, as real applications too often do). Everything else is 404.

usage: app.py [--host 127.0.0.1] [--port 8080]
"""

import argparse
import base64
import hashlib
import hmac
import html
import json
import secrets
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USERS = {
    "alice": "wonderland",
    "bob": "builder",
    "carol": "singer42",
    "dave": "hunter2",
    "erin": "correcthorse",
    "frank": "battery9",
    "grace": "hopper1906",
    "heidi": "alps1880",
    "mallory": "evil-but-valid",
    "admin": "s3cr3t-admin",
}
JWT_SECRET = b"behaviourapp-test-secret"
# 300 orders, owned round-robin by the users (mallory owns none of the first 290).
NAMES = sorted(u for u in USERS if u != "mallory")
ORDERS = {i: {"id": i, "owner": NAMES[i % len(NAMES)], "total": (i * 37) % 500 + 0.99,
              "item": f"item-{i % 17}"} for i in range(1, 301)}
for i in range(291, 301):
    ORDERS[i]["owner"] = "mallory"
PRODUCTS = {i: f"Product {i}" for i in range(1, 41)}
SESSIONS = {}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(sub: str) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": sub, "iat": 1700000000, "exp": 1700003600}).encode())
    sig = hmac.new(JWT_SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def jwt_sub(token: str):
    try:
        head, body, sig = token.split(".")
        good = hmac.new(JWT_SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(b64url(good), sig):
            return None
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["sub"]
    except (ValueError, KeyError):
        return None


def page(title: str, body: str) -> bytes:
    return (f"<!doctype html><html><head><title>{html.escape(title)}</title>"
            f'<link rel="stylesheet" href="/static/style.css"></head>'
            f"<body><h1>{html.escape(title)}</h1>{body}"
            f'<script src="/static/app.js"></script></body></html>').encode()


LOGIN_FORM = ('<form method="post" action="/login"><input name="username">'
              '<input type="password" name="password"><button>Log in</button></form>')


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "behaviourapp/1.0"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body: bytes, ctype="text/html; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, 1 << 20)) if n > 0 else b""

    def user(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return jwt_sub(auth[7:].strip())
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session" and value in SESSIONS:
                return SESSIONS[value]
        return None

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        parts = [p for p in path.split("/") if p]
        if path == "/":
            links = "".join(f'<a href="{p}">{p}</a> ' for p in ("/about", "/products", "/login"))
            return self.send(200, page("Welcome", links))
        if path == "/about":
            return self.send(200, page("About", "<p>A shop for tests.</p>"))
        if path == "/products":
            links = "".join(f'<a href="/products/{i}">{n}</a> ' for i, n in PRODUCTS.items())
            return self.send(200, page("Products", links))
        if len(parts) == 2 and parts[0] == "products" and parts[1].isdigit():
            name = PRODUCTS.get(int(parts[1]))
            if name:
                return self.send(200, page(name, "<p>In stock.</p>"))
            return self.send(404, page("Not found", ""))
        if path == "/static/style.css":
            return self.send(200, b"body{font-family:sans-serif}", "text/css")
        if path == "/static/app.js":
            return self.send(200, b"console.log('ok');", "application/javascript")
        if path == "/login":
            return self.send(200, page("Log in", LOGIN_FORM))
        if path == "/account":
            user = self.user()
            if not user:
                return self.send(302, b"", headers=[("Location", "/login")])
            return self.send(200, page(f"Account of {user}", "<p>Your orders.</p>"))
        if path == "/search":
            q = urllib.parse.parse_qs(url.query).get("q", [""])[0]
            return self.send(200, page("Search", f"<p>No results for {html.escape(q)}</p>"))
        if path == "/api/me/orders":
            user = self.user()
            if not user:
                return self.send_json(401, {"error": "login required"})
            return self.send_json(200, [o["id"] for o in ORDERS.values() if o["owner"] == user])
        if len(parts) == 3 and parts[:2] == ["api", "orders"]:
            if not self.user():
                return self.send_json(401, {"error": "login required"})
            order = ORDERS.get(int(parts[2])) if parts[2].isdigit() else None
            if not order:
                return self.send_json(404, {"error": "no such order"})
            # BOLA: the owner is not checked.
            return self.send_json(200, order)
        return self.send(404, page("Not found", "<p>Nothing here.</p>"))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        data = self.body()
        if path == "/login":
            form = urllib.parse.parse_qs(data.decode("utf-8", "replace"))
            user = form.get("username", [""])[0]
            password = form.get("password", [""])[0]
            if USERS.get(user) == password:
                sid = secrets.token_hex(16)
                SESSIONS[sid] = user
                return self.send(302, b"", headers=[
                    ("Location", "/account"),
                    ("Set-Cookie", f"session={sid}; HttpOnly; Path=/")])
            return self.send(200, page("Log in",
                                       "<p class=error>Invalid username or password</p>"
                                       + LOGIN_FORM))
        if path == "/api/login":
            try:
                creds = json.loads(data or b"{}")
                user, password = creds.get("username", ""), creds.get("password", "")
            except (ValueError, AttributeError):
                return self.send_json(400, {"error": "bad json"})
            if USERS.get(user) == password:
                return self.send_json(200, {"token": make_jwt(user)})
            return self.send_json(401, {"error": "invalid credentials"})
        return self.send(404, page("Not found", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    a = ap.parse_args()
    ThreadingHTTPServer((a.host, a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
