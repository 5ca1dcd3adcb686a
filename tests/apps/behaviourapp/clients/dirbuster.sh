# A dirbuster-like client: one curl per word of the wordlist, a browser-like User-Agent (so
# only its behaviour gives it away), against the app's root.
set -u
while read -r w; do
  curl -s -o /dev/null -A "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36" "http://$SERVER/$w"
done <"$APP_DIR/clients/wordlist.txt"
