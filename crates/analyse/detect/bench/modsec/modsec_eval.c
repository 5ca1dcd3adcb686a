/* ModSecurity v3 + OWASP CRS over a labelled JSONL request file (format of shared/datasets/README.md).
 *
 *   modsec_eval [--pl 1|2] [--crs-rules DIR] [--crs-setup FILE] FILE.jsonl
 *
 * Prints one JSON line per request {"id","label","detected","status","rules":[...]} and a final
 * {"type":"summary",...} line. "detected" = ModSecurity returned a disruptive intervention (SecRuleEngine On:
 * CRS 949110 fires when the inbound anomaly score reaches 5, or a deny rule of modsecurity.conf fires).
 * requests/s are measured on this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) around the transactions only:
 * JSON parsing, base64 decoding, rule loading and output are outside the timed part. */
#define _GNU_SOURCE
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <modsecurity/intervention.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libgen.h>
#include <limits.h>
#include <unistd.h>

typedef struct {
    char *id;
    int attack; /* 1 attack, 0 benign, -1 unlabelled */
    char *method, *target;
    size_t nh;
    char **hn, **hv;
    unsigned char *body;
    size_t body_len;
    /* results */
    int detected, status;
    char rules[512];
    size_t rules_len;
} Req;

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

static unsigned char *b64dec(const char *s, size_t *out_len) {
    size_t n = strlen(s);
    unsigned char *o = malloc(n / 4 * 3 + 4);
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) continue; /* '=', whitespace */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    *out_len = k;
    return o;
}

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int debug_log; /* MODSEC_EVAL_LOG set: echo every rule message to stderr */

/* Log callback: collects the rule ids of the messages a transaction logs. */
static void log_cb(void *data, const void *msg) {
    Req *r = data;
    const char *s = msg;
    if (!r || !s) return;
    if (debug_log) fprintf(stderr, "modsec: %s\n", s);
    const char *p = strstr(s, "[id \"");
    if (!p) return;
    p += 5;
    const char *e = strchr(p, '"');
    if (!e) return;
    size_t n = (size_t)(e - p);
    if (r->rules_len + n + 4 >= sizeof r->rules) return;
    if (r->rules_len) r->rules[r->rules_len++] = ',';
    r->rules[r->rules_len++] = '"';
    memcpy(r->rules + r->rules_len, p, n);
    r->rules_len += n;
    r->rules[r->rules_len++] = '"';
    r->rules[r->rules_len] = 0;
}

static int check(Transaction *t, Req *r) {
    ModSecurityIntervention it = {200, 0, NULL, NULL, 0};
    int hit = 0;
    if (msc_intervention(t, &it) && it.disruptive) {
        hit = 1;
        r->status = it.status;
        if (it.log) log_cb(r, it.log); /* the deciding rule (949110, 200002, ...) is reported only here */
    }
    free(it.url);
    free(it.log);
    return hit;
}

static void json_out(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static double ts(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int pl = 1;
    const char *file = NULL;
    const char *crs_rules = "/usr/share/modsecurity-crs/rules";
    const char *crs_setup = "/etc/modsecurity/crs/crs-setup.conf";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pl") && i + 1 < argc) pl = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--crs-rules") && i + 1 < argc) crs_rules = argv[++i];
        else if (!strcmp(argv[i], "--crs-setup") && i + 1 < argc) crs_setup = argv[++i];
        else file = argv[i];
    }
    if (!file || pl < 1 || pl > 4) {
        fprintf(stderr, "usage: %s [--pl 1|2|3|4] FILE.jsonl\n", argv[0]);
        return 2;
    }

    /* modsecurity.conf sits next to the binary's source dir; the binary lives in the same folder. */
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { perror("readlink"); return 1; }
    self[sl] = 0;
    char *dir = dirname(self);

    debug_log = getenv("MODSEC_EVAL_LOG") != NULL;
    ModSecurity *ms = msc_init();
    msc_set_connector_info(ms, "periscope-bench modsec_eval");
    msc_set_log_cb(ms, log_cb);
    RulesSet *rules = msc_create_rules_set();
    char *conf = NULL;
    if (asprintf(&conf,
                 "Include %s/modsecurity.conf\n"
                 "Include %s\n"
                 "SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d\"\n"
                 "Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf\n"
                 "Include %s/*.conf\n"
                 "Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf\n",
                 dir, crs_setup, pl, crs_rules) < 0)
        return 1;
    const char *err = NULL;
    double load0 = ts(CLOCK_MONOTONIC);
    int nrules = msc_rules_add(rules, conf, &err);
    if (nrules < 0) {
        fprintf(stderr, "loading rules failed: %s\n", err ? err : "?");
        return 1;
    }
    fprintf(stderr, "modsec_eval: %d rules loaded (PL %d) in %.2f s\n", nrules, pl, ts(CLOCK_MONOTONIC) - load0);

    /* Read every case first so the timed loop holds only ModSecurity's work. */
    FILE *in = fopen(file, "r");
    if (!in) { perror(file); return 1; }
    size_t cap = 1024, n = 0, bad = 0;
    Req *reqs = calloc(cap, sizeof *reqs);
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, in) > 0) {
        json_error_t je;
        json_t *o = json_loads(line, JSON_ALLOW_NUL, &je);
        if (!o || !json_is_object(o)) { bad += (line[0] != '\n'); json_decref(o); continue; }
        if (n == cap) { cap *= 2; reqs = realloc(reqs, cap * sizeof *reqs); }
        Req *r = &reqs[n++];
        memset(r, 0, sizeof *r);
        r->id = strdup(jstr(o, "id"));
        const char *label = jstr(o, "label");
        r->attack = !strcmp(label, "attack") ? 1 : !strcmp(label, "benign") ? 0 : -1;
        r->method = strdup(*jstr(o, "method") ? jstr(o, "method") : "GET");
        r->target = strdup(*jstr(o, "target") ? jstr(o, "target") : "/");
        json_t *hs = json_object_get(o, "headers");
        size_t nh = json_is_array(hs) ? json_array_size(hs) : 0;
        r->hn = calloc(nh + 1, sizeof(char *));
        r->hv = calloc(nh + 1, sizeof(char *));
        for (size_t i = 0; i < nh; i++) {
            json_t *h = json_array_get(hs, i);
            json_t *a = json_array_get(h, 0), *b = json_array_get(h, 1);
            if (!json_is_string(a) || !json_is_string(b)) continue;
            r->hn[r->nh] = strdup(json_string_value(a));
            r->hv[r->nh] = strdup(json_string_value(b));
            r->nh++;
        }
        r->body = b64dec(jstr(o, "body_b64"), &r->body_len);
        json_decref(o);
    }
    free(line);
    fclose(in);

    double c0 = ts(CLOCK_THREAD_CPUTIME_ID), w0 = ts(CLOCK_MONOTONIC);
    for (size_t i = 0; i < n; i++) {
        Req *r = &reqs[i];
        r->status = 200;
        Transaction *t = msc_new_transaction(ms, rules, r);
        msc_process_connection(t, "192.0.2.10", 40000, "192.0.2.1", 80);
        msc_process_uri(t, r->target, r->method, "1.1");
        int hit = check(t, r);
        if (!hit) {
            for (size_t k = 0; k < r->nh; k++)
                msc_add_request_header(t, (const unsigned char *)r->hn[k], (const unsigned char *)r->hv[k]);
            msc_process_request_headers(t);
            hit = check(t, r);
        }
        if (!hit) {
            if (r->body_len) msc_append_request_body(t, r->body, r->body_len);
            msc_process_request_body(t);
            hit = check(t, r);
        }
        r->detected = hit;
        msc_transaction_cleanup(t);
    }
    double cpu = ts(CLOCK_THREAD_CPUTIME_ID) - c0, wall = ts(CLOCK_MONOTONIC) - w0;

    size_t tp = 0, fn = 0, fp = 0, tn = 0;
    for (size_t i = 0; i < n; i++) {
        Req *r = &reqs[i];
        if (r->attack == 1) { if (r->detected) tp++; else fn++; }
        else if (r->attack == 0) { if (r->detected) fp++; else tn++; }
        fputs("{\"id\":", stdout);
        json_out(stdout, r->id);
        printf(",\"label\":\"%s\",\"detected\":%s,\"status\":%d,\"rules\":[%s]}\n",
               r->attack == 1 ? "attack" : r->attack == 0 ? "benign" : "",
               r->detected ? "true" : "false", r->status, r->rules);
    }
    double tpr = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
    double fpr = fp + tn ? (double)fp / (double)(fp + tn) : 0.0;
    printf("{\"type\":\"summary\",\"tool\":\"modsecurity\",\"paranoia_level\":%d,\"rules_loaded\":%d,"
           "\"requests\":%zu,\"attacks\":%zu,\"benign\":%zu,\"bad_lines\":%zu,\"tp\":%zu,\"fn\":%zu,\"fp\":%zu,\"tn\":%zu,"
           "\"tpr\":%.6f,\"fpr\":%.6f,\"cpu_seconds\":%.6f,\"wall_seconds\":%.6f,"
           "\"requests_per_sec\":%.1f,\"cpu_requests_per_sec\":%.1f}\n",
           pl, nrules, n, tp + fn, fp + tn, bad, tp, fn, fp, tn, tpr, fpr, cpu, wall,
           wall > 0 ? (double)n / wall : 0.0, cpu > 0 ? (double)n / cpu : 0.0);
    fprintf(stderr, "modsec_eval PL%d: TPR %.4f FPR %.4f (%zu attacks, %zu benign) %.0f req/s of CPU\n", pl, tpr,
            fpr, tp + fn, fp + tn, cpu > 0 ? (double)n / cpu : 0.0);

    msc_rules_cleanup(rules);
    msc_cleanup(ms);
    return 0;
}
