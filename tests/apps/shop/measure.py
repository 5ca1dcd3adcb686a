#!/usr/bin/env python3
"""Scores a discovery report against the shop spec, independently of the Rust test.

    periscope discover shop.pcap --format json -q > report.json
    python3 measure.py openapi.yaml report.json

Prints: endpoints templated exactly as in the spec (variable names aside; and with the same
names), parameters found with the right location and type, spurious endpoints (other than
the one undocumented endpoint), and every miss.
"""
import json, re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1])); rep = json.load(open(sys.argv[2]))
base = ''
def shape(p): return re.sub(r'\{[^}]*\}', '{}', p)
def deref(x):
    while isinstance(x, dict) and '$ref' in x:
        node = spec
        for part in x['$ref'][2:].split('/'): node = node[part]
        x = node
    return x
ops = []
for p, item in spec['paths'].items():
    pparams = [deref(x) for x in item.get('parameters', [])]
    for m, op in item.items():
        if m not in ('get','post','put','patch','delete'): continue
        params = {(x['in'], x['name']): deref(x.get('schema', {})).get('type') for x in pparams + [deref(y) for y in op.get('parameters', [])]}
        for media in op.get('requestBody', {}).get('content', {}).values():
            for k, v in deref(media.get('schema', {})).get('properties', {}).items():
                params[('body', k)] = deref(v).get('type')
        ops.append((m.upper(), p, params))
eps = [e for e in rep['endpoints'] if e['host'] == 'shop.test']
exact = named = 0; ptot = pok = 0; miss = []
for m, p, params in ops:
    e = next((e for e in eps if e['method'] == m and shape(e['path']) == shape(p)), None)
    if not e: miss.append((m, p)); continue
    exact += 1; named += e['path'] == p
    spec_vars = re.findall(r'\{([^}]*)\}', p); seen_path = [x for x in e['params'] if x['location'] == 'path']
    for (loc, name), ty in params.items():
        ptot += 1
        if loc == 'path':
            i = spec_vars.index(name); got = seen_path[i] if i < len(seen_path) else None
        else:
            got = next((x for x in e['params'] if x['location'] == loc and (x['name'].lower() == name.lower() if loc == 'header' else x['name'] == name)), None)
        if got and got['type'] == ty: pok += 1
        else: miss.append((m, p, loc, name, ty, got and got['type']))
spurious = [f"{e['method']} {e['path']}" for e in eps if not any(e['method'] == m and shape(e['path']) == shape(p) for m, p, _ in ops) and e['path'] != '/api/v1/internal/metrics']
print(f"endpoints exact: {exact}/{len(ops)} ({100*exact/len(ops):.1f}%), same names {named}/{len(ops)}; params right location+type: {pok}/{ptot} ({100*pok/ptot:.1f}%); spurious: {spurious}; misses: {miss}")
