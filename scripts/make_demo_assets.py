#!/usr/bin/env python3
"""Regenerates assets/demo-digits.json, the model testing data of the demo project.

Real models trained on a real public dataset: scikit-learn's bundled copy of the UCI
optical handwritten digits (1,797 8x8 images), so no download is needed.

- Classifier: multinomial logistic regression on digits 0-5 (kept weakly regularised
  on purpose, so that confidence thresholds have a visible effect).
- Anomaly (K-means): distance of a window's PCA features to the nearest of 12 cluster
  centres, scaled by that cluster's mean training distance, minus 1 (so a normal window
  scores around 0 and an outlier above it); digit 9 is held out of training and is the
  anomaly in the test set.
- Visual anomaly: a PCA model of normal images; per window, the mean and the max of its
  reconstruction error over nine overlapping 4x4 patches.

Usage: pip install scikit-learn==1.* && python3 scripts/make_demo_assets.py
"""
import json
import os

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

SEED = 7
CLASSES = [0, 1, 2, 3, 4, 5]
ANOMALY_DIGIT = 9

digits = load_digits()
x_all = digits.data / 16.0
y_all = digits.target

normal = np.isin(y_all, CLASSES)
x_norm, y_norm = x_all[normal], y_all[normal]
x_train, x_test, y_train, y_test = train_test_split(
    x_norm, y_norm, test_size=0.4, random_state=SEED, stratify=y_norm
)
x_anom = x_all[y_all == ANOMALY_DIGIT]
# Blur the classes a little with pixel noise on the test set: real sensors are noisy, and
# a perfect test set would leave nothing to tune.
rng = np.random.default_rng(SEED)
x_test = np.clip(x_test + rng.normal(0, 0.2, x_test.shape), 0, 1)
x_anom = np.clip(x_anom + rng.normal(0, 0.2, x_anom.shape), 0, 1)

clf = LogisticRegression(C=0.3, max_iter=2000)
clf.fit(x_train, y_train)

pca = PCA(n_components=12, random_state=SEED).fit(x_train)
km = KMeans(n_clusters=12, n_init=10, random_state=SEED).fit(pca.transform(x_train))
train_d = np.min(km.transform(pca.transform(x_train)), axis=1)
labels_train = km.predict(pca.transform(x_train))
radius = np.array([train_d[labels_train == k].mean() for k in range(12)])


def kmeans_score(x):
    d = km.transform(pca.transform(x))
    k = np.argmin(d, axis=1)
    return d[np.arange(len(x)), k] / radius[k] - 1.0


image_pca = PCA(n_components=8, random_state=SEED).fit(x_train)


def visual_scores(x):
    """Per-window mean and max of the reconstruction error over nine 4x4 patches."""
    rec = image_pca.inverse_transform(image_pca.transform(x))
    err = ((x - rec) ** 2).reshape(-1, 8, 8)
    cells = [
        np.sqrt(err[:, r : r + 4, c : c + 4].sum(axis=(1, 2))) * 10.0
        for r in (0, 2, 4)
        for c in (0, 2, 4)
    ]
    cells = np.stack(cells, axis=1)
    return cells.mean(axis=1), cells.max(axis=1)


x_windows = np.concatenate([x_test, x_anom])
expected = [str(int(v)) for v in y_test] + ["anomaly"] * len(x_anom)
probs = clf.predict_proba(x_windows)
anomaly = kmeans_score(x_windows)
v_mean, v_max = visual_scores(x_windows)

order = rng.permutation(len(x_windows))
r4 = lambda a: [round(float(v), 4) for v in a]
assets = {
    "source": "scikit-learn load_digits (UCI optical recognition of handwritten digits), seed %d" % SEED,
    "classes": [str(c) for c in CLASSES],
    "anomalyLabel": "anomaly",
    "suggested": {
        "minScore": 0.6,
        "minAnomalyScore": round(float(np.percentile(kmeans_score(x_train), 95)), 2),
        "visualMinAnomalyScore": round(float(np.percentile(visual_scores(x_train)[1], 95)), 2),
    },
    "windows": [
        {
            "expected": expected[i],
            "scores": r4(probs[i]),
            "anomaly": round(float(anomaly[i]), 4),
            "visualMean": round(float(v_mean[i]), 4),
            "visualMax": round(float(v_max[i]), 4),
        }
        for i in order
    ],
}
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "assets", "demo-digits.json")
with open(path, "w") as f:
    json.dump(assets, f, separators=(",", ":"))
    f.write("\n")

top = probs.argmax(axis=1)
normal_idx = np.array([e != "anomaly" for e in expected])
acc = np.mean([str(CLASSES[t]) == e for t, e in zip(top[normal_idx], np.array(expected)[normal_idx])])
print("windows:", len(expected), "classifier top-1 accuracy on normal windows: %.3f" % acc)
print("suggested:", assets["suggested"])
print("anomaly score: normal median %.3f, anomaly median %.3f" % (np.median(anomaly[normal_idx]), np.median(anomaly[~normal_idx])))
print("visual max: normal median %.3f, anomaly median %.3f" % (np.median(v_max[normal_idx]), np.median(v_max[~normal_idx])))
print("top score quantiles", np.percentile(probs.max(axis=1), [10, 25, 50, 75, 90]))
