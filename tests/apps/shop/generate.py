#!/usr/bin/env python3
"""Traffic generator for the shop test server: realistic, varied requests over real sockets.

Writes one JSON object per exchange (request and response as sent and received) so that
tests can turn them into Periscope exchanges without a capture; run it under tcpdump to get
a pcap of the same traffic.

    python3 generate.py --seed 1 --count 3000 --out traffic.jsonl            # own server, ephemeral port
    python3 generate.py --url http://127.0.0.1:8080 --count 500 --out t.jsonl  # a running server.py
"""
import argparse
import base64
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server  # noqa: E402

ADJ = ["red", "blue", "green", "gold", "silver", "quiet", "rapid", "brave", "lucky", "misty", "north", "south",
       "happy", "bold", "calm", "dark", "eager", "fancy", "gentle", "jolly"]
NOUN = ["falcon", "otter", "panda", "tiger", "maple", "river", "comet", "harbor", "pixel", "rocket", "summit",
        "badger", "canyon", "delta", "ember", "forest", "glacier", "meadow", "nebula", "orchid"]
WORDS = ["shoes", "red", "lamp", "garden hose", "chess", "vinyl", "novel", "puzzle", "kettle", "tent", "guitar"]
FIRST = ["ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "edsger"]


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Gen:
    def __init__(self, rnd):
        self.r = rnd
        self.slugs = [f"{a}-{n}" for a in ADJ for n in NOUN]

    def jwt(self):
        hdr = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": str(self.r.randint(1, 9999)), "exp": int(time.time()) + 3600}).encode())
        return f"{hdr}.{body}.{b64url(self.r.randbytes(32))}"

    def auth(self, headers, missing=0.04):
        if self.r.random() > missing:
            headers.append(("Authorization", "Bearer " + self.jwt()))

    def uid(self):
        return self.r.choice([self.r.randint(1, 200), self.r.randint(1000, 999999)])

    def oid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def sku(self):
        return "%012x" % self.r.getrandbits(48)

    def email(self):
        return f"{self.r.choice(FIRST)}.{self.r.randint(1, 9999)}@{self.r.choice(['example.org', 'mail.test', 'corp.example'])}"

    def ts(self):
        return f"2026-{self.r.randint(1, 11):02d}-{self.r.randint(1, 28):02d}T{self.r.randint(0, 23):02d}:{self.r.randint(0, 59):02d}:00Z"

    def q(self, pairs):
        pairs = [(k, v) for k, v in pairs if v is not None]
        return ("?" + urlencode(pairs)) if pairs else ""

    def maybe(self, p, v):
        return v if self.r.random() < p else None

    def card(self):
        base = [4] + [self.r.randint(0, 9) for _ in range(14)]
        total = 0
        for i, d in enumerate(reversed(base)):
            d = d * 2 if i % 2 == 0 else d
            total += d - 9 if d > 9 else d
        return "".join(map(str, base)) + str((10 - total % 10) % 10)

    # Each operation returns (method, target, headers, body).
    def op_health(self):
        return "GET", "/health", [], b""

    def op_list_users(self):
        h = []
        self.auth(h)
        return "GET", "/api/v1/users" + self.q([("page", self.maybe(0.8, self.r.randint(1, 40))), ("limit", self.maybe(0.6, self.r.choice([10, 20, 50]))),
                                                ("sort", self.maybe(0.5, self.r.choice(["name", "created", "email"]))), ("q", self.maybe(0.3, self.r.choice(FIRST)))]), h, b""

    def op_create_user(self):
        h = [("Content-Type", "application/json")]
        self.auth(h)
        first = self.r.choice(FIRST)
        body = {"name": first.title(), "email": self.email(), "password": b64url(self.r.randbytes(9))}
        if self.r.random() < 0.7:
            body["birthDate"] = f"{self.r.randint(1950, 2005)}-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}"
        if self.r.random() < 0.6:
            body["phone"] = f"+44 20 {self.r.randint(1000, 9999)} {self.r.randint(1000, 9999)}"
        if self.r.random() < 0.5:
            body["tags"] = self.r.sample(["vip", "beta", "staff", "new"], self.r.randint(0, 3))
        if self.r.random() < 0.5:
            body["address"] = {"street": f"{self.r.randint(1, 200)} High St", "city": self.r.choice(["Leeds", "York", "Bath"]), "zip": f"{self.r.randint(10000, 99999)}"}
        return "POST", "/api/v1/users", h, json.dumps(body).encode()

    def op_get_user(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/users/{self.uid()}", h, b""

    def op_put_user(self):
        h = [("Content-Type", "application/json")]
        self.auth(h)
        body = {"name": self.r.choice(FIRST).title()}
        if self.r.random() < 0.5:
            body["email"] = self.email()
        return "PUT", f"/api/v1/users/{self.uid()}", h, json.dumps(body).encode()

    def op_delete_user(self):
        h = []
        self.auth(h)
        return "DELETE", f"/api/v1/users/{self.uid()}", h, b""

    def op_user_orders(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/users/{self.uid()}/orders" + self.q([("status", self.maybe(0.6, self.r.choice(["pending", "shipped", "delivered", "cancelled"]))),
                                                                     ("since", self.maybe(0.4, self.ts()))]), h, b""

    def op_user_order(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/users/{self.uid()}/orders/{self.oid()}", h, b""

    def op_create_order(self):
        h = [("Content-Type", "application/json"), ("Idempotency-Key", self.oid())]
        self.auth(h)
        body = {"userId": self.uid(), "items": [{"sku": self.sku(), "quantity": self.r.randint(1, 5), "price": round(self.r.uniform(1, 200), 2)}
                                                for _ in range(self.r.randint(1, 4))],
                "card": {"number": self.card(), "expiry": f"{self.r.randint(1, 12):02d}/{self.r.randint(27, 31)}", "cvv": f"{self.r.randint(100, 999)}"},
                "giftWrap": self.r.random() < 0.2}
        if self.r.random() < 0.3:
            body["coupon"] = self.r.choice(["WINTER10", "FREESHIP", "VIP20"])
        return "POST", "/api/v1/orders", h, json.dumps(body).encode()

    def op_patch_order(self):
        h = [("Content-Type", "application/json")]
        self.auth(h)
        return "PATCH", f"/api/v1/orders/{self.oid()}", h, json.dumps({"status": self.r.choice(["pending", "shipped", "delivered", "cancelled"])}).encode()

    def price(self):
        return self.r.choice([f"{self.r.uniform(1, 100):.2f}", str(self.r.randint(1, 100))])

    def op_products(self):
        return "GET", "/api/v1/products" + self.q([("category", self.maybe(0.7, self.r.choice(["books", "games", "music", "garden"]))), ("minPrice", self.maybe(0.4, self.price())),
                                                   ("maxPrice", self.maybe(0.4, self.price())), ("inStock", self.maybe(0.5, self.r.choice(["true", "false"]))),
                                                   ("page", self.maybe(0.5, self.r.randint(1, 20)))]), [], b""

    def op_product(self):
        return "GET", f"/api/v1/products/{self.sku()}", [], b""

    def op_reviews(self):
        return "GET", f"/api/v1/products/{self.sku()}/reviews" + self.q([("limit", self.maybe(0.5, self.r.choice([5, 10, 25])))]), [], b""

    def op_upload(self):
        boundary = "----shop" + b64url(self.r.randbytes(9))
        h = [("Content-Type", f"multipart/form-data; boundary={boundary}")]
        self.auth(h)
        parts = []
        if self.r.random() < 0.7:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n{self.r.choice(WORDS)}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="doc{self.r.randint(1, 99)}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + self.r.randbytes(self.r.randint(50, 400)) + b"\r\n")
        return "POST", "/api/v1/files", h, b"".join(parts) + f"--{boundary}--\r\n".encode()

    def op_download(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/files/{self.oid()}", h, b""

    def op_report(self):
        h = [("X-Api-Key", "shop_" + b64url(self.r.randbytes(15)))]
        if self.r.random() < 0.6:
            h.append(("X-Report-Format", self.r.choice(["csv", "json"])))
        return "GET", f"/api/v1/reports/2026-{self.r.randint(1, 11):02d}-{self.r.randint(1, 28):02d}", h, b""

    def op_profile(self):
        return "GET", f"/api/v1/accounts/{quote(self.email(), safe='@')}/profile?api_key={b64url(self.r.randbytes(15))}", [], b""

    def op_members(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/teams/{self.r.choice(self.slugs)}/members" + self.q([("role", self.maybe(0.5, self.r.choice(["owner", "admin", "member"])))]), h, b""

    def op_invite(self):
        return "GET", f"/api/v1/invites/{b64url(self.r.randbytes(18))}", [], b""

    def op_host_status(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v1/hosts/10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}/status", h, b""

    def op_login(self):
        pw = self.r.choice(["wrong-" + b64url(self.r.randbytes(4)), b64url(self.r.randbytes(9))])
        form = [("username", self.r.choice(FIRST)), ("password", pw)]
        if self.r.random() < 0.5:
            form.append(("remember", self.r.choice(["true", "false"])))
        return "POST", "/api/v1/login", [("Content-Type", "application/x-www-form-urlencoded")], urlencode(form).encode()

    def op_me(self):
        cookies = [f"session={b64url(self.r.randbytes(18))}"]
        if self.r.random() < 0.6:
            cookies.append(f"theme={self.r.choice(['light', 'dark'])}")
        self.r.shuffle(cookies)
        h = [("Cookie", "; ".join(cookies))]
        if self.r.random() < 0.7:
            h.append(("X-Client-Version", f"{self.r.randint(1, 4)}.{self.r.randint(0, 20)}.{self.r.randint(0, 9)}"))
        return "GET", "/api/v1/me", h, b""

    def op_search(self):
        h = [("X-Request-Id", self.oid())] if self.r.random() < 0.6 else []
        return "GET", "/api/v1/search" + self.q([("q", self.r.choice(WORDS)), ("since", self.maybe(0.3, self.ts())), ("limit", self.maybe(0.5, self.r.choice([10, 20, 100])))]), h, b""

    def op_fetch(self):
        url = self.r.choice(["https://example.com/feed.xml", "https://cdn.example.net/img/%d.png" % self.r.randint(1, 999),
                             "http://169.254.169.254/latest/meta-data/", "https://news.example.org/rss"])
        return "GET", "/api/v1/fetch" + self.q([("url", url), ("api_key", b64url(self.r.randbytes(15)))]), [], b""

    def op_webhooks(self):
        h = [("Content-Type", "application/json")]
        self.auth(h)
        body = {"callbackUrl": f"https://hooks.example.com/{self.r.randint(1, 999)}", "events": self.r.sample(["order.created", "order.shipped", "user.created"], self.r.randint(1, 3)),
                "secret": b64url(self.r.randbytes(24)), "active": self.r.random() < 0.8}
        return "POST", "/api/v1/webhooks", h, json.dumps(body).encode()

    def op_import(self):
        h = [("Content-Type", "application/xml")]
        self.auth(h)
        body = f"<?xml version=\"1.0\"?><item><name>{self.r.choice(WORDS)}</name><quantity>{self.r.randint(1, 50)}</quantity><price>{self.price()}</price></item>"
        return "POST", "/api/v1/import", h, body.encode()

    def op_admin(self):
        h = [("Authorization", "Basic " + base64.b64encode(b"admin:" + b64url(self.r.randbytes(6)).encode()).decode())]
        return "GET", "/api/v1/admin/stats" + self.q([("window", self.maybe(0.6, self.r.choice([60, 300, 3600])))]), h, b""

    def op_debug(self):
        return "GET", "/api/v1/debug/config", [], b""

    def op_internal(self):
        return "GET", "/api/v1/internal/metrics", [], b""

    def op_old_user(self):
        h = []
        self.auth(h)
        return "GET", f"/api/v0/users/{self.uid()}", h, b""

    def op_static(self):
        return "GET", self.r.choice(list(server.STATIC)), [], b""


# Relative frequency of each operation: busy reads, rarer writes and admin calls.
WEIGHTS = {"health": 2, "list_users": 6, "create_user": 3, "get_user": 8, "put_user": 2, "delete_user": 1,
           "user_orders": 4, "user_order": 4, "create_order": 3, "patch_order": 2, "products": 6, "product": 6,
           "reviews": 3, "upload": 2, "download": 2, "report": 2, "profile": 2, "members": 5, "invite": 3,
           "host_status": 2, "login": 3, "me": 4, "search": 4, "fetch": 2, "webhooks": 2, "import": 2, "admin": 1,
           "debug": 1, "internal": 1, "old_user": 1, "static": 6}

UA = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "shop-ios/4.2 (iPhone; iOS 18.1)", "okhttp/4.12.0", "python-requests/2.32.3"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--url", help="a running server; default: start one on an ephemeral port")
    ap.add_argument("--host-header", default="shop.test")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    gen = Gen(rnd)
    if args.url:
        u = urlsplit(args.url)
        host, port = u.hostname, u.port or 80
    else:
        httpd = server.serve(0)
        host, port = "127.0.0.1", httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    names = list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    # Every operation at least once, then weighted random.
    plan = names + rnd.choices(names, weights, k=max(0, args.count - len(names)))
    rnd.shuffle(plan)
    conn = None
    with open(args.out, "w") as out:
        for i, name in enumerate(plan):
            method, target, headers, body = getattr(gen, "op_" + name)()
            headers = [("Host", args.host_header), ("User-Agent", rnd.choice(UA)), ("Accept", "*/*")] + headers
            if body:
                headers.append(("Content-Length", str(len(body))))
            if conn is None or i % 20 == 0:
                if conn:
                    conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
            ts = time.time_ns()
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            out.write(json.dumps({"ts": ts, "op": name, "method": method, "target": target, "headers": headers,
                                  "body": base64.b64encode(body).decode(), "status": resp.status,
                                  "resp_headers": resp.getheaders(), "resp_body": base64.b64encode(data).decode()}) + "\n")
    if conn:
        conn.close()


if __name__ == "__main__":
    main()
