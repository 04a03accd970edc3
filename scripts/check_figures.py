#!/usr/bin/env python3
"""Holds ei-tune's classifier figures against scikit-learn, from the per-window results as
the API serves them (nothing of ei-tune's code): accuracy, balanced accuracy and ei-tune's
macro F1 over outcomes, at the thresholds Studio holds, compared with `ei-tune suggest
--json`'s figures "now". Also prints scikit-learn's default macro F1 (which counts
`uncertain` as a label), to show how the two differ. Exit 1 on a difference over 1e-9.

usage: EI_API_ENDPOINT=... EI_API_KEY=... EI_PROJECT_ID=... check_figures.py IMPULSE
(needs scikit-learn, and ei-tune on PATH or EI_TUNE=path)
"""
import json, os, subprocess, sys, urllib.request
from decimal import Decimal
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

base, key, project = os.environ["EI_API_ENDPOINT"], os.environ["EI_API_KEY"], os.environ["EI_PROJECT_ID"]
impulse = sys.argv[1]
ei_tune = os.environ.get("EI_TUNE", "ei-tune")

def get(path):
    req = urllib.request.Request(base + path, headers={"x-api-key": key})
    return json.loads(urllib.request.urlopen(req).read(), parse_float=Decimal)

rows = json.loads(subprocess.run([ei_tune, "--impulse", impulse, "list", "--json"],
                                 capture_output=True, text=True, check=True).stdout,
                  parse_float=Decimal)
value = {r["key"]: r["value"] for r in rows}
min_score, min_anomaly = value["min_score"], value.get("min_anomaly_score")

y_true, y_pred, offset = [], [], 0
while True:
    page = get(f"/api/{project}/classify/all/result/page?impulseId={impulse}&limit=500&offset={offset}")
    for r in page["result"]:
        outs = {c["learnBlock"]["type"]: c for c in r["classifications"]}
        clf = next(c for t, c in outs.items() if t.startswith("keras"))
        ano = next((c for t, c in outs.items() if t.startswith("anomaly")), None)
        for w, scores in enumerate(clf["result"]):
            label = r["sample"]["label"]
            for o in ((ano or {}).get("expectedAnomalyOutcome") or []):
                if o["startIndex"] <= w <= o["endIndex"] and o["label"] == "anomaly":
                    label = "anomaly"
            best = max(scores.values())
            top = next(k for k, v in scores.items() if v == best)  # first of equals
            if ano is not None and ano["result"][w]["anomaly"] >= min_anomaly:
                pred = "anomaly"
            else:
                pred = top if best >= min_score else "uncertain"
            y_true.append(label)
            y_pred.append(pred)
    offset += len(page["result"])
    if not page["result"] or offset >= page.get("totalCount", offset):
        break

outcomes = sorted((set(y_true) | set(y_pred)) - {"uncertain"})
ours = {
    "accuracy": accuracy_score(y_true, y_pred),
    "balancedAccuracy": balanced_accuracy_score(y_true, y_pred),
    "macroF1": f1_score(y_true, y_pred, labels=outcomes, average="macro", zero_division=0),
}
now = json.loads(subprocess.run([ei_tune, "--impulse", impulse, "suggest", "--json"],
                                capture_output=True, text=True, check=True).stdout)
figures = now["suggestions"][0]["atCurrent"]
bad = 0
for name, expected in ours.items():
    got = figures[name]
    ok = abs(got - expected) <= 1e-9
    bad += not ok
    print(f"{name:17} ei-tune {got:.12f}  scikit-learn {expected:.12f}  {'ok' if ok else 'DIFFERS'}")
print(f"scikit-learn's default f1_score(average='macro'), uncertain counted as a label: "
      f"{f1_score(y_true, y_pred, average='macro', zero_division=0):.6f}")
sys.exit(1 if bad else 0)
