#!/usr/bin/env python3
"""Independent check of `suggest`'s one-threshold optima, with nothing of ei-tune's code:
reads an impulse's per-window results from a Studio (or `ei-tune serve`) as the API serves
them, and finds, over every distinct anomaly score, the best balanced accuracy over
outcomes (each class, `anomaly`; an uncertain window is never right) and the interval of
`min_anomaly_score` values that give it.

usage: EI_API_ENDPOINT=... EI_API_KEY=... EI_PROJECT_ID=... check_optima.py IMPULSE MIN_SCORE
"""
import json, os, sys, urllib.request
from decimal import Decimal

base, key, project = os.environ["EI_API_ENDPOINT"], os.environ["EI_API_KEY"], os.environ["EI_PROJECT_ID"]
impulse, min_score = sys.argv[1], Decimal(sys.argv[2])

def get(path):
    req = urllib.request.Request(base + path, headers={"x-api-key": key})
    return json.loads(urllib.request.urlopen(req).read(), parse_float=Decimal)

windows, offset = [], 0
while True:
    page = get(f"/api/{project}/classify/all/result/page?impulseId={impulse}&limit=500&offset={offset}")
    for r in page["result"]:
        outs = {c["learnBlock"]["type"]: c for c in r["classifications"]}
        clf = next(c for t, c in outs.items() if t.startswith("keras"))
        ano = next(c for t, c in outs.items() if t.startswith("anomaly"))
        for w, scores in enumerate(clf["result"]):
            label = r["sample"]["label"]
            for o in (ano.get("expectedAnomalyOutcome") or []):
                if o["startIndex"] <= w <= o["endIndex"] and o["label"] == "anomaly":
                    label = "anomaly"
            top = max(scores.items(), key=lambda kv: kv[1])  # first of equals
            top = next(kv for kv in scores.items() if kv[1] == top[1])
            windows.append((label, top, ano["result"][w]["anomaly"]))
    offset += len(page["result"])
    if not page["result"] or offset >= page.get("totalCount", offset):
        break

def balanced_accuracy(t):
    right, seen = {}, {}
    for label, (cls, s), a in windows:
        pred = "anomaly" if a >= t else (cls if s >= min_score else "uncertain")
        seen[label] = seen.get(label, 0) + 1
        right[label] = right.get(label, 0) + (pred == label)
    return sum(right[l] / seen[l] for l in seen) / len(seen)

cuts = sorted({a for *_, a in windows})
best, where = None, []
for lo, hi in zip([None] + cuts, cuts + [None]):
    t = hi if hi is not None else lo + 1
    score = balanced_accuracy(t)
    if best is None or score > best + 1e-12:
        best, where = score, [(lo, hi)]
    elif abs(score - best) <= 1e-12:
        where.append((lo, hi))
print(json.dumps({"windows": len(windows), "best": best,
                  "intervals": [[str(lo), str(hi)] for lo, hi in where]}))
