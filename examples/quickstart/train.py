#!/usr/bin/env python3
"""Quickstart: a small real experiment tracked in Cairn.

Trains a scaled logistic regression on scikit-learn's bundled breast-cancer
data set (no network needed) for a few regularisation strengths, one tracked
run each, and prints which run scored best.

    /usr/bin/python3 examples/quickstart/train.py [EXPERIMENT_NAME]

The server comes from CAIRN_URL (or MLFLOW_TRACKING_URI), default
http://127.0.0.1:5050. With CAIRN_DATA=path/to.csv (features, then the target
as the last column) it trains on that file instead, and with CAIRN_DATA_REF
(e.g. azureml:breast-cancer:1) each run records it as its input, so the data
version's lineage shows every run trained on it. Needs only Debian's python3-sklearn; tracking goes
through clients/python/cairn_client.py, so MLflow need not be installed.
"""

import json
import os
import pickle
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
from cairn_client import Client  # noqa: E402

import sklearn  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,  # noqa: E402
                             log_loss, roc_auc_score)
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

SEED = 42               # fixed, so every run of the demo sees the same split
C_VALUES = [0.01, 0.1, 1.0, 10.0]
SOLVER, MAX_ITER = "lbfgs", 1000
CURVE_EPOCHS = 20


def training_curve(X_train, y_train, C):
    """Per-epoch training log-loss of an SGD logistic regression with the same
    L2 penalty. LogisticRegression fits in one opaque call, so this cheap twin
    is what shows how learning progresses for this C."""
    scaler = StandardScaler().fit(X_train)
    X = scaler.transform(X_train)
    sgd = SGDClassifier(loss="log_loss", alpha=1.0 / (C * len(X)), random_state=SEED)
    curve = []
    for _ in range(CURVE_EPOCHS):
        sgd.partial_fit(X, y_train, classes=[0, 1])
        curve.append(log_loss(y_train, sgd.predict_proba(X)))
    return curve


def mlmodel_text(run_id, feature_names):
    """MLflow's MLmodel file for a pickled scikit-learn model: the sklearn and
    python_function flavors, and a column signature (inputs are the features as
    doubles, the output the predicted class)."""
    import datetime
    import uuid
    inputs = json.dumps([{"type": "double", "name": n} for n in feature_names])
    outputs = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}])
    quote = lambda s: "'" + s.replace("'", "''") + "'"  # noqa: E731  (YAML single-quoted)
    return "\n".join([
        "artifact_path: model",
        "flavors:",
        "  python_function:",
        "    loader_module: mlflow.sklearn",
        "    model_path: model.pkl",
        "    predict_fn: predict",
        "    python_version: %d.%d.%d" % sys.version_info[:3],
        "  sklearn:",
        "    code: null",
        "    pickled_model: model.pkl",
        "    serialization_format: pickle",
        "    sklearn_version: %s" % sklearn.__version__,
        "model_uuid: %s" % uuid.uuid4().hex,
        "run_id: %s" % run_id,
        "signature:",
        "  inputs: %s" % quote(inputs),
        "  outputs: %s" % quote(outputs),
        "utc_time_created: '%s'" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S.%f"),
        ""])


def main():
    experiment = sys.argv[1] if len(sys.argv) > 1 else "quickstart"
    data = load_breast_cancer()
    X, y = data.data, data.target
    csv_path, data_ref = os.environ.get("CAIRN_DATA"), os.environ.get("CAIRN_DATA_REF")
    digest = None
    if csv_path:
        import csv
        import hashlib
        with open(csv_path, newline="") as f:
            rows = list(csv.reader(f))[1:]
        X = [[float(v) for v in r[:-1]] for r in rows]
        y = [int(r[-1]) for r in rows]
        with open(csv_path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y)

    client = Client()
    experiment_id = client.get_or_create_experiment(experiment)
    print("Tracking to %s, experiment %r (id %s)" % (client.url, experiment, experiment_id))

    results = []  # (roc_auc, run_id, C)
    for C in C_VALUES:
        tags = {"model_type": "LogisticRegression", "dataset": "sklearn.breast_cancer",
                "sklearn_version": sklearn.__version__}
        # Leaving the block ends the run FINISHED, or FAILED if anything raises.
        with client.start_run(experiment_id, run_name="logreg-C%g" % C, tags=tags) as run:
            run.log_params({"C": C, "solver": SOLVER, "max_iter": MAX_ITER, "seed": SEED,
                            "n_train": len(X_train), "n_test": len(X_test)})
            if data_ref and digest:
                run.log_input("breast-cancer", digest, json.dumps({"uri": data_ref}))

            model = make_pipeline(StandardScaler(),
                                  LogisticRegression(C=C, solver=SOLVER, max_iter=MAX_ITER))
            model.fit(X_train, y_train)
            proba = model.predict_proba(X_test)[:, 1]
            pred = model.predict(X_test)
            metrics = {
                "accuracy": accuracy_score(y_test, pred),
                "roc_auc": roc_auc_score(y_test, proba),
                "f1": f1_score(y_test, pred),
                "log_loss": log_loss(y_test, proba),
            }
            run.log_metrics(metrics)

            # A stepped metric: one point per epoch, drawn as a curve in the UI.
            curve = training_curve(X_train, y_train, C)
            run.log_batch(metrics=[{"key": "sgd_train_loss", "value": loss, "step": epoch}
                                   for epoch, loss in enumerate(curve)])

            # Artifacts: the fitted pipeline in MLflow's model directory layout
            # (MLmodel with flavors and signature, requirements.txt), so MLflow
            # tools and `cairn model create --run` understand it, and its
            # confusion matrix.
            with tempfile.TemporaryDirectory() as tmp:
                model_path = os.path.join(tmp, "model.pkl")
                with open(model_path, "wb") as f:
                    pickle.dump(model, f)
                mlmodel_path = os.path.join(tmp, "MLmodel")
                with open(mlmodel_path, "w") as f:
                    f.write(mlmodel_text(run.run_id, list(data.feature_names)))
                req_path = os.path.join(tmp, "requirements.txt")
                with open(req_path, "w") as f:
                    f.write("scikit-learn==%s\n" % sklearn.__version__)
                run.log_artifact(mlmodel_path, artifact_path="model")
                run.log_artifact(req_path, artifact_path="model")
                cm_path = os.path.join(tmp, "confusion_matrix.json")
                with open(cm_path, "w") as f:
                    json.dump({"labels": list(data.target_names),
                               "matrix": confusion_matrix(y_test, pred).tolist()}, f, indent=2)
                run.log_artifact(model_path, artifact_path="model")
                run.log_artifact(cm_path)

        print("  run %s  C=%-5g accuracy=%.4f roc_auc=%.4f"
              % (run.run_id, C, metrics["accuracy"], metrics["roc_auc"]))
        results.append((metrics["roc_auc"], run.run_id, C))

    best_auc, best_run, best_c = max(results)
    print("Best run: %s (C=%g) with roc_auc=%.4f" % (best_run, best_c, best_auc))


if __name__ == "__main__":
    main()
