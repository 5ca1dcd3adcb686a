# Several users behind one forwarding proxy (a real nginx in the client namespace): every
# request reaches the app from PROXY_IP with X-Forwarded-For naming the user's own address.
# Each user mistypes the password twice, logs in, browses and reads their own orders. Seen from
# the proxy's address alone this is failed logins for eight accounts from one IP; with the
# proxy trusted it is eight ordinary users.
set -u
command -v nginx >/dev/null || { echo "proxy.sh: nginx not found" >&2; exit 2; }
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:8081;
    location / {
      proxy_pass http://$SERVER;
      proxy_http_version 1.1;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:8081/about && break; sleep 0.1; done
users=(alice bob carol dave erin frank grace heidi)
pass=(wonderland builder singer42 hunter2 correcthorse battery9 hopper1906 alps1880)
ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
for n in 0 1 2 3 4 5 6 7; do
  addr="192.168.50.$((n + 10))"
  ip addr add "$addr/32" dev lo 2>/dev/null || true
  u=${users[$n]} p=${pass[$n]}
  jar="$WORK/jar-$u"
  c() { curl -s --interface "$addr" -A "$ua" -b "$jar" -c "$jar" "$@" >/dev/null; }
  base="http://127.0.0.1:8081"
  c -H "Host: shop.example" "$base/" "$base/products" "$base/login"
  c -H "Host: shop.example" --data-urlencode "username=$u" --data-urlencode "password=${p}x" "$base/login"
  c -H "Host: shop.example" --data-urlencode "username=$u" --data-urlencode "password=${p^}" "$base/login"
  c -H "Host: shop.example" --data-urlencode "username=$u" --data-urlencode "password=$p" "$base/login"
  c -H "Host: shop.example" "$base/account" "$base/products/$((n + 1))"
  ids=$(curl -s --interface "$addr" -A "$ua" -b "$jar" -H "Host: shop.example" "$base/api/me/orders" |
    python3 -c 'import json, sys; print(" ".join(str(i) for i in json.load(sys.stdin)[:4]))')
  for i in $ids; do c -H "Host: shop.example" "$base/api/orders/$i"; done
done
