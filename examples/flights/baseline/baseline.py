#!/usr/bin/env python3
"""Flights baseline: a scikit-learn logistic regression next to the XGBoost model.

A Python step in the flights pipeline. It reads prep's train and test CSVs
(label `delayed`; numeric columns scaled, text columns such as origin and
destination one-hot encoded), fits a logistic regression, and logs its
parameters, held-out metrics and a JSON report into its own step run through
Cairn's standard-library helper: the server puts `cairn_client` on every
step's PYTHONPATH and sets MLFLOW_RUN_ID, so `Client().start_run()` attaches
to the step's run. Needs Debian's python3-sklearn.

    python3 baseline.py TRAIN.csv TEST.csv REPORT.json [--c 1.0]
"""

import argparse
import csv
import json
import math
import os
import sys

from cairn_client import Client
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

LABEL = "delayed"


def is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or LABEL not in rows[0]:
        sys.exit(f"baseline: {path} has no rows or no '{LABEL}' column")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("report")
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    args = ap.parse_args()

    train, test = read_table(args.train), read_table(args.test)
    features = [c for c in train[0] if c != LABEL]
    numeric = [c for c in features if all(is_number(r[c]) for r in train if r[c] != "")]
    text = [c for c in features if c not in numeric]

    def matrix(rows):
        return [[float(r[c]) if c in numeric else r[c] for c in features] for r in rows]

    x_train, y_train = matrix(train), [int(r[LABEL]) for r in train]
    x_test, y_test = matrix(test), [int(r[LABEL]) for r in test]
    index = {c: i for i, c in enumerate(features)}
    model = make_pipeline(
        ColumnTransformer([
            ("numeric", StandardScaler(), [index[c] for c in numeric]),
            ("text", OneHotEncoder(handle_unknown="ignore"), [index[c] for c in text]),
        ]),
        LogisticRegression(C=args.c, max_iter=1000))
    model.fit(x_train, y_train)
    proba = [p[1] for p in model.predict_proba(x_test)]
    metrics = {
        "accuracy": accuracy_score(y_test, [p >= 0.5 for p in proba]),
        "log_loss": log_loss(y_test, proba, labels=[0, 1]),
    }
    if len(set(y_test)) == 2:  # ROC AUC needs both classes in the held-out set
        metrics["roc_auc"] = roc_auc_score(y_test, proba)

    run = Client().start_run()  # attaches to this step's run (MLFLOW_RUN_ID)
    run.log_params({"model": "sklearn.LogisticRegression", "C": args.c,
                    "numeric_features": ",".join(numeric), "one_hot_features": ",".join(text),
                    "train_rows": len(train), "test_rows": len(test)})
    run.log_metrics(metrics)
    report = {"model": "sklearn.LogisticRegression", "metrics": metrics, "features": features}
    tmp = args.report + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)
    os.replace(tmp, args.report)
    run.log_artifact(args.report, "baseline")
    print("baseline: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
