#!/usr/bin/env python3
"""Regenerates assets/demo-detection.json (the demo's object detection and FOMO model
testing data) and assets/detection-expected.json (figures computed independently, by
pycocotools and by the centroid matching below, that the Rust metrics are checked against).

Real models on real images: scenes of 48x48 pixels composed from scikit-learn's bundled
UCI handwritten digits (digits 0, 1 and 2 of the test split, drawn at twice their size at
known positions on a noisy background), and a detector built from a logistic regression
trained on the training split: it classifies every 16x16 window (stride 2) as background
or a digit, keeps windows whose digit score is at least the floor, and suppresses
overlapping windows of the same class (non-maximum suppression, IoU > 0.3), at most 20
detections an image. The FOMO-style model classifies each 8x8 cell of a 6x6 grid from the
16x16 window centred on it and reports cells whose top class is a digit scoring at least
the floor, as 8x8 boxes whose centres are the centroids.

Usage: pip install scikit-learn==1.* pycocotools==2.* && python3 scripts/make_detection_assets.py
"""
import contextlib
import importlib.metadata
import io
import json
import os

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

SEED = 11
CLASSES = [0, 1, 2]
LABELS = [str(c) for c in CLASSES]
SIZE = 48
DIGIT = 16
STRIDE = 2
FLOOR = 0.1
MAX_DETECTIONS = 20
SCENES = 150
MIN_SCORES = [0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95]

rng = np.random.default_rng(SEED)
digits = load_digits()
x_all = digits.data.reshape(-1, 8, 8) / 16.0
y_all = digits.target
keep = np.isin(y_all, CLASSES)
x_train, x_test, y_train, y_test = train_test_split(
    x_all[keep], y_all[keep], test_size=0.5, random_state=SEED, stratify=y_all[keep]
)


def upscale(img):
    return np.kron(img, np.ones((2, 2)))


def downscale(patch):
    return patch.reshape(8, 2, 8, 2).mean(axis=(1, 3))


def compose(pool_x, pool_y, count):
    """A scene with `count` digits at random places that do not overlap (they may touch)."""
    canvas = rng.uniform(0, 0.15, (SIZE, SIZE))
    boxes = []
    for _ in range(count):
        for _attempt in range(50):
            x, y = (int(v) for v in rng.integers(0, SIZE - DIGIT + 1, 2))
            if all(x + DIGIT <= bx or bx + DIGIT <= x or y + DIGIT <= by or by + DIGIT <= y for _, bx, by in boxes):
                i = int(rng.integers(len(pool_x)))
                canvas[y : y + DIGIT, x : x + DIGIT] = np.maximum(canvas[y : y + DIGIT, x : x + DIGIT], upscale(pool_x[i]))
                boxes.append((CLASSES.index(int(pool_y[i])), x, y))
                break
    return np.clip(canvas + rng.normal(0, 0.05, canvas.shape), 0, 1), boxes


# The window classifier: digits (training split) against background windows cut from
# training scenes away from their digits, or half on one.
train_windows, train_labels = [], []
for img, label in zip(x_train, y_train):
    train_windows.append(img)
    train_labels.append(CLASSES.index(int(label)) + 1)
for _ in range(600):
    scene, boxes = compose(x_train, y_train, int(rng.integers(1, 4)))
    x, y = (int(v) for v in rng.integers(0, SIZE - DIGIT + 1, 2))
    best = max((min(x + DIGIT, bx + DIGIT) - max(x, bx)) * (min(y + DIGIT, by + DIGIT) - max(y, by)) if x < bx + DIGIT and bx < x + DIGIT and y < by + DIGIT and by < y + DIGIT else 0 for _, bx, by in boxes)
    if best < 0.5 * DIGIT * DIGIT:
        train_windows.append(downscale(scene[y : y + DIGIT, x : x + DIGIT]))
        train_labels.append(0)
classifier = LogisticRegression(C=0.5, max_iter=3000)
classifier.fit(np.array(train_windows).reshape(len(train_windows), -1), train_labels)


def window_scores(scene, positions):
    patches = np.array([downscale(scene[y : y + DIGIT, x : x + DIGIT]).ravel() for x, y in positions])
    return classifier.predict_proba(patches)  # columns: background, then the classes


def iou(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def detect(scene):
    positions = [(x, y) for y in range(0, SIZE - DIGIT + 1, STRIDE) for x in range(0, SIZE - DIGIT + 1, STRIDE)]
    probs = window_scores(scene, positions)
    found = []
    for c in range(len(CLASSES)):
        candidates = sorted(
            ((round(float(probs[i, c + 1]), 4), positions[i]) for i in range(len(positions)) if probs[i, c + 1] >= FLOOR),
            key=lambda t: -t[0],
        )
        kept = []
        for score, (x, y) in candidates:
            box = (x, y, DIGIT, DIGIT)
            if all(iou(box, k[1]) <= 0.3 for k in kept):
                kept.append((score, box))
        found += [(c, box, score) for score, box in kept]
    found.sort(key=lambda d: -d[2])
    return found[:MAX_DETECTIONS]


def fomo(scene):
    found = []
    cells = SIZE // 8
    positions = []
    for gy in range(cells):
        for gx in range(cells):
            cx, cy = gx * 8 + 4, gy * 8 + 4
            positions.append((min(max(cx - DIGIT // 2, 0), SIZE - DIGIT), min(max(cy - DIGIT // 2, 0), SIZE - DIGIT)))
    probs = window_scores(scene, positions)
    for i, (gx, gy) in enumerate((gx, gy) for gy in range(cells) for gx in range(cells)):
        top = int(np.argmax(probs[i]))
        if top > 0 and probs[i, top] >= FLOOR:
            found.append((top - 1, (gx * 8, gy * 8, 8, 8), round(float(probs[i, top]), 4)))
    found.sort(key=lambda d: -d[2])
    return found[:MAX_DETECTIONS]


scenes = [compose(x_test, y_test, int(rng.integers(0, 5))) for _ in range(SCENES)]
detection_images = []
fomo_images = []
for scene, boxes in scenes:
    truths = [[c, x, y, DIGIT, DIGIT] for c, x, y in boxes]
    detection_images.append({"truths": truths, "detections": [[c, *box, s] for c, box, s in detect(scene)]})
    fomo_images.append({"truths": truths, "detections": [[c, *box, s] for c, box, s in fomo(scene)]})


def coco_figures(images, min_score):
    """pycocotools' mAP@[.5:.95] and mAP@0.5, and its matches at IoU 0.5 counted, over the
    detections scoring at least min_score."""
    gt = {"images": [], "annotations": [], "categories": [{"id": c + 1, "name": l} for c, l in enumerate(LABELS)]}
    dets = []
    for i, image in enumerate(images):
        gt["images"].append({"id": i + 1, "width": SIZE, "height": SIZE})
        for c, x, y, w, h in image["truths"]:
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i + 1, "category_id": c + 1, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
        for c, x, y, w, h, s in image["detections"]:
            if s >= min_score:
                dets.append({"image_id": i + 1, "category_id": c + 1, "bbox": [x, y, w, h], "score": s})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        truths = {c + 1: 0 for c in range(len(LABELS))}
        for a in gt["annotations"]:
            truths[a["category_id"]] += 1
        if not dets:
            with_truth = [c for c in truths if truths[c] > 0]
            zero = 0.0 if with_truth else None
            return {"minScore": min_score, "mAP": zero, "mAP50": zero, "truePositives": 0, "falsePositives": 0, "truths": sum(truths.values())}
        ev = COCOeval(coco, coco.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"][:, :, :, 0, 2]
    mean = lambda p: float(np.mean(p[p > -1])) if (p > -1).any() else None
    tp = fp = 0
    for e in ev.evalImgs:
        if e is None or e["aRng"] != [0, 1e10] or e["maxDet"] != 100:
            continue
        m = e["dtMatches"][0]
        tp += int((m > 0).sum())
        fp += int((m == 0).sum())
    return {"minScore": min_score, "mAP": mean(precision), "mAP50": mean(precision[0]), "truePositives": tp, "falsePositives": fp, "truths": sum(truths.values())}


def centroid_figures(images, min_score):
    """FOMO's matching, written independently of the Rust code: each detection by
    descending score takes the first box of its class not taken that holds its centre."""
    tp = fp = truths = 0
    for image in images:
        truths += len(image["truths"])
        taken = [False] * len(image["truths"])
        for c, x, y, w, h, s in sorted(image["detections"], key=lambda d: -d[5]):
            if s < min_score:
                continue
            cx, cy = x + w / 2, y + h / 2
            for g, (tc, tx, ty, tw, th) in enumerate(image["truths"]):
                if not taken[g] and tc == c and tx <= cx <= tx + tw and ty <= cy <= ty + th:
                    taken[g] = True
                    tp += 1
                    break
            else:
                fp += 1
    return {"minScore": min_score, "truePositives": tp, "falsePositives": fp, "truths": truths}


# Hand-made cases: no detections, no truth, a duplicate, touching boxes, equal scores.
CASES = {
    "no detections": [{"truths": [[0, 0, 0, 10, 10]], "detections": []}],
    "no truth": [{"truths": [], "detections": [[1, 0, 0, 10, 10, 0.9]]}],
    "a class without truth": [{"truths": [[0, 0, 0, 10, 10]], "detections": [[0, 0, 0, 10, 10, 0.9], [2, 5, 5, 10, 10, 0.8]]}],
    "a duplicate": [{"truths": [[0, 0, 0, 10, 10]], "detections": [[0, 1, 0, 10, 10, 0.9], [0, 0, 1, 10, 10, 0.6]]}],
    "touching boxes": [{"truths": [[0, 0, 0, 10, 10], [0, 10, 0, 10, 10]], "detections": [[0, 10, 0, 10, 10, 0.7], [0, 20, 0, 10, 10, 0.8]]}],
    "equal scores": [
        {"truths": [[1, 0, 0, 10, 10]], "detections": [[1, 0, 0, 10, 10, 0.5], [1, 30, 30, 10, 10, 0.5]]},
        {"truths": [[1, 5, 5, 10, 10]], "detections": [[1, 30, 30, 10, 10, 0.5], [1, 6, 5, 10, 10, 0.5]]},
    ],
    "one overlap at 0.6": [{"truths": [[0, 0, 0, 10, 10]], "detections": [[0, 0, 0, 10, 6, 0.9]]}],
}

here = os.path.dirname(os.path.abspath(__file__))
assets = os.path.join(here, "..", "assets")
demo = {
    "source": "scikit-learn load_digits (UCI optical recognition of handwritten digits), scenes of 48x48, seed %d" % SEED,
    "labels": LABELS,
    "floor": FLOOR,
    "suggested": 0.5,
    "imageSize": SIZE,
    "detection": detection_images,
    "fomo": fomo_images,
}
with open(os.path.join(assets, "demo-detection.json"), "w") as f:
    json.dump(demo, f, separators=(",", ":"))
    f.write("\n")
expected = {
    "about": "pycocotools %s (mAP, mAP50, and its matches at IoU 0.5) and an independent centroid matcher, on demo-detection.json and hand-made cases" % importlib.metadata.version("pycocotools"),
    "detection": [coco_figures(detection_images, s) for s in MIN_SCORES],
    "fomo": [centroid_figures(fomo_images, s) for s in MIN_SCORES],
    "cases": [
        {"name": name, "images": images, "figures": [coco_figures(images, s) for s in (0.0, 0.55, 0.85)]}
        for name, images in CASES.items()
    ],
}
with open(os.path.join(assets, "detection-expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")

for row in expected["detection"]:
    print("boxes", row)
for row in expected["fomo"]:
    print("fomo", row)
print("detections:", sum(len(i["detections"]) for i in detection_images), "fomo:", sum(len(i["detections"]) for i in fomo_images), "truths:", sum(len(i["truths"]) for i in detection_images))
