"""Issue 7 end to end over the real `cairn server` and CLI: a model trained by
`cairn component train` on a CSV with a string column, registered twice, served from an endpoint
with blue/green deployments (YAML), invoked through the CLI and raw HTTP in all three protocols,
mirrored, split 90/10, pinned by header, promoted, rolled back, switched to a new model version
under load with zero failed requests, request logs written, "where deployed" in the registry and
ModelDeployed in the outbox; and `cairn batch score` over a data asset reference.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_serving_e2e.py -v
"""

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ServerTestCase, cairn_bin, http_request  # noqa: E402

CAIRN = "/api/2.0/cairn"
CARRIERS = ["AA", "DL", "UA", "WN"]


def flights_csv(path, rows, seed):
    """dist (numeric), carrier (string), hour (numeric) -> late (yes/no); UA is late more."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("dist,carrier,hour,late\n")
        for _ in range(rows):
            dist = round(rng.uniform(0, 10), 2)
            carrier = rng.choice(CARRIERS)
            hour = rng.randint(0, 23)
            score = dist / 10 + (0.5 if carrier == "UA" else 0) + (0.2 if hour > 17 else 0)
            f.write(f"{dist},{carrier},{hour},{'yes' if score > 0.7 else 'no'}\n")


class ServingEndToEnd(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cairn-serving-e2e-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)
        super().tearDownClass()

    def cli(self, *args, expect=0, stdin=None):
        env = dict(os.environ, HOME=self.tmp, USER="tester")
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=180, env=env, input=stdin)
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             f"cairn {' '.join(args)}: exit {p.returncode}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def cli_json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def score(self, endpoint, body, key, headers=None, path=None):
        h = {"Authorization": f"Bearer {key}"} if key else {}
        h.update(headers or {})
        return http_request(self.server.base_url, "POST",
                            path or f"/endpoints/{endpoint}/invocations", body=body, headers=h)

    def wait_state(self, endpoint, deployment, states=("Succeeded", "Failed"), timeout=60):
        deadline = time.time() + timeout
        while True:
            d = self.cli_json("deployment", "show", "-e", endpoint, "-n", deployment)["deployment"]
            if d["provisioning_state"] in states or time.time() > deadline:
                return d
            time.sleep(0.1)

    def metric(self, name, endpoint, deployment, code=None):
        text = http_request(self.server.base_url, "GET", "/metrics").body.decode()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{"):
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if labels.get("endpoint") != endpoint or labels.get("deployment") != deployment:
                continue
            if code is not None and labels.get("code") != str(code):
                continue
            total += float(line.rsplit(" ", 1)[1])
        return total

    def train_and_register(self, model_name):
        data = os.path.join(self.tmp, "train.csv")
        flights_csv(data, 600, seed=1)
        for version, rounds in ((1, 8), (2, 20)):
            out = os.path.join(self.tmp, f"model-v{version}")
            self.cli("component", "train", "--data", data, "--label", "late",
                     "--param", f"num_round={rounds}", "--param", "max_depth=3", "-o", out)
            with open(os.path.join(out, "cairn_schema.json")) as f:
                schema = json.load(f)
            carrier = [x for x in schema["features"] if x["name"] == "carrier"][0]
            self.assertEqual(carrier["kind"], "categorical")
            self.assertEqual(sorted(carrier["categories"]), CARRIERS)
            if version == 1:
                self.cli("model", "create", "--name", model_name, "--path", out)
            else:
                self.cli("component", "register", "--model", out, "--name", model_name)
        self.cli("model", "show", f"{model_name}:2")

    def test_issue7_end_to_end(self):
        model = f"flights-{uuid.uuid4().hex[:6]}"
        ep = f"fl-{uuid.uuid4().hex[:6]}"
        self.train_and_register(model)

        self.cli("endpoint", "create", "-f", self.write("endpoint.yml", f"""name: {ep}
auth_mode: key
description: flight delays
"""))
        blue_yml = self.write("blue.yml", f"""name: blue
endpoint_name: {ep}
model: {model}:1
instance_count: 1
request_settings:
  request_timeout_ms: 5000
  max_concurrent_requests_per_instance: 16
data_collector:
  sampling_rate: 1.0
""")
        created = self.cli("deployment", "create", "-f", blue_yml, "--all-traffic").stdout
        self.assertIn("state Creating", created)
        blue = self.wait_state(ep, "blue")
        self.assertEqual(blue["provisioning_state"], "Succeeded", blue)
        logs = self.cli("deployment", "get-logs", "-e", ep, "-n", "blue").stdout
        self.assertIn("model ready: 3 features", logs)
        self.assertIn("scored by libxgboost (categorical splits use libxgboost)", logs)
        self.assertIn("model ready", self.cli("endpoint", "get-logs", ep, "-d", "blue").stdout)
        key = self.cli_json("endpoint", "get-credentials", ep)["primary_key"]

        # CLI invoke (MLflow dataframe_split) and its error paths.
        split = {"dataframe_split": {"columns": ["carrier", "dist", "hour"],
                                     "data": [["UA", 4.0, 20], ["AA", 1.0, 3]]}}
        req = self.write("split.json", json.dumps(split))
        out = json.loads(self.cli("endpoint", "invoke", ep, "-r", req).stdout)
        preds = out["predictions"]
        self.assertEqual(len(preds), 2)
        self.assertGreater(preds[0], 0.5)  # UA, far, evening: late
        self.assertLess(preds[1], 0.5)
        unseen = self.write("unseen.json", json.dumps(
            {"dataframe_records": [{"carrier": "ZZ", "dist": 1.0, "hour": 3}]}))
        bad = self.cli("endpoint", "invoke", ep, "-r", unseen, expect=1)
        self.assertIn("carrier", bad.stdout + bad.stderr)
        self.assertIn("unseen category 'ZZ'", bad.stdout + bad.stderr)
        self.cli("endpoint", "invoke", ep, "-r", os.path.join(self.tmp, "nope.json"), expect=2)
        self.cli("endpoint", "invoke", "no-such-endpoint", "-r", req, expect=1)

        # Raw HTTP: 401 without (or with a wrong) key; MLflow, Azure /score, V2 infer.
        self.assertEqual(self.score(ep, split, None).status, 401)
        self.assertEqual(self.score(ep, split, "wrong").status, 401)
        r = self.score(ep, split, key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["predictions"], preds)
        self.assertEqual(r.headers.get("azureml-model-deployment"), "blue")
        r = self.score(ep, {"dataframe_records": [{"dist": 4.0, "carrier": "UA", "hour": 20}]}, key)
        self.assertEqual(r.json["predictions"], preds[:1])
        r = self.score(ep, {"data": [{"dist": 4.0, "carrier": "UA", "hour": 20}]}, key,
                       path=f"/endpoints/{ep}/score")
        self.assertEqual(r.status, 200, r)
        r = self.score(ep, {"inputs": [
            {"name": "dist", "shape": [2], "datatype": "FP64", "data": [4.0, 1.0]},
            {"name": "carrier", "shape": [2], "datatype": "BYTES", "data": ["UA", "AA"]},
            {"name": "hour", "shape": [2], "datatype": "INT64", "data": [20, 3]}]}, key,
            path=f"/v2/models/{ep}/infer")
        self.assertEqual(r.status, 200, r)
        v2 = r.json["outputs"][0]["data"]
        self.assertEqual([round(x, 5) for x in v2], [round(x, 5) for x in preds])
        r = self.score(ep, {"dataframe_records": [{"dist": 1.0, "carrier": "ZZ", "hour": 1}]}, key)
        self.assertEqual(r.status, 400, r)
        self.assertIn("carrier", r.json["message"])

        # Green on version 2: mirror 10% first, then canary 90/10.
        with open(blue_yml) as f:
            green_text = f.read().replace("name: blue", "name: green").replace(
                "sampling_rate: 1.0", "sampling_rate: 0.5")
        green_yml = self.write("green.yml", green_text.replace(f"{model}:1", f"{model}:2"))
        self.cli("deployment", "create", "-f", green_yml)
        self.assertEqual(self.wait_state(ep, "green")["provisioning_state"], "Succeeded")
        self.cli("endpoint", "update", ep, "--traffic", "blue=100", "--mirror-traffic", "green=10")
        body = {"dataframe_records": [{"dist": 5.0, "carrier": "DL", "hour": 9}]}
        for _ in range(100):
            self.assertEqual(self.score(ep, body, key).status, 200)
        deadline = time.time() + 10
        while (self.metric("cairn_serving_mirror_requests_total", ep, "green") < 10
               and time.time() < deadline):
            time.sleep(0.05)
        self.assertEqual(self.metric("cairn_serving_mirror_requests_total", ep, "green"), 10)
        self.assertEqual(self.metric("cairn_serving_requests_total", ep, "green"), 0)

        self.cli("endpoint", "update", ep, "--traffic", "blue=90,green=10", "--mirror-traffic",
                 "none", "--reason", "canary")
        seen = {"blue": 0, "green": 0}
        g0 = self.metric("cairn_serving_requests_total", ep, "green", 200)
        for _ in range(1000):
            r = self.score(ep, body, key)
            self.assertEqual(r.status, 200, r)
            seen[r.headers["azureml-model-deployment"]] += 1
        self.assertTrue(80 <= seen["green"] <= 120, seen)  # 10% +- 2 points
        self.assertEqual(self.metric("cairn_serving_requests_total", ep, "green", 200) - g0,
                         seen["green"])

        # Header targeting: pinned to green whatever the split; unknown deployment 404.
        for _ in range(20):
            r = self.score(ep, body, key, headers={"azureml-model-deployment": "green"})
            self.assertEqual(r.headers["azureml-model-deployment"], "green")
        out = self.cli("endpoint", "invoke", ep, "-r", req, "-d", "green").stdout
        self.assertEqual(len(json.loads(out)["predictions"]), 2)
        r = self.score(ep, body, key, headers={"azureml-model-deployment": "purple"})
        self.assertEqual(r.status, 404, r)

        # Promote, then roll back; delete refused while green has traffic.
        self.cli("endpoint", "update", ep, "--traffic", "green=100", "--reason", "promote")
        for _ in range(20):
            self.assertEqual(self.score(ep, body, key).headers["azureml-model-deployment"], "green")
        refused = self.cli("deployment", "delete", "-e", ep, "-n", "green", expect=1)
        self.assertIn("traffic", refused.stderr)
        self.cli("endpoint", "rollback", ep)
        shown = self.cli_json("endpoint", "show", ep)["endpoint"]
        self.assertEqual(shown["traffic"], {"blue": 90, "green": 10})
        self.cli("endpoint", "update", ep, "--traffic", "blue=100")
        for _ in range(20):
            self.assertEqual(self.score(ep, body, key).headers["azureml-model-deployment"], "blue")
        self.cli("endpoint", "rollback", ep)
        self.assertEqual(self.cli_json("endpoint", "show", ep)["endpoint"]["traffic"],
                         {"blue": 90, "green": 10})
        self.cli("endpoint", "update", ep, "--traffic", "blue=100")

        # Where deployed.
        for version, where in ((1, f"{ep}/blue"), (2, f"{ep}/green")):
            shown = self.cli_json("model", "show", f"{model}:{version}")
            self.assertIn(where, shown["deployments"])

        # Zero-failure update under load: blue switches from version 1 to version 2.
        errors, ok = [], [0]
        stop = threading.Event()

        def load():
            while not stop.is_set():
                r = self.score(ep, body, key)
                if r.status // 100 != 2:
                    errors.append((r.status, r.body[:200]))
                else:
                    ok[0] += 1

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            self.cli("deployment", "update", "-e", ep, "-n", "blue", "--model", f"{model}:2")
            d = self.wait_state(ep, "blue")
            self.assertEqual(d["provisioning_state"], "Succeeded", d)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertGreater(ok[0], 20)
        self.assertIn(f"{ep}/blue", self.cli_json("model", "show", f"{model}:2")["deployments"])
        v2_pred = self.score(ep, split, key).json["predictions"]
        green_pred = self.score(ep, split, key,
                                headers={"azureml-model-deployment": "green"}).json["predictions"]
        self.assertEqual(v2_pred, green_pred)  # blue now serves version 2 like green

        # A deployment whose model cannot load reports Failed, the old generation keeps serving.
        self.cli("model", "create", "--name", f"{model}-bad",
                 "--path", self.write("bad/MLmodel", "flavors:\n  sklearn:\n    x: 1\n"))
        self.cli("deployment", "create", "-e", ep, "-n", "broken", "--model", f"{model}-bad:1")
        failed = self.wait_state(ep, "broken")
        self.assertEqual(failed["provisioning_state"], "Failed", failed)
        self.assertIn("xgboost", json.dumps(failed))
        self.cli("deployment", "delete", "-e", ep, "-n", "broken")

        # An update of blue to the model that cannot load: blue keeps serving version 2,
        # and the record, `deployment show` and the registry's "where deployed" say so.
        before = self.cli_json("deployment", "show", "-e", ep, "-n", "blue")["deployment"]
        self.cli("deployment", "update", "-e", ep, "-n", "blue", "--model", f"{model}-bad:1")
        failed = self.wait_state(ep, "blue", states=("Failed",))
        self.assertEqual(failed["provisioning_state"], "Failed", failed)
        self.assertIn("xgboost", failed["error"])
        self.assertEqual(failed["failed_model"], f"{model}-bad:1")
        self.assertEqual((failed["model_name"], failed["model_version"]), (model, "2"))
        self.assertEqual(failed["serving_generation"], before["generation"])
        self.assertEqual(failed["generation"], before["generation"] + 1)
        self.assertTrue(failed["ready"])
        self.assertEqual(self.score(ep, split, key,
                                    headers={"azureml-model-deployment": "blue"}).status, 200)
        self.assertIn(f"{ep}/blue", self.cli_json("model", "show", f"{model}:2")["deployments"])
        self.assertNotIn(f"{ep}/blue",
                         self.cli_json("model", "show", f"{model}-bad:1").get("deployments", []))
        shown = self.cli("deployment", "show", "-e", ep, "-n", "blue").stdout
        self.assertIn(f"{model}-bad:1 did not load", shown)
        self.assertIn(f"generation {before['generation']} keeps serving", shown)

        # A model version an online deployment serves cannot be deleted (REST and CLI), and
        # the message names the deployment; the version that failed to load is not served.
        r = http_request(self.server.base_url, "DELETE", "/api/2.0/mlflow/model-versions/delete",
                         body={"name": model, "version": "2"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json["error_code"], "INVALID_STATE")
        self.assertIn(f"served by deployment 'blue' of endpoint '{ep}'", r.json["message"])
        p = self.cli("model", "delete", f"{model}:2", expect=1)
        self.assertIn(f"served by deployment 'blue' of endpoint '{ep}'", p.stdout + p.stderr)
        p = self.cli("model", "delete", model, expect=1)
        self.assertIn(f"Cannot delete model '{model}'", p.stdout + p.stderr)
        self.cli_json("model", "show", f"{model}:2")  # still there
        self.cli("model", "delete", f"{model}-bad:1")

        # Request log: every live request of blue (sampling_rate 1.0), with features.
        log_dir = os.path.join(self.server.workspace, "serving", "logs", ep, "blue")
        deadline = time.time() + 10
        records = []
        while time.time() < deadline:
            records = []
            for name in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
                with open(os.path.join(log_dir, name)) as f:
                    records += [json.loads(line) for line in f if line.strip()]
            if len(records) >= 900:
                break
            time.sleep(0.1)
        self.assertGreaterEqual(len(records), 900)
        rec = records[0]
        self.assertEqual(rec["endpoint"], ep)
        self.assertEqual(rec["deployment"], "blue")
        self.assertIn(rec["features"]["columns"], (["dist", "carrier", "hour"],))

        # Green logs about half of its live requests (sampling_rate 0.5).
        green_dir = os.path.join(self.server.workspace, "serving", "logs", ep, "green")
        green_live = self.metric("cairn_serving_requests_total", ep, "green")
        green_records = 0
        for n in os.listdir(green_dir):
            with open(os.path.join(green_dir, n)) as f:
                green_records += sum(1 for line in f if line.strip())
        self.assertGreater(green_live, 100)
        self.assertTrue(0.25 * green_live < green_records < 0.75 * green_live,
                        (green_records, green_live))

        # The recorded failure of blue's update outlives a restart; what serves loads again.
        self.server.stop()
        self.server.start()
        again = self.wait_state(ep, "blue", states=("Failed", "Succeeded"))
        self.assertEqual(again["model_version"], "2")
        self.assertEqual(again["failed_model"], f"{model}-bad:1")
        self.assertEqual(self.score(ep, split, key,
                                    headers={"azureml-model-deployment": "blue"}).status, 200)

        # The outbox holds ModelDeployed for both versions (read while the server is stopped).
        self.server.stop()
        try:
            db = sqlite3.connect(os.path.join(self.server.workspace, "cairn.db"))
            rows = db.execute("SELECT subject, data FROM outbox WHERE type = 'ModelDeployed'"
                              ).fetchall()
            db.close()
        finally:
            self.server.start()
        mine = [json.loads(d)["ModelIds"] for s, d in rows if s.startswith(f"endpoints/{ep}/")]
        self.assertIn(f"{model}:1", mine)
        self.assertIn(f"{model}:2", mine)

    def test_batch_score_from_data_asset(self):
        model_dir = os.path.join(self.tmp, "batch-model")
        data = os.path.join(self.tmp, "batch-train.csv")
        flights_csv(data, 300, seed=2)
        self.cli("component", "train", "--data", data, "--label", "late", "--param",
                 "num_round=5", "-o", model_dir)
        score_csv = os.path.join(self.tmp, "to-score", "flights.csv")
        os.makedirs(os.path.dirname(score_csv), exist_ok=True)
        flights_csv(score_csv, 50, seed=3)
        asset = f"score-{uuid.uuid4().hex[:6]}"
        self.cli("data", "create", "--name", asset, "--version", "1", "--path", score_csv)
        out = os.path.join(self.tmp, "batch-out")
        summary = self.cli_json("batch", "score", "--model", model_dir, "--input",
                                f"{asset}:1", "-o", out)
        self.assertEqual(summary["input"], f"{asset}:1")
        self.assertEqual(summary["scored_rows"], 50)
        with open(os.path.join(out, "predictions.csv")) as f:
            self.assertEqual(len(f.read().strip().splitlines()), 51)
        bad = self.cli("batch", "score", "--model", model_dir, "--input", f"{asset}:9", "-o", out,
                       expect=None)
        self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    unittest.main()
