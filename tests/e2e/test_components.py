"""Drives the built-in components and batch scoring against a real server:
`cairn component train` (deterministic model bytes, params / per-iteration metrics /
importance logged to MLFLOW_RUN_ID), `component evaluate` (report + metrics on the run),
`component register --if-better-than` (exit 0 registered, 1 not better) and
`cairn batch score` with a registered model (predictions.csv, summary, error threshold).

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_components.py -v
"""

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ServerTestCase, cairn_bin  # noqa: E402


def write_table(path, rows, seed):
    """y depends on x1 and the airport; noise is noise."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "noise", "airport", "y"])
        for _ in range(rows):
            x1, noise = rng.random(), rng.random()
            airport = rng.choice(["SFO", "JFK", "ORD"])
            s = x1 + (0.5 if airport == "ORD" else 0) + rng.gauss(0, 0.15)
            w.writerow([f"{x1:.4f}", f"{noise:.4f}", airport, 1 if s > 0.8 else 0])


class ComponentsTest(ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-components-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.train_csv = os.path.join(self.tmp, "train.csv")
        self.test_csv = os.path.join(self.tmp, "test.csv")
        write_table(self.train_csv, 1500, 1)
        write_table(self.test_csv, 500, 2)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def cli(self, *args, expect=0, run_id=None):
        env = dict(os.environ, HOME=self.tmp)
        env.pop("MLFLOW_RUN_ID", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        if run_id:
            env["MLFLOW_RUN_ID"] = run_id
            env["MLFLOW_TRACKING_URI"] = self.server.base_url
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=120, env=env)
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             f"cairn {' '.join(args)}: exit {p.returncode}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def cli_json(self, *args, expect=0, run_id=None):
        return json.loads(self.cli("--json", *args, expect=expect, run_id=run_id).stdout)

    def run_data(self, run_id):
        return self.server.get("/runs/get", {"run_id": run_id})[1]["run"]["data"]

    def train_and_evaluate(self, out, *extra):
        run_id = self.cli("run", "create").stdout.strip()
        summary = self.cli_json("component", "train", "--data", self.train_csv, "--label", "y",
                                "--param", "num_round=20", "--param", "seed=3",
                                "--output", self.path(out), *extra, run_id=run_id)
        report = self.path(out + "-report.json")
        self.cli("component", "evaluate", "--model", self.path(out), "--data", self.test_csv,
                 "--output", report, run_id=run_id)
        with open(report) as f:
            return run_id, summary, json.load(f)

    def test_train_evaluate_register_batch(self):
        run1, summary, report = self.train_and_evaluate("good")
        self.assertEqual(summary["objective"], "binary:logistic")
        self.assertEqual(len(summary["history"]), 20)
        self.assertGreater(report["metrics"]["roc_auc"], 0.9)
        self.assertEqual(report["rows"], 500)
        self.assertEqual(len(report["confusion_matrix"]), 2)
        # Logged to the run: params, per-iteration metric history, importance, eval metrics.
        data = self.run_data(run1)
        params = {p["key"]: p["value"] for p in data["params"]}
        self.assertEqual(params["objective"], "binary:logistic")
        self.assertEqual(params["num_round"], "20")
        metrics = {m["key"]: m["value"] for m in data["metrics"]}
        self.assertIn("feature_importance_gain.x1", metrics)
        self.assertAlmostEqual(metrics["roc_auc"], report["metrics"]["roc_auc"], places=9)
        history = self.server.get("/metrics/get-history",
                                  {"run_id": run1, "metric_key": "validation-logloss"})[1]
        self.assertEqual(sorted(m["step"] for m in history["metrics"]), list(range(20)))
        # The MLmodel names the run (lineage for register).
        with open(self.path("good/MLmodel")) as f:
            self.assertIn(run1, f.read())

        name = f"flights-{uuid.uuid4().hex[:8]}"
        first = self.cli_json("component", "register", "--model", self.path("good"),
                              "--name", name, "--if-better-than", f"{name}@champion",
                              "--metric", "roc_auc", "--alias", "champion")
        self.assertTrue(first["registered"])
        self.assertEqual(first["version"], "1")
        self.assertEqual(first["run_id"], run1)

        # A model trained on noise only loses the gate: exit 1, nothing registered.
        run2, _, weak = self.train_and_evaluate("weak", "--features", "noise")
        self.assertLess(weak["metrics"]["roc_auc"], 0.7)
        lost = self.cli_json("component", "register", "--model", self.path("weak"),
                             "--name", name, "--if-better-than", f"{name}@champion",
                             "--metric", "roc_auc", expect=1)
        self.assertFalse(lost["registered"])
        self.assertEqual(lost["gate"]["decision"], "lose")
        versions = self.cli_json("model", "list", "--name", name)["model_versions"]
        self.assertEqual(len(versions), 1)

        # Batch scoring with the registered champion.
        out = self.path("scored")
        s = self.cli_json("batch", "score", "--model", f"{name}@champion", "--input",
                          self.test_csv, "--output", out, "--mini-batch-size", "64",
                          "--max-concurrency", "3")
        self.assertEqual((s["rows"], s["failed_rows"], s["batches"]), (500, 0, 8))
        with open(os.path.join(out, "predictions.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(self.test_csv) as f:
            inputs = list(csv.DictReader(f))
        self.assertEqual(len(rows), 500)
        self.assertEqual([r["x1"] for r in rows], [r["x1"] for r in inputs])  # order kept
        correct = sum(r["prediction"] == r["y"] for r in rows)
        self.assertAlmostEqual(correct / 500, report["metrics"]["accuracy"], places=9)
        self.assertTrue(all(0 <= float(r["probability"]) <= 1 for r in rows))
        with open(os.path.join(out, "summary.json")) as f:
            self.assertEqual(json.load(f)["status"], "succeeded")

    def test_deterministic_offline_and_errors(self):
        a = self.cli_json("component", "train", "--data", self.train_csv, "--label", "y",
                          "--param", "subsample=0.8", "--param", "seed=9",
                          "--output", self.path("a"))
        self.cli("component", "train", "--data", self.train_csv, "--label", "y",
                 "--param", "subsample=0.8", "--param", "seed=9", "--output", self.path("b"))
        with open(self.path("a/model.json"), "rb") as f1, open(self.path("b/model.json"), "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        self.assertFalse(a["logged"])
        # Bad input: exit 2 with a message that names the problem.
        p = self.cli("component", "train", "--data", self.train_csv, "--label", "nope",
                     "--output", self.path("c"), expect=2)
        self.assertIn("column 'nope'", p.stderr + p.stdout)
        p = self.cli("component", "train", "--data", self.train_csv, "--label", "y",
                     "--param", "max_dept=3", "--output", self.path("c"), expect=2)
        self.assertIn("max_dept", p.stderr + p.stdout)
        # Batch rows that fail parsing count toward --error-threshold.
        bad = self.path("bad.csv")
        with open(bad, "w") as f:
            f.write("x1,noise,airport\n0.5,0.1,SFO\nabc,0.2,JFK\n0.9,0.3,ORD\n")
        p = self.cli("batch", "score", "--model", self.path("a"), "--input", bad,
                     "--output", self.path("bad0"), "--error-threshold", "0", expect=1)
        self.assertFalse(os.path.exists(self.path("bad0/predictions.csv")))
        with open(self.path("bad0/errors.txt")) as f:
            self.assertIn("line 3", f.read())
        s = self.cli_json("batch", "score", "--model", self.path("a"), "--input", bad,
                          "--output", self.path("bad1"), "--error-threshold", "1")
        self.assertEqual((s["rows"], s["scored_rows"], s["failed_rows"]), (3, 2, 1))
        self.cli("batch", "score", "--model", self.path("nowhere"), "--input", bad,
                 "--output", self.path("bad2"), expect=2)


if __name__ == "__main__":
    import unittest
    unittest.main()
