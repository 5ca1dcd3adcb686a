#!/usr/bin/env bash
# Real curl clients for the vulnapp recording; scripts/record/vulns.sh runs this in the client
# namespace with SERVER set. Each weakness is asked for once on the unhardened host (port 80)
# and its safe twin once, mostly on the hardened host (port 8080). Only ever talks to $SERVER.
set -u
A="http://$SERVER"        # unhardened nginx (server_tokens on, autoindex, no headers)
H="http://$SERVER:8080"   # hardened nginx
P="http://$SERVER:8000"   # python3 -m http.server
N="http://$SERVER:3000"   # Node.js error page
J="http://$SERVER:3001"   # Java error page
PH="http://$SERVER:3002"  # PHP built-in server, display_errors on
RB="http://$SERVER:3003"  # Ruby WEBrick error page
c() { curl -g -sS --max-time 15 -w '%{stderr}%{http_code} %{method} %{url_effective}\n' "$@" >/dev/null; }

# Pages, version banners, missing headers (A) vs hardened (H).
c "$A/" "$A/static/missing.css"
c "$H/" "$H/static/missing.css"
# Stack traces: Python (HTML, JSON), Node, Java; the docs page that only shows one; clean answers.
c "$A/error" "$A/api/error" "$A/docs/errors.json"
c "$N/cart" "$N/ok"
c "$J/price" "$J/ok"
c "$PH/error.php" "$PH/ok.php"
c "$RB/price" "$RB/ok"
# SQL error (a quote breaks the query) and a clean search.
c "$A/search?q=%27" "$H/search?q=phone"
# An SQL injection whose database error proves it reached the query (a confirmed attack).
c -G --data-urlencode "q=' AND extractvalue(1,concat(0x7e,version()))--" "$A/search"
# Reflected XSS, unescaped and escaped.
c "$A/hello?name=%3Cscript%3Ealert(1)%3C/script%3E" "$H/hello-safe?name=%3Cscript%3Ealert(1)%3C/script%3E"
# Open redirect, and a redirect that stays on the host.
c "$A/go?next=https://evil.example/phish" "$H/go-safe?next=https://evil.example/phish" "$H/go-safe?next=/account"
# Login: password in a form over plain HTTP, session cookie without HttpOnly/SameSite; the safe one.
c -d 'user=ann&password=hunter2' "$A/login"
c -d 'user=ann&password=hunter2' -H 'X-Forwarded-Proto: https' "$H/login-safe"
# Basic credentials over plain HTTP, and the same request behind a TLS-terminating proxy.
c -u 'ann:hunter2' "$A/api/me"
c -u 'ann:hunter2' -H 'X-Forwarded-Proto: https' "$H/api/me"
# CORS: reflected with credentials, and a fixed allow-list.
c -H 'Origin: https://evil.example' "$A/api/cors"
c -H 'Origin: https://evil.example' "$H/api/cors-safe"
# JWTs: alg none, a common secret, no exp, a one-year lifetime; a strong short-lived one.
c "$A/token/none" "$A/token/weak" "$A/token/noexp" "$A/token/long"
c "$H/token/strong"
# Secrets in responses, and a masked config.
c "$A/config" "$H/config-safe"
# Exposed files on A; the same paths on an SPA fallback that answers 200 with HTML (soft 404).
c "$A/.env" "$A/.git/HEAD" "$A/.git/config" "$A/backup.zip" "$A/dump.sql" "$A/nginx_status"
c "$H/app/.env" "$H/app/.git/HEAD" "$H/app/backup.zip" "$H/app/dump.sql" "$H/app/server-status" "$H/nginx_status"
# Directory listings: nginx autoindex and python http.server; the same folders without listing.
c "$A/files/" "$P/" "$H/files/" "$P/site/"
