#!/usr/bin/env python3
"""Generates benign.jsonl: realistic benign HTTP requests in the dataset format of
shared/datasets/README.md. Deterministic (seeded). Written from scratch for Periscope:
browsers' navigation and asset requests with real header sets (incl. old browsers),
analytics beacons, REST and GraphQL APIs, forms, uploads, JWTs, CMS HTML, markdown with
code, prose with apostrophes and SQL- or shell-looking words, base64 images, long tokens.

Usage: python3 gen_benign.py [N [N2]] > benign.jsonl
"""
import base64, gzip, hashlib, json, random, string, sys, uuid
from urllib.parse import quote, urlencode

R = random.Random(20261125)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2600

HOSTS = ["shop.example.com", "api.example.com", "www.example.org", "app.acme.io", "portal.contoso.net", "blog.example.net", "cdn.example.com", "docs.example.dev"]
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; .NET CLR 1.1.4322; .NET CLR 2.0.50727)",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; .NET CLR 2.0.50727; Media Center PC 6.0)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "okhttp/4.12.0", "Dalvik/2.1.0 (Linux; U; Android 13; SM-S918B Build/TP1A.220624.014)",
    "MyShopApp/5.2.1 (iPhone; iOS 17.1; Scale/3.00)", "axios/1.6.2", "PostmanRuntime/7.35.0", "Java/17.0.9", "Apache-HttpClient/4.5.14 (Java/11.0.21)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36",
]
ACCEPT_HTML = ["text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
               "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
               "image/gif, image/x-xbitmap, image/jpeg, image/pjpeg, application/x-shockwave-flash, application/vnd.ms-excel, application/msword, */*"]
LANGS = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "fr-FR,fr;q=0.8", "ja,en-US;q=0.9,en;q=0.8", "pt-BR,pt;q=0.9", "en-GB,en;q=0.5", "zh-CN,zh;q=0.9"]
WORDS = "the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part".split()
PROSE = [
    "I'd like to return the blue sweater, it's too small for my daughter.",
    "Don't forget: the meeting's moved to 3pm on Friday.",
    "We're out of stock on the 'Classic' model; select another size or drop us a line.",
    "Can you update my address? I moved from 12 O'Connell St. to 4 D'Arcy Lane.",
    "The union rep will select a new delegate from the table of candidates.",
    "Please delete my old account and insert the new email instead.",
    "Where's my order?? It said 2-3 days & it's been a week :(",
    "Great product! 5/5 would buy again -- shipping was fast.",
    "Is there a way to order by price and then by rating?",
    "I tried 'or' and 'and' in the search but nothing came up.",
    "My name is Siobhan O'Neill-Smith and I'd like a refund for order #4471.",
    "L'été dernier, j'ai acheté deux chemises; l'une était trop grande.",
    "Hi team, the \"Export to CSV\" button doesn't work in Firefox 115 (ESR).",
    "Re: invoice 2023-114 — we've paid 50% upfront, the remainder's due on delivery.",
    "Select your country, then choose a shipping method (standard or express).",
    "Could you drop the price a bit? I'm buying 10 units.",
    "Sleep well, and echo my thanks to the whole team!",
    "The cat sat on the mat; the dog slept in the sun.",
    "Tom & Jerry | Season 1 | Episode 3",
    "Use 1=1 mapping for the IDs from the old system, it's simpler.",
    "My password reset link isn't working; it says 'token expired' after 5 minutes.",
    "Who's the author of \"Where the Crawdads Sing\"?",
    "I'm interested in the 3-bedroom flat (ref: LDN/2291) — is it still available?",
    "This is the 2nd time I've asked: why was I charged twice on 11/02?",
    "Note: ping me on Slack if the build's red; otherwise I'll merge tomorrow.",
    "Order of operations: 2 + 3 * 4 = 14, not 20.",
    "We use <b>bold</b> and <i>italic</i> tags in the newsletter, right?",
    "Find the best deals on laptops, phones & more — up to 40% off!",
    "Is it OK to wash this jacket at 40°C?",
    "Kill two birds with one stone: book the hotel and the flight together.",
]
SEARCH = ["rock & roll", "C# vs C++", "50% off shoes", "AT&T plans", "what's 2+2", "Tom's diner lyrics", "select comfort mattress", "union station parking",
          "drop ceiling tiles", "cat 6 cable", "ls 460 lexus", "id card renewal", "rm williams boots", "sh 130 toll road", "ping pong table", "curl hair tips",
          "who am i movie", "kill bill vol 2", "sleep number bed", "echo dot 5th gen", "find my iphone", "wget vs curl", "bash birthday party ideas",
          "python tutorial for beginners", "java coffee beans", "where is the nearest pharmacy", "o'reilly auto parts", "macy's black friday",
          "and or but conjunctions", "1/2 cup to grams", "\"exact phrase\" search", "-minus operator google", "site:example.com pricing",
          "how to fix 'permission denied' error", "table for 2 tonight", "delete facebook account", "insert coin", "update windows 11",
          "null and void meaning", "true or false quiz", "script writing course", "alert 1 sign", "confirm booking", "prompt engineering",
          "document scanner app", "window cleaning", "eval of projects", "exec chair", "system of a down", "passwd meaning", "etc passwd meaning",
          "localhost 8080 not working", "127.0.0.1 refused to connect", "file:// protocol explained", "../ meaning in path", "${} in bash", "{{ }} in jinja"]
TLDS = ["com", "org", "net", "io", "de", "co.uk"]

def tok(n, alphabet=string.ascii_letters + string.digits):
    return "".join(R.choice(alphabet) for _ in range(n))

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def jwt():
    h = {"alg": R.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    if R.random() < 0.5:
        h["kid"] = tok(16)
    p = {"sub": str(uuid.UUID(int=R.getrandbits(128))), "iat": 1732500000 + R.randint(0, 10**6), "exp": 1732600000 + R.randint(0, 10**6),
         "iss": f"https://auth.{R.choice(HOSTS)}/", "aud": R.choice(["web", "mobile", "api"]), "scope": R.choice(["read write", "openid profile email", "orders:read"]),
         "name": R.choice(["Jane O'Brien", "José Álvarez", "Li Wei", "Anna-Lena Müller"]), "email": f"{tok(6).lower()}@example.com"}
    return f"{b64url(json.dumps(h).encode())}.{b64url(json.dumps(p).encode())}.{b64url(R.randbytes(32))}"

def png_b64():
    data = b"\x89PNG\r\n\x1a\n" + R.randbytes(R.randint(60, 400))
    return base64.b64encode(data).decode()

def cookies():
    c = [f"_ga=GA1.2.{R.randint(10**8, 10**9)}.{R.randint(1.6e9, 1.73e9)}", f"_gid=GA1.2.{R.randint(10**8, 10**9)}.{R.randint(1.7e9, 1.73e9)}"]
    if R.random() < 0.6:
        c.append(f"session={tok(32)}")
    if R.random() < 0.3:
        c.append("OptanonConsent=isGDPRApplies=true&datestamp=Mon+Nov+25+2026+10%3A12%3A01+GMT%2B0100&version=202310.1.0&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1&hosts=&consentId=" + str(uuid.UUID(int=R.getrandbits(128))))
    if R.random() < 0.3:
        c.append(f"_fbp=fb.1.{R.randint(1.7e12, 1.73e12)}.{R.randint(10**8, 10**9)}")
    if R.random() < 0.2:
        c.append("cart=" + quote(json.dumps({"items": [{"sku": tok(6).upper(), "qty": R.randint(1, 3)}]})))
    if R.random() < 0.2:
        c.append(f"XSRF-TOKEN={tok(40)}%3D")
    if R.random() < 0.15:
        c.append(f"access_token={jwt()}")
    if R.random() < 0.2:
        c.append(f"prefs={quote(json.dumps({'theme': 'dark', 'lang': 'en'}))}")
    R.shuffle(c)
    return "; ".join(c)

def browser_headers(host, accept=None, referer=True):
    ua = R.choice(UAS)
    h = [["Host", host], ["User-Agent", ua], ["Accept", accept or R.choice(ACCEPT_HTML)], ["Accept-Language", R.choice(LANGS)], ["Accept-Encoding", R.choice(["gzip, deflate, br", "gzip, deflate", "gzip"])]]
    if "Chrome" in ua and R.random() < 0.7:
        h += [["Sec-Ch-Ua", '"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"'], ["Sec-Ch-Ua-Mobile", "?0"], ["Sec-Ch-Ua-Platform", '"Windows"'],
              ["Sec-Fetch-Dest", "document"], ["Sec-Fetch-Mode", "navigate"], ["Sec-Fetch-Site", R.choice(["none", "same-origin", "cross-site"])], ["Upgrade-Insecure-Requests", "1"]]
    if "MSIE" in ua:
        h += [["UA-CPU", "x86"], ["Pragma", "no-cache"]]
    if referer and R.random() < 0.6:
        q = quote(R.choice(SEARCH))
        h.append(["Referer", R.choice([f"https://www.google.com/search?q={q}&oq={q}&sourceid=chrome&ie=UTF-8", f"https://{host}/", f"https://{host}/products?page={R.randint(1, 9)}", "https://t.co/" + tok(10), f"https://www.bing.com/search?q={q}&form=QBLH"])])
    if R.random() < 0.8:
        h.append(["Cookie", cookies()])
    if R.random() < 0.2:
        h.append(["If-None-Match", f'W/"{R.randint(10, 999):x}-{tok(12).lower()}"'])
    if R.random() < 0.15:
        h.append(["If-Modified-Since", "Mon, 25 Nov 2026 08:12:31 GMT"])
    if R.random() < 0.2:
        h.append(["X-Forwarded-For", f"{R.randint(1, 223)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}, 10.0.{R.randint(0, 9)}.{R.randint(1, 254)}"])
    if R.random() < 0.1:
        h.append(["DNT", "1"])
    return h

def api_headers(host, ct=None, body=None):
    h = [["Host", host], ["User-Agent", R.choice(UAS[13:20])], ["Accept", R.choice(["application/json", "application/json, text/plain, */*", "*/*"])]]
    r = R.random()
    if r < 0.5:
        h.append(["Authorization", f"Bearer {jwt()}"])
    elif r < 0.7:
        h.append(["Authorization", "Basic " + base64.b64encode(f"{tok(8).lower()}:{tok(14)}".encode()).decode()])
    elif r < 0.85:
        h.append(["X-Api-Key", tok(R.choice([32, 40, 48]))])
    if R.random() < 0.4:
        h.append(["X-Request-Id", str(uuid.UUID(int=R.getrandbits(128)))])
    if R.random() < 0.2:
        h.append(["Traceparent", f"00-{R.getrandbits(128):032x}-{R.getrandbits(64):016x}-01"])
    if R.random() < 0.1:
        h.append(["Idempotency-Key", str(uuid.UUID(int=R.getrandbits(128)))])
    if ct:
        h.append(["Content-Type", ct])
    if body is not None:
        h.append(["Content-Length", str(len(body))])
    return h

def rid():
    return R.choice([str(R.randint(1, 99999)), str(uuid.UUID(int=R.getrandbits(128))), tok(24).lower(), f"{R.getrandbits(96):024x}"])

def person():
    first = R.choice(["Jane", "John", "María", "Seán", "Zoë", "Ahmed", "Yuki", "Olu", "D'Angelo", "Mary-Kate", "Chloé", "Bjørn"])
    last = R.choice(["O'Brien", "Smith", "García", "Nguyen", "Müller", "D'Souza", "van der Berg", "Ó Súilleabháin", "Kowalski", "Okafor"])
    return first, last

def email(f, l):
    base = (f + "." + l).lower().replace("'", "").replace(" ", "")
    return R.choice([f"{base}@example.com", f"{f.lower()}+shop@mail.example.org", f"{tok(5).lower()}_{R.randint(1, 99)}@example.net"])

def markdown():
    return R.choice([
        "## Steps to reproduce\n\n1. Open the app\n2. Click *Export*\n3. See the error\n\n> It worked in v2.3, I'm pretty sure.\n",
        "Here's my config:\n\n```yaml\nserver:\n  port: 8080\n  host: 0.0.0.0\nlogging:\n  level: info\n```\n\nAny idea what's wrong?",
        "Try this:\n\n```js\nconst res = await fetch('/api/items?page=2');\nconst data = await res.json();\nconsole.log(data.items.length);\n```\n",
        "You can list files with `ls -la` and check disk usage with `du -sh *`.\n",
        "**Update:** fixed in [PR #1234](https://github.com/example/project/pull/1234). Thanks @maria!\n",
        "The query I'm using:\n\n```sql\nSELECT id, name FROM products WHERE price > 10 ORDER BY name;\n```\n\nIt's slow on 1M rows. Should I add an index?",
        "| Plan | Price |\n|------|-------|\n| Basic | $5 |\n| Pro | $15 |\n",
        "Use `git log --oneline` to see history, then `git rebase -i HEAD~3`.\n",
        "In Python: `print(f\"{name}'s total is {total:.2f}\")` prints the total.\n",
        "- [x] design\n- [ ] review\n- [ ] ship it :rocket:\n",
    ])

def cms_html():
    return R.choice([
        '<p>Welcome to our <strong>autumn sale</strong>! Check the <a href="/sale?utm_source=cms">offers</a>.</p>',
        '<h2>About us</h2><p>We\'ve been roasting coffee since 1998.</p><img src="/uploads/2026/11/roastery.jpg" alt="Our roastery" width="640" height="480">',
        '<ul><li>Free shipping over $50</li><li>30-day returns</li></ul><blockquote>Best beans in town! &ndash; Local Times</blockquote>',
        '<table class="specs"><tr><th>Weight</th><td>1.2 kg</td></tr><tr><th>Size</th><td>30 &times; 20 cm</td></tr></table>',
        '<p style="text-align:center"><em>Opening hours:</em> Mon&ndash;Fri 9&ndash;17</p><hr><p>&copy; 2026 Example Ltd.</p>',
        '<figure><img src="https://cdn.example.com/img/hero.webp" srcset="/img/hero-2x.webp 2x" alt="Hero"><figcaption>New collection</figcaption></figure>',
        '<div class="note"><p>Please read our <a href="https://example.com/terms" target="_blank" rel="noopener">terms</a> before ordering.</p></div>',
        '<p>Line one<br>Line two<br/>Line three</p><p><code>npm install example</code></p>',
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315" frameborder="0" allowfullscreen></iframe>',
    ])

def req(method, target, headers, body=b"", placeholder=""):
    return {"method": method, "target": target, "headers": headers, "body_b64": base64.b64encode(body).decode(), "placeholder": placeholder}

# ---- request makers --------------------------------------------------------------------

def page_view():
    host = R.choice(HOSTS)
    path = R.choice(["/", "/products", f"/products/{tok(8).lower()}-{R.choice(['shirt', 'mug', 'lamp', 'chair'])}", "/cart", "/checkout/shipping", f"/blog/{R.randint(2019, 2026)}/{R.randint(1, 12):02d}/{'-'.join(R.sample(WORDS, 4))}", "/account/orders", "/help/faq", "/search", "/c/womens/dresses", "/en-gb/stores/london"])
    params = {}
    if R.random() < 0.5:
        params.update({"utm_source": R.choice(["newsletter", "google", "facebook", "t.co"]), "utm_medium": R.choice(["email", "cpc", "social"]), "utm_campaign": R.choice(["bf_2026", "spring-sale", "retarget_v2"])})
    if R.random() < 0.3:
        params["gclid"] = tok(40, string.ascii_letters + string.digits + "_-")
    if R.random() < 0.2:
        params["fbclid"] = "IwAR" + tok(50, string.ascii_letters + string.digits + "_-")
    if path == "/search" or R.random() < 0.2:
        params["q"] = R.choice(SEARCH)
    if R.random() < 0.2:
        params["page"] = str(R.randint(1, 30))
        params["sort"] = R.choice(["price_asc", "price_desc", "newest", "-created_at", "name"])
    if R.random() < 0.1:
        params["ref"] = f"https://{R.choice(HOSTS)}/landing?src=ad&id={R.randint(1, 999)}"
    t = path + ("?" + urlencode(params) if params else "")
    return req("GET", t, browser_headers(host), placeholder="page")

def asset():
    host = R.choice(HOSTS)
    p = R.choice([f"/static/js/main.{R.getrandbits(32):08x}.chunk.js", f"/static/css/app.{R.getrandbits(32):08x}.css", "/favicon.ico", "/robots.txt", "/sitemap.xml", "/.well-known/openid-configuration", "/manifest.webmanifest",
                  f"/images/products/{R.randint(100, 999)}/{tok(6).lower()}_800x800.jpg?v={R.randint(1, 9)}", f"/fonts/inter-var.woff2?v=3.19", f"/_next/static/chunks/pages/_app-{R.getrandbits(64):016x}.js", f"/wp-content/uploads/2026/10/{'-'.join(R.sample(WORDS, 3))}-1024x683.jpg",
                  f"/assets/{tok(20).lower()}.svg", "/apple-touch-icon.png", f"/api/img/resize?url=%2Fimages%2F{R.randint(1, 99)}.jpg&w=640&q=75"])
    return req("GET", p, browser_headers(host, accept=R.choice(["image/avif,image/webp,*/*", "*/*", "text/css,*/*;q=0.1"])), placeholder="asset")

def beacon():
    host = R.choice(HOSTS)
    page = f"https://{host}/{R.choice(['cart', 'products/' + tok(6).lower(), 'blog/' + '-'.join(R.sample(WORDS, 3)), ''])}?{urlencode({'utm_source': 'newsletter', 'q': R.choice(SEARCH)})}"
    kind = R.randint(0, 4)
    if kind == 0:
        q = {"v": "2", "tid": "G-" + tok(10).upper(), "gtm": "45je4b" + tok(4).lower(), "_p": str(R.randint(10**8, 10**9)), "cid": f"{R.randint(10**8, 10**9)}.{R.randint(1.7e9, 1.73e9)}", "ul": "en-us", "sr": R.choice(["1920x1080", "390x844", "1440x900"]),
             "_s": str(R.randint(1, 9)), "dl": page, "dr": "https://www.google.com/", "dt": R.choice(["Cart – Example Shop", "Tom's Diner | Blog", "Search results for \"rock & roll\""]), "en": R.choice(["page_view", "scroll", "view_item", "add_to_cart"]), "_et": str(R.randint(1, 9999))}
        return req("POST", "/g/collect?" + urlencode(q), browser_headers("region1.google-analytics.com", accept="*/*"), placeholder="beacon-ga4")
    if kind == 1:
        q = {"id": str(R.randint(10**14, 10**15)), "ev": R.choice(["PageView", "ViewContent", "AddToCart"]), "dl": page, "rl": "https://www.google.com/", "if": "false", "ts": str(R.randint(1.7e12, 1.73e12)), "cd[content_ids]": json.dumps([tok(6)]), "cd[content_type]": "product", "sw": "1920", "sh": "1080", "v": "2.9.140", "r": "stable"}
        return req("GET", "/tr/?" + urlencode(q), browser_headers("www.facebook.com", accept="image/avif,image/webp,*/*"), placeholder="beacon-fb")
    if kind == 2:
        body = json.dumps({"batch": [{"type": "track", "event": R.choice(["Product Viewed", "Checkout Started", "Signed Up"]), "properties": {"product_id": tok(8), "price": round(R.uniform(1, 300), 2), "name": R.choice(["Men's Tee", "Kids' Shoes", "Chef's Knife"]), "url": page},
                                       "context": {"page": {"url": page, "referrer": "https://t.co/x", "title": "Example"}, "userAgent": R.choice(UAS)}, "anonymousId": str(uuid.UUID(int=R.getrandbits(128))), "timestamp": "2026-11-25T10:12:01.123Z", "messageId": "ajs-" + tok(32).lower()}], "sentAt": "2026-11-25T10:12:01.456Z"}).encode()
        return req("POST", "/v1/batch", api_headers("api.segment.io", "text/plain", body), body, placeholder="beacon-segment")
    if kind == 3:
        q = {"idsite": str(R.randint(1, 9)), "rec": "1", "action_name": R.choice(["Home", "Blog / What's new in 2026?", "Shop / Men's / Shirts"]), "url": page, "urlref": "https://duckduckgo.com/", "_id": f"{R.getrandbits(64):016x}", "rand": str(R.randint(1, 999999)), "res": "1920x1080", "h": "10", "m": "12", "s": "1", "cookie": "1", "pv_id": tok(6), "pf_net": "0", "pf_srv": "53"}
        return req("GET", "/matomo.php?" + urlencode(q), browser_headers("stats.example.org", accept="*/*"), placeholder="beacon-matomo")
    env = "\n".join([json.dumps({"event_id": f"{R.getrandbits(128):032x}", "sent_at": "2026-11-25T10:12:01.000Z", "sdk": {"name": "sentry.javascript.browser", "version": "7.84.0"}}), json.dumps({"type": "event"}),
                     json.dumps({"exception": {"values": [{"type": "TypeError", "value": "Cannot read properties of undefined (reading 'map')", "stacktrace": {"frames": [{"filename": f"https://{host}/static/js/main.js", "function": "renderList", "lineno": R.randint(1, 9999), "colno": R.randint(1, 99)}]}}]}, "level": "error", "request": {"url": page}})]).encode()
    return req("POST", f"/api/{R.randint(1, 99)}/envelope/?sentry_key={R.getrandbits(128):032x}&sentry_version=7", api_headers("o1.ingest.sentry.io", "text/plain;charset=UTF-8", env), env, placeholder="beacon-sentry")

def rest_api():
    host = R.choice(HOSTS)
    kind = R.randint(0, 7)
    if kind == 0:
        q = {"limit": R.choice([10, 20, 50, 100]), "offset": R.randint(0, 500), "sort": R.choice(["-created_at", "name", "price,desc"]), "fields": "id,name,price,tags", "filter[status]": R.choice(["active", "pending", "shipped"]), "filter[created_at][gte]": "2026-01-01T00:00:00Z"}
        if R.random() < 0.3:
            q["include"] = "author,comments.author"
        return req("GET", f"/api/v{R.randint(1, 3)}/{R.choice(['orders', 'users', 'products', 'invoices'])}?" + urlencode(q), api_headers(host), placeholder="rest-list")
    if kind == 1:
        return req(R.choice(["GET", "DELETE"]), f"/api/v2/{R.choice(['users', 'orders', 'carts', 'files'])}/{rid()}" + R.choice(["", "/items", "/history", f"/items/{rid()}"]), api_headers(host), placeholder="rest-item")
    if kind == 2:
        f, l = person()
        body = {"first_name": f, "last_name": l, "email": email(f, l), "phone": R.choice(["+1 (555) 123-4567", "+44 20 7946 0958", "555.867.5309"]), "address": {"line1": R.choice(["221B Baker St.", "1600 Amphitheatre Pkwy", "4 D'Arcy Lane, Apt #2"]), "city": R.choice(["London", "Mountain View", "São Paulo"]), "postal_code": R.choice(["NW1 6XE", "94043", "01310-100"]), "country": R.choice(["GB", "US", "BR"])},
                "marketing_opt_in": R.random() < 0.5, "tags": R.sample(["vip", "wholesale", "b2b", "newsletter", "beta"], 2), "notes": R.choice(PROSE), "metadata": {"source": R.choice(["web", "ios", "android"]), "campaign": "bf_2026"}}
        b = json.dumps(body).encode()
        return req(R.choice(["POST", "PUT", "PATCH"]), f"/api/v1/customers" + R.choice(["", f"/{rid()}"]), api_headers(host, "application/json", b), b, placeholder="rest-json")
    if kind == 3:
        body = {"items": [{"sku": tok(8).upper(), "quantity": R.randint(1, 5), "unit_price": round(R.uniform(1, 500), 2), "options": {"size": R.choice(["S", "M", "L", "XL"]), "color": R.choice(["navy", "off-white", "red/black"])}} for _ in range(R.randint(1, 4))],
                "currency": R.choice(["USD", "EUR", "GBP"]), "coupon": R.choice([None, "BF-2026", "WELCOME10"]), "shipping": {"method": R.choice(["standard", "express"]), "instructions": R.choice(["Leave at the door", "Ring twice; dog's friendly", "", "Call +1 555 0100 if no answer"])},
                "payment": {"token": "tok_" + tok(24), "save_card": False}, "gift_message": R.choice(["Happy birthday, Mum! Love, Tom & Ana", "", "Congrats on the new job :)"])}
        b = json.dumps(body).encode()
        return req("POST", "/api/v1/checkout", api_headers(host, "application/json; charset=utf-8", b), b, placeholder="rest-json")
    if kind == 4:
        body = {"title": R.choice(["Weekly report", "Q3 planning: what's next?", "Bug: export fails on 'Save as'"]), "body": markdown(), "labels": ["bug", "p2"], "assignees": [tok(6).lower()], "milestone": R.randint(1, 20)}
        b = json.dumps(body).encode()
        return req("POST", f"/api/v3/repos/{tok(6).lower()}/{tok(8).lower()}/issues", api_headers(host, "application/json", b), b, placeholder="rest-markdown")
    if kind == 5:
        body = {"avatar": "data:image/png;base64," + png_b64(), "file_name": f"{tok(6).lower()}.png", "checksum": hashlib.sha256(R.randbytes(8)).hexdigest()}
        b = json.dumps(body).encode()
        return req("PUT", f"/api/v1/users/{rid()}/avatar", api_headers(host, "application/json", b), b, placeholder="rest-base64-image")
    if kind == 6:
        body = {"grant_type": "refresh_token", "refresh_token": tok(64, string.ascii_letters + string.digits + "-_."), "client_id": tok(20), "scope": "openid profile email offline_access"}
        b = urlencode(body).encode()
        return req("POST", "/oauth/token", api_headers(host, "application/x-www-form-urlencoded", b), b, placeholder="oauth")
    body = {"events": [{"ts": 1732500000000 + R.randint(0, 10**6), "level": R.choice(["info", "warn", "error"]), "msg": R.choice(["user logged in", "cache miss for key user:42:profile", "GET /api/v1/orders?limit=20 200 13ms", "retrying request (attempt 2/3)", "SELECT took 350ms"]), "host": f"web-{R.randint(1, 9)}"} for _ in range(R.randint(1, 5))]}
    b = json.dumps(body).encode()
    return req("POST", "/api/logs/ingest", api_headers(host, "application/json", b), b, placeholder="rest-logs")

def graphql():
    host = R.choice(HOSTS)
    ops = [
        ("query GetProduct($id: ID!) { product(id: $id) { id name price { amount currency } images(first: 4) { url alt } reviews(first: 5) { edges { node { rating body author { name } } } } } }", {"id": rid()}),
        ("query Search($q: String!, $after: String) { search(query: $q, first: 20, after: $after) { pageInfo { hasNextPage endCursor } nodes { ... on Product { id name } ... on Article { id title } } } }", {"q": R.choice(SEARCH), "after": R.choice([None, b64url(R.randbytes(12))])}),
        ("mutation AddToCart($input: AddToCartInput!) { addToCart(input: $input) { cart { id totalQuantity } errors { field message } } }", {"input": {"productId": rid(), "quantity": R.randint(1, 3), "note": R.choice(PROSE)}}),
        ("mutation UpdateProfile($input: ProfileInput!) { updateProfile(input: $input) { user { id displayName bio } } }", {"input": {"displayName": " ".join(person()), "bio": R.choice(PROSE) + " " + R.choice(PROSE), "website": f"https://{tok(6).lower()}.example.{R.choice(TLDS)}/"}}),
        ("query { viewer { login repositories(first: 10, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { name stargazerCount } } } }", None),
        ("query Orders($status: OrderStatus, $from: DateTime) { orders(status: $status, createdAfter: $from) { id total createdAt lineItems { sku qty } } }", {"status": R.choice(["OPEN", "SHIPPED"]), "from": "2026-10-01T00:00:00Z"}),
    ]
    q, v = R.choice(ops)
    body = {"query": q, "operationName": None}
    if v is not None:
        body["variables"] = v
    b = json.dumps(body).encode()
    return req("POST", R.choice(["/graphql", "/api/graphql", "/v1/graphql"]), api_headers(host, "application/json", b), b, placeholder="graphql")

def form_post():
    host = R.choice(HOSTS)
    kind = R.randint(0, 5)
    f, l = person()
    if kind == 0:
        fields = {"username": email(f, l), "password": R.choice(["P@ssw0rd!", "correct horse battery staple", "hunter2", "S3cr3t;Pass'word", "Tr0ub4dor&3", "p4$$w0rd#2026", "my-pass(2026)"]), "remember_me": "on", "csrf_token": tok(43, string.ascii_letters + string.digits + "-_")}
    elif kind == 1:
        fields = {"name": f"{f} {l}", "email": email(f, l), "subject": R.choice(["Order question", "Where's my refund?", "Partnership / collaboration", "Re: your quote #2291"]), "message": R.choice(PROSE) + "\n\n" + R.choice(PROSE) + "\n\nThanks,\n" + f, "consent": "1"}
    elif kind == 2:
        fields = {"q": R.choice(SEARCH), "category": R.choice(["all", "books", "home & garden"]), "min_price": str(R.randint(0, 50)), "max_price": str(R.randint(51, 500))}
    elif kind == 3:
        fields = {"post_title": R.choice(["Autumn sale!", "Meet the team", "What's new in v2.0"]), "content": cms_html() + cms_html(), "excerpt": R.choice(PROSE), "post_status": "publish", "_wpnonce": f"{R.getrandbits(40):010x}", "_wp_http_referer": "/wp-admin/post-new.php", "tax_input[post_tag]": "news, sale, 2026"}
    elif kind == 4:
        fields = {"comment": R.choice(PROSE) + " " + markdown(), "author": f"{f} {l}", "email": email(f, l), "url": R.choice(["", f"https://{tok(6).lower()}.blog.example/"]), "comment_post_ID": str(R.randint(1, 5000)), "comment_parent": "0"}
    else:
        saml = f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_{tok(32).lower()}" Version="2.0" IssueInstant="2026-11-25T10:12:01Z" Destination="https://{host}/sso/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.com/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>'
        fields = {"SAMLResponse": base64.b64encode(saml.encode()).decode(), "RelayState": f"https://{host}/dashboard?tab=overview"}
    b = urlencode(fields).encode()
    h = browser_headers(host, referer=True) + [["Content-Type", "application/x-www-form-urlencoded"], ["Content-Length", str(len(b))], ["Origin", f"https://{host}"]]
    return req("POST", R.choice(["/login", "/contact", "/search", "/wp-admin/post.php", "/wp-comments-post.php", "/sso/acs", "/account/profile"]), h, b, placeholder="form")

def upload():
    host = R.choice(HOSTS)
    bnd = "----WebKitFormBoundary" + tok(16)
    parts = []
    kind = R.randint(0, 4)
    if kind == 0:
        name, ct, data = f"IMG_{R.randint(1000, 9999)}.JPG", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + R.randbytes(R.randint(200, 2000))
    elif kind == 1:
        rows = ["id,name,email,notes"] + [f"{i},{' '.join(person())},{tok(5).lower()}@example.com,\"{R.choice(PROSE)}\"" for i in range(R.randint(2, 10))]
        name, ct, data = "customers export (2026).csv", "text/csv", "\n".join(rows).encode()
    elif kind == 2:
        name, ct, data = "report-Q3.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + R.randbytes(R.randint(300, 1500))
    elif kind == 3:
        name, ct, data = "notes.txt", "text/plain", (R.choice(PROSE) + "\n" + markdown()).encode()
    else:
        name, ct, data = "settings.json", "application/json", json.dumps({"theme": "dark", "shortcuts": {"save": "Ctrl+S", "search": "Ctrl+Shift+F"}, "recent": ["/home/user/docs/plan.md", "C:\\Users\\Ana\\Desktop\\todo.txt"]}).encode()
    parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\nContent-Type: {ct}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="description"\r\n\r\n{R.choice(PROSE)}\r\n'.encode())
    parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="folder_id"\r\n\r\n{rid()}\r\n'.encode())
    b = b"".join(parts) + f"--{bnd}--\r\n".encode()
    h = browser_headers(host) + [["Content-Type", f"multipart/form-data; boundary={bnd}"], ["Content-Length", str(len(b))]]
    return req("POST", R.choice(["/upload", "/api/v1/files", "/wp-admin/async-upload.php", "/attachments/new"]), h, b, placeholder="multipart")

def xml_api():
    host = R.choice(HOSTS)
    kind = R.randint(0, 2)
    if kind == 0:
        b = f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body><GetQuote xmlns="http://ws.example.com/"><Symbol>{R.choice(["AAPL", "MSFT", "O&amp;M"])}</Symbol><Note>{R.choice(PROSE).replace("&", "&amp;").replace("<", "&lt;")}</Note></GetQuote></soap:Body></soap:Envelope>'.encode()
        ct = "text/xml; charset=utf-8"
    elif kind == 1:
        b = f'<?xml version="1.0"?><order id="{R.randint(1, 9999)}"><customer>{" ".join(person())}</customer><item sku="{tok(6).upper()}" qty="2"/><comment><![CDATA[{R.choice(PROSE)}]]></comment></order>'.encode()
        ct = "application/xml"
    else:
        b = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>{R.choice(PROSE).replace("&", "&amp;")}</p></body></html>'.encode()
        ct = "application/xhtml+xml"
    h = api_headers(host, ct, b)
    if kind == 0:
        h.append(["SOAPAction", '"http://ws.example.com/GetQuote"'])
    return req("POST", R.choice(["/ws/quote", "/api/orders.xml", "/services/Import"]), h, b, placeholder="xml")

def misc():
    host = R.choice(HOSTS)
    kind = R.randint(0, 6)
    if kind == 0:
        nxt = R.choice(["/account/orders", "/checkout?step=2", f"https://{host}/dashboard", "%2Fsettings%2Fbilling"])
        return req("GET", f"/login?{R.choice(['next', 'return_to', 'redirect_uri', 'continue'])}={quote(nxt, safe='')}", browser_headers(host), placeholder="redirect-param")
    if kind == 1:
        return req("GET", f"/oauth/authorize?response_type=code&client_id={tok(20)}&redirect_uri={quote('https://app.example.com/oauth/callback', safe='')}&scope=openid%20profile%20email&state={tok(32)}&nonce={tok(16)}&code_challenge={b64url(R.randbytes(32))}&code_challenge_method=S256", browser_headers(host), placeholder="oauth")
    if kind == 2:
        return req("GET", f"/reset-password?token={tok(64)}&email={quote(email(*person()))}", browser_headers(host), placeholder="token")
    if kind == 3:
        b = gzip.compress(json.dumps({"metrics": [{"name": "http.server.duration", "value": R.random() * 100, "attrs": {"route": "/api/v1/orders/{id}", "method": "GET"}} for _ in range(5)]}).encode(), mtime=0)
        h = api_headers(host, "application/json", b) + [["Content-Encoding", "gzip"]]
        return req("POST", "/v1/metrics", h, b, placeholder="gzip-json")
    if kind == 4:
        return req("GET", f"/share?url={quote(f'https://{host}/blog/{tok(8).lower()}?utm_source=twitter&utm_medium=social', safe='')}&text={quote(R.choice(PROSE))}", browser_headers(host), placeholder="share")
    if kind == 5:
        return req(R.choice(["OPTIONS", "HEAD"]), f"/api/v1/{R.choice(['orders', 'users'])}", [["Host", host], ["Origin", f"https://{R.choice(HOSTS)}"], ["Access-Control-Request-Method", "POST"], ["Access-Control-Request-Headers", "authorization,content-type"], ["User-Agent", R.choice(UAS)]], placeholder="cors")
    return req("GET", f"/api/v1/export?format={R.choice(['csv', 'xlsx'])}&columns={quote('id,name,email,created_at')}&where={quote(json.dumps({'status': {'in': ['active', 'trial']}, 'created_at': {'gte': '2026-01-01'}}))}", api_headers(host), placeholder="json-in-query")

# ---- Harder benign traffic (2026-12), generated after the first N cases with its own seed so those
# keep their ids: API payloads with code and SQL-ish prose, markdown, search syntax with quotes, templates
# with {{ }}, long tokens, analytics beacons carrying URLs, GraphQL with fragments and introspection,
# XML with schema locations, hop-by-hop headers of real clients, internal addresses from load balancers.
R2 = random.Random(20261205)

CODE = [
    "```sql\nSELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = 'a@b.example' AND o.status <> 'void' ORDER BY o.created_at DESC LIMIT 10;\n```",
    "Run `ls -la ~/.config` and then `cat ~/.config/app/settings.json | jq .theme` to check.",
    "```bash\ncurl -s https://api.example.com/v1/items | jq '.items[] | {id, name}'\n```",
    "```python\nimport json\nwith open('data.json') as f:\n    rows = json.load(f)\nprint(len(rows))\n```",
    "```js\nconst res = await fetch(`/api/items?page=${page}`);\nif (!res.ok) throw new Error(res.statusText);\n```",
    "In Go you write `x := compute(a, b)` and the type is inferred.",
    "The filter `status = 'open' OR priority = 'high'` returns too many rows; should it be AND?",
    "Use `git log --oneline | head -5` to see the last commits.",
    "Cron: `*/15 * * * * /usr/local/bin/backup.sh >> /var/log/backup.log 2>&1`",
    "Regex for usernames: ^[a-z0-9_-]{3,16}$ (no spaces).",
    "Our template says: Hi {{first_name}}, your order {{order.number}} has shipped.",
    "{% if customer %}Welcome back, {{ customer.first_name }}!{% endif %}",
    "Price: {{ product.price | money }} — was {{ product.compare_at_price | money }}",
    "Excel formula =IF(A2>100, \"high\", \"low\") works but =SUM(B:B) is slow.",
    "I set DROP_TABLE_ON_START=false in .env.example and it still wiped the table?!",
    "Try the query `title:\"annual report\" AND year:[2020 TO 2024]` in the search box.",
    "Path on Windows: C:\\Users\\maria\\Documents\\Q3 report.xlsx",
    "Email header looks like: From: Support <support@example.com>",
    "Our SLA: 99.9% uptime; credits apply if < 99.5%.",
    "SELECT is greyed out until you pick a region; then DELETE works as expected.",
]
SEARCH2 = ['"union station" OR "penn station"', 'title:"foo bar" -draft', 'price:[10 TO 100]', 'status:500 AND NOT path:"/health"', '(shoes OR boots) AND size:42',
           "o'brien & sons", 'tag:"c#" sort:votes', 'author:"D\'Angelo" year>2019', "select * from users meaning", "how to use onload in react",
           "what does ../ mean", "drop database mysql command", "etc/hosts file windows location"]

def code_post():
    host = R2.choice(HOSTS)
    body = {"title": R2.choice(["Export bug", "Question about filters", "How do I deploy?", "Template help", "Slow query"]),
            "body": R2.choice(CODE) + "\n\n" + R2.choice(PROSE), "labels": R2.sample(["bug", "question", "docs", "sql", "infra"], 2)}
    b = json.dumps(body).encode()
    return req(R2.choice(["POST", "PATCH"]), f"/api/v1/projects/{R2.randint(1, 999)}/issues", api_headers(host, "application/json", b), b, placeholder="code-in-json")

def search2():
    host = R2.choice(HOSTS)
    q = R2.choice(SEARCH2)
    if R2.random() < 0.5:
        return req("GET", f"/search?q={quote(q, safe='')}&page={R2.randint(1, 5)}", browser_headers(host), placeholder="search-syntax")
    b = json.dumps({"query": q, "filters": {"lang": "en"}, "size": 20}).encode()
    return req("POST", "/api/search", api_headers(host, "application/json", b), b, placeholder="search-syntax-json")

def beacon2():
    host = R2.choice(HOSTS)
    page = f"https://{host}/products/{tok(6).lower()}?utm_source=google&utm_medium=cpc&gclid={tok(40)}&q={quote(R2.choice(SEARCH))}"
    kind = R2.randint(0, 2)
    if kind == 0:
        t = f"/g/collect?v=2&tid=G-{tok(10).upper()}&cid={R2.randint(10**8, 10**9)}.{R2.randint(10**9, 2*10**9)}&en=page_view&dl={quote(page, safe='')}&dr={quote('https://www.google.com/', safe='')}&dt={quote(R2.choice(PROSE)[:40])}&sr=1920x1080&ul=en-us"
        return req("POST", t, browser_headers("www.google-analytics.com", accept="*/*"), placeholder="ga4")
    if kind == 1:
        b = json.dumps({"type": "page", "properties": {"url": page, "referrer": "https://t.co/" + tok(10), "title": R2.choice(PROSE)[:60], "search": "?" + page.split("?", 1)[1]},
                        "context": {"userAgent": R2.choice(UAS), "page": {"url": page, "path": "/products"}, "campaign": {"source": "google", "term": R2.choice(SEARCH2)}},
                        "anonymousId": str(uuid.UUID(int=R2.getrandbits(128))), "messageId": "ajs-" + tok(32)}).encode()
        return req("POST", "/v1/p", api_headers("api.segment.io", "text/plain", b), b, placeholder="segment")
    t = f"/matomo.php?idsite=3&rec=1&action_name={quote('Shop / ' + R2.choice(['Men', 'Women']) + ' / Search: ' + R2.choice(SEARCH2), safe='')}&url={quote(page, safe='')}&_id={tok(16).lower()}&res=1440x900&pv_id={tok(6)}"
    return req("GET", t, browser_headers(host, accept="image/webp,*/*"), placeholder="matomo")

def graphql2():
    host = R2.choice(HOSTS)
    kind = R2.randint(0, 2)
    if kind == 0:
        q = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { ...FullType } } } fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { name } type { name kind ofType { name } } } }"
        b = json.dumps({"operationName": "IntrospectionQuery", "query": q, "variables": {}}).encode()
    elif kind == 1:
        q = "mutation UpdateNote($id: ID!, $text: String!) { updateNote(id: $id, text: $text) @include(if: true) { id text updatedAt } }"
        b = json.dumps({"query": q, "variables": {"id": str(R2.randint(1, 9999)), "text": R2.choice(CODE + PROSE)}}).encode()
    else:
        q = "query Orders($first: Int = 10, $after: String, $filter: OrderFilter) { viewer { orders(first: $first, after: $after, filter: $filter) { edges { cursor node { id total status } } pageInfo { hasNextPage endCursor } } } }"
        b = json.dumps({"query": q, "variables": {"first": 25, "after": b64url(f"cursor:{R2.randint(1, 999)}".encode()), "filter": {"status": ["PAID", "SHIPPED"], "search": R2.choice(SEARCH2)}}}).encode()
    return req("POST", "/graphql", api_headers(host, "application/json", b), b, placeholder="graphql-2")

def tokens2():
    host = R2.choice(HOSTS)
    kind = R2.randint(0, 2)
    if kind == 0:
        state = base64.b64encode(json.dumps({"returnTo": f"https://{host}/account?tab=billing&x=1", "nonce": tok(16)}).encode()).decode()
        return req("GET", f"/oauth/callback?code={tok(43)}&state={quote(state, safe='')}", browser_headers(host), placeholder="state-b64-json")
    if kind == 1:
        h = api_headers(host) + [["X-Api-Key", "sk_live_" + tok(48)], ["X-Request-Id", str(uuid.UUID(int=R2.getrandbits(128)))], ["If-None-Match", f'W/"{tok(27)}"']]
        return req("GET", f"/api/v2/customers/cus_{tok(14)}/invoices?expand[]=data.charge&limit=100", h, placeholder="long-tokens")
    b = urlencode({"SAMLResponse": base64.b64encode(("<samlp:Response ID=\"_" + tok(32) + "\"><saml:Assertion><saml:AttributeValue>" + email(*person()) + "</saml:AttributeValue></saml:Assertion></samlp:Response>").encode()).decode(), "RelayState": f"https://{host}/app"}).encode()
    return req("POST", "/saml/acs", browser_headers(host) + [["Content-Type", "application/x-www-form-urlencoded"]], b, placeholder="saml")

def xml2():
    host = R2.choice(HOSTS)
    if R2.random() < 0.5:
        urls = "".join(f"<url><loc>https://{host}/p/{tok(6).lower()}</loc><lastmod>2026-11-{R2.randint(10, 28)}</lastmod></url>" for _ in range(3))
        b = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://www.sitemaps.org/schemas/sitemap/0.9 http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd">' + urls + '</urlset>').encode()
        return req("POST", "/api/sitemaps/import", api_headers(host, "application/xml", b), b, placeholder="sitemap-xml")
    b = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
         f'<soap:Body><GetQuote xmlns="http://example.com/stock"><Symbol xsi:type="xsd:string">{R2.choice(["MSFT", "AT&amp;T", "O&apos;Reilly"])}</Symbol></GetQuote></soap:Body></soap:Envelope>').encode()
    return req("POST", "/services/quote.asmx", api_headers(host, "text/xml; charset=utf-8", b) + [["SOAPAction", '"http://example.com/stock/GetQuote"']], b, placeholder="soap-xsi")

def infra2():
    host = R2.choice(HOSTS)
    kind = R2.randint(0, 2)
    if kind == 0:
        h = [["Host", host], ["User-Agent", R2.choice(UAS)], ["Connection", R2.choice(["Upgrade", "keep-alive, Upgrade"])], ["Upgrade", "websocket"], ["Sec-WebSocket-Version", "13"],
             ["Sec-WebSocket-Key", base64.b64encode(R2.randbytes(16)).decode()], ["Origin", f"https://{host}"]]
        return req("GET", "/ws/notifications", h, placeholder="websocket")
    if kind == 1:
        h = api_headers(host) + [["X-Forwarded-For", f"{R2.randint(1, 223)}.{R2.randint(0, 255)}.{R2.randint(0, 255)}.{R2.randint(1, 254)}, 10.0.{R2.randint(0, 9)}.{R2.randint(2, 250)}"],
                                 ["X-Real-IP", f"172.16.{R2.randint(0, 31)}.{R2.randint(2, 250)}"], ["X-Forwarded-Proto", "https"], ["Forwarded", f"for=192.168.{R2.randint(0, 9)}.{R2.randint(2, 250)};proto=https"]]
        return req("GET", f"/api/v1/orders/{R2.randint(1000, 99999)}", h, placeholder="lb-headers")
    h = [["Host", host], ["User-Agent", "grpc-python/1.59.0"], ["Connection", "TE, keep-alive"], ["TE", "trailers"], ["Accept", "*/*"]]
    return req("GET", "/healthz", h, placeholder="te-connection")

MAKERS2 = [(code_post, 5), (search2, 4), (beacon2, 4), (graphql2, 3), (tokens2, 3), (xml2, 2), (infra2, 3)]
N2 = int(sys.argv[2]) if len(sys.argv) > 2 else 600

MAKERS = [(page_view, 22), (asset, 10), (beacon, 12), (rest_api, 22), (graphql, 8), (form_post, 12), (upload, 6), (xml_api, 3), (misc, 8)]
pool = [m for m, w in MAKERS for _ in range(w)]
for i in range(N):
    r = R.choice(pool)()
    out = {"id": f"own-benign-{i:05d}", "set": "own-benign", "file": "gen_benign.py", "class": "", "label": "benign", "encoder": "", "placeholder": r.pop("placeholder"), "payload": ""}
    out.update(r)
    print(json.dumps(out, ensure_ascii=False))
# The harder set: the makers above draw from R2, so the first N cases are unchanged.
R, R_first = R2, R
pool2 = [m for m, w in MAKERS2 for _ in range(w)]
for j in range(N2):
    r = R2.choice(pool2)()
    out = {"id": f"own-benign-{N + j:05d}", "set": "own-benign-2", "file": "gen_benign.py", "class": "", "label": "benign", "encoder": "", "placeholder": r.pop("placeholder"), "payload": ""}
    out.update(r)
    print(json.dumps(out, ensure_ascii=False))
