#!/usr/bin/env python3
"""vulnapp: a small web application that shows, on purpose, each weakness Periscope's passive
vulnerability scanner looks for, next to a route that does the same thing safely. Standard
library only. Served behind nginx by scripts/record/vulns.sh, which records the traffic.

usage: app.py HOST PORT
"""

import base64
import hashlib
import hmac
import html
import io
import json
import secrets
import sqlite3
import sys
import time
import traceback
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DB = sqlite3.connect(":memory:", check_same_thread=False)
DB.executescript(
    """
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);
    INSERT INTO products (name, price) VALUES ('phone', 299.0), ('laptop', 999.0), ('cable', 9.5);
    CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT, password_hash TEXT);
    INSERT INTO users (login, password_hash) VALUES ('ann', 'pbkdf2$x'), ('bob', 'pbkdf2$y');
    """
)

SPA = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title></head>
<body><div id="app">Loading...</div><script src="/static/app.js"></script></body></html>
"""

ENV_FILE = b"""# production settings
APP_ENV=production
DB_HOST=db.internal
DB_USER=shop
DB_PASSWORD=Tr0ub4dor-and-3
SECRET_KEY=8c1f0e7a55d1
export MAIL_HOST=smtp.internal
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(header: dict, claims: dict, secret) -> str:
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    if secret is None:
        return signing + "."
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def current_traceback() -> str:
    """A real traceback from a real exception."""
    try:
        prices = {"phone": 299}
        return str(prices["tablet"] / 0)
    except Exception:  # noqa: BLE001 - the point is to show it
        return traceback.format_exc()


def backup_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("site/app.py", open(__file__, "rb").read())
        z.writestr("site/.env", ENV_FILE)
    return buf.getvalue()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # -- helpers ---------------------------------------------------------------------------
    def send(self, status, body, ctype="text/html; charset=utf-8", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj, indent=1), "application/json", headers)

    def page(self, title, inner, status=200, headers=()):
        self.send(status, f"<!doctype html><html><head><title>{title}</title></head><body>{inner}</body></html>", headers=headers)

    def params(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        return u.path, q

    def host(self):
        return self.headers.get("Host", "localhost")

    # -- routes ----------------------------------------------------------------------------
    def do_POST(self):
        path, _ = self.params()
        n = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode(errors="replace")).items()}
        if path == "/login":
            # Weak: session cookie without HttpOnly or SameSite.
            sid = secrets.token_hex(16)
            return self.page("Welcome", f"<p>Hello {html.escape(form.get('user', ''))}</p>", headers=[("Set-Cookie", f"session={sid}; Path=/")])
        if path == "/login-safe":
            sid = secrets.token_hex(16)
            return self.page("Welcome", "<p>Hello</p>", headers=[("Set-Cookie", f"session={sid}; Path=/; Secure; HttpOnly; SameSite=Lax")])
        return self.page("Not found", "<p>Not found</p>", 404)

    def do_GET(self):
        path, q = self.params()
        now = int(time.time())
        if path == "/":
            return self.page("Shop", "<h1>Shop</h1><p>Welcome.</p>")
        if path == "/error":
            tb = current_traceback()
            return self.page("Internal error", f"<h1>Internal Server Error</h1><pre>{html.escape(tb)}</pre>", 500)
        if path == "/api/error":
            return self.json(500, {"error": "internal", "trace": current_traceback()})
        if path == "/docs/errors.json":
            tb = current_traceback()
            return self.json(200, {
                "title": "Error handling",
                "description": "When a handler fails, the log shows a traceback such as:\n" + tb,
                "examples": [{"summary": "server log", "value": tb}],
            })
        if path == "/search":
            term = q.get("q", "")
            try:
                rows = DB.execute(f"SELECT name, price FROM products WHERE name LIKE '%{term}%'").fetchall()
            except sqlite3.Error as e:
                return self.page("Error", f"<pre>{type(e).__module__}.{type(e).__name__}: {html.escape(str(e))}</pre>", 500)
            items = "".join(f"<li>{html.escape(n)}: {p}</li>" for n, p in rows)
            return self.page("Search", f"<p>Results for {html.escape(term)}</p><ul>{items}</ul>")
        if path == "/hello":
            return self.page("Hello", f"<p>Hello {q.get('name', '')}</p>")  # unescaped on purpose
        if path == "/hello-safe":
            return self.page("Hello", f"<p>Hello {html.escape(q.get('name', ''))}</p>")
        if path == "/go":
            return self.send(302, "", headers=[("Location", q.get("next", "/"))])
        if path == "/go-safe":
            nxt = q.get("next", "/")
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = "/"
            return self.send(302, "", headers=[("Location", f"http://{self.host()}{nxt}")])
        if path == "/api/me":
            return self.json(200, {"user": "ann", "roles": ["customer"]})
        if path == "/api/cors":
            origin = self.headers.get("Origin", "*")
            return self.json(200, {"user": "ann"}, [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")])
        if path == "/api/cors-safe":
            return self.json(200, {"user": "ann"}, [("Access-Control-Allow-Origin", "http://shop.vulnapp.test"), ("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")])
        if path.startswith("/token/"):
            kind = path[len("/token/"):]
            hs = {"alg": "HS256", "typ": "JWT"}
            short = {"sub": "ann", "iat": now, "exp": now + 900}
            strong = secrets.token_bytes(32)
            token = {
                "none": lambda: make_jwt({"alg": "none", "typ": "JWT"}, short, None),
                "weak": lambda: make_jwt(hs, short, b"changeme"),
                "noexp": lambda: make_jwt(hs, {"sub": "ann", "iat": now}, strong),
                "long": lambda: make_jwt(hs, {"sub": "ann", "iat": now, "exp": now + 365 * 86400}, strong),
                "strong": lambda: make_jwt(hs, short, strong),
            }.get(kind)
            if token is None:
                return self.page("Not found", "<p>Not found</p>", 404)
            return self.json(200, {"token": token(), "token_type": "Bearer"})
        if path == "/config":
            return self.json(200, {"region": "eu-west-1", "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "database": {"host": "db.internal", "password": "Tr0ub4dor-and-3"}})
        if path == "/config-safe":
            return self.json(200, {"region": "eu-west-1", "database": {"host": "db.internal", "password": "********"}})
        if path == "/.env":
            return self.send(200, ENV_FILE, "application/octet-stream")
        if path == "/.git/HEAD":
            return self.send(200, b"ref: refs/heads/main\n", "text/plain")
        if path == "/.git/config":
            return self.send(200, b"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n", "text/plain")
        if path == "/backup.zip":
            return self.send(200, backup_zip(), "application/zip")
        if path == "/dump.sql":
            return self.send(200, "\n".join(DB.iterdump()) + "\n", "application/sql")
        if path.startswith("/app/"):
            # A single-page app: every path under /app/ answers 200 with the same HTML (a soft 404).
            return self.send(200, SPA)
        return self.page("Not found", "<p>Not found</p>", 404)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    ThreadingHTTPServer((host, port), Handler).serve_forever()
