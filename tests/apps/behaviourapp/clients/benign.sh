# Benign traffic that must raise no incident: four users browsing from their own addresses
# (pages, assets, a favicon that 404s, logging in, reading their own orders), one of them
# mistyping the password twice first; and a crawler (wget) of the existing pages.
set -u
read -r -a ips <<<"$CLIENT_IPS"
users=(alice bob carol dave)
pass=(wonderland builder singer42 hunter2)
ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
for n in 0 1 2 3; do
  ip=${ips[$n]} u=${users[$n]} p=${pass[$n]}
  jar="$WORK/jar-$u"
  c() { curl -s --interface "$ip" -A "$ua" -b "$jar" -c "$jar" "$@" >/dev/null; }
  c "http://$SERVER/" "http://$SERVER/static/style.css" "http://$SERVER/static/app.js" \
    "http://$SERVER/favicon.ico" "http://$SERVER/about" "http://$SERVER/products" \
    "http://$SERVER/products/$((n * 3 + 1))" "http://$SERVER/products/$((n * 3 + 2))" \
    "http://$SERVER/login"
  if [ "$u" = carol ]; then
    c --data-urlencode "username=$u" --data-urlencode "password=singer24" "http://$SERVER/login"
    c --data-urlencode "username=$u" --data-urlencode "password=Singer42" "http://$SERVER/login"
  fi
  c --data-urlencode "username=$u" --data-urlencode "password=$p" "http://$SERVER/login"
  c "http://$SERVER/account"
  token=$(curl -s --interface "$ip" -A "$ua" -H "Content-Type: application/json" \
    -d "{\"username\": \"$u\", \"password\": \"$p\"}" "http://$SERVER/api/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  ids=$(curl -s --interface "$ip" -A "$ua" -H "Authorization: Bearer $token" "http://$SERVER/api/me/orders" |
    python3 -c 'import json, sys; print(" ".join(str(i) for i in json.load(sys.stdin)[:6]))')
  for i in $ids; do
    curl -s -o /dev/null --interface "$ip" -A "$ua" -H "Authorization: Bearer $token" "http://$SERVER/api/orders/$i"
  done
  # A typo in an address bar.
  c "http://$SERVER/prodcts"
done
# A crawler of the existing pages.
cd "$WORK" && wget -q -r -l 2 --delete-after --bind-address="${ips[4]}" \
  -U "Mozilla/5.0 (compatible; examplebot/1.0)" "http://$SERVER/" || true
