#!/usr/bin/python3
"""Regenerates metric_fixtures.json: reference metric values from scikit-learn
(Debian's python3-sklearn) for evaluate_test.cc. Not needed to run the tests.
Probabilities are rounded to one decimal so ROC AUC sees many ties.
Run: /usr/bin/python3 src/ml/testdata/make_metric_fixtures.py > src/ml/testdata/metric_fixtures.json
"""
import json
import random

import numpy as np
import sklearn
from sklearn import metrics

rng = random.Random(20261127)
out = {"sklearn_version": sklearn.__version__}

y = [rng.randint(0, 1) for _ in range(200)]
p = [round(min(max(0.5 * t + rng.gauss(0.25, 0.25), 0.0), 1.0), 1) for t in y]
pred = [1 if v >= 0.5 else 0 for v in p]
out["binary"] = {
    "y": y, "p": p,
    "accuracy": metrics.accuracy_score(y, pred),
    "precision": metrics.precision_score(y, pred),
    "recall": metrics.recall_score(y, pred),
    "f1": metrics.f1_score(y, pred),
    "roc_auc": metrics.roc_auc_score(y, p),
    "log_loss": metrics.log_loss(y, p, eps=1e-15),
    "confusion": metrics.confusion_matrix(y, pred).tolist(),
}

k = 4
ym = [rng.randrange(k) for _ in range(300)]
pm = []
for t in ym:
    raw = [rng.random() + (1.2 if j == t else 0.0) for j in range(k)]
    s = sum(raw)
    pm.append([round(v / s, 1) for v in raw])
pm_arr = np.array(pm)
pm_norm = pm_arr / pm_arr.sum(axis=1, keepdims=True)  # roc_auc_score needs rows summing to 1
predm = [int(np.argmax(r)) for r in pm]
labels = list(range(k))
out["multiclass"] = {
    "y": ym, "p": pm_norm.tolist(),
    "accuracy": metrics.accuracy_score(ym, predm),
    "precision_macro": metrics.precision_score(ym, predm, average="macro", labels=labels),
    "recall_macro": metrics.recall_score(ym, predm, average="macro", labels=labels),
    "f1_macro": metrics.f1_score(ym, predm, average="macro", labels=labels),
    "precision_weighted": metrics.precision_score(ym, predm, average="weighted", labels=labels),
    "recall_weighted": metrics.recall_score(ym, predm, average="weighted", labels=labels),
    "f1_weighted": metrics.f1_score(ym, predm, average="weighted", labels=labels),
    "roc_auc_ovr_macro": metrics.roc_auc_score(ym, pm_norm, multi_class="ovr", average="macro"),
    "log_loss": metrics.log_loss(ym, pm_norm, eps=1e-15, labels=labels),
    "confusion": metrics.confusion_matrix(ym, predm, labels=labels).tolist(),
}

yr = [rng.gauss(10, 3) for _ in range(150)]
pr = [v + rng.gauss(0, 1) for v in yr]
out["regression"] = {
    "y": yr, "p": pr,
    "rmse": metrics.mean_squared_error(yr, pr) ** 0.5,
    "mae": metrics.mean_absolute_error(yr, pr),
    "r2": metrics.r2_score(yr, pr),
}
print(json.dumps(out, indent=1))
