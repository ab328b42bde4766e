"""Drives `cairn model ...` against a real server: registering versions from a run's artifacts
and from a local folder (blob upload), the MLmodel signature, lineage from the model back through
its run to the data version, the champion/challenger gate's exit codes (0 win, 1 lose, 2 error),
promote with alias history, byte-identical download, and host-path sources refused.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_model_cli.py -v
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import API, ARTIFACTS_API, ServerTestCase, cairn_bin  # noqa: E402

MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.10.12
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.0
mlflow_version: 2.9.2
signature:
  inputs: '[{"type": "double", "name": "tenure"}, {"type": "string", "name": "region"}]'
  outputs: '[{"type": "long"}]'
utc_time_created: '2024-01-15 10:23:45.123456'
"""
WEIGHTS = bytes(range(256)) * 40


class ModelCliTest(ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-model-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cli(self, *args, expect=0):
        env = dict(os.environ, HOME=self.tmp)  # the CLI's hash cache goes under $HOME
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=60, env=env)
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             f"cairn {' '.join(args)}: exit {p.returncode}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def cli_json(self, *args, expect=0):
        p = self.cli("--json", *args, expect=expect)
        return json.loads(p.stdout)

    def run_with_model(self, auc):
        """A run that logged `auc` (unless None) and an MLflow model under artifacts/model."""
        run_id = self.cli("run", "create").stdout.strip()
        if auc is not None:
            self.cli("run", "log-metric", run_id, "auc", "0.5", "--step", "0")
            self.cli("run", "log-metric", run_id, "auc", str(auc), "--step", "1")
        info = self.server.get("/runs/get", {"run_id": run_id})[1]["run"]["info"]
        root = info["artifact_uri"][len("mlflow-artifacts:"):]
        for name, data in (("MLmodel", MLMODEL.encode()), ("model.pkl", WEIGHTS),
                           ("requirements.txt", b"scikit-learn==1.3.0\n")):
            r = self.server.request("PUT", f"{ARTIFACTS_API}{root}/model/{name}", body=data)
            self.assertEqual(r.status, 200, f"PUT {name}: {r}")
        return run_id

    def test_gate_promote_lineage_show(self):
        name = f"churn-{uuid.uuid4().hex[:8]}"
        run1, run2, run3, run_no_metric = (self.run_with_model(a) for a in (0.80, 0.85, 0.85, None))
        # The data the first run consumed.
        data_file = os.path.join(self.tmp, "flights.csv")
        with open(data_file, "w") as f:
            f.write("a,b\n1,2\n")
        self.cli("data", "create", "--name", "flights", "--version", "3", "--path", data_file)
        self.cli("lineage", "link", "data:flights:3", f"run:{run1}")

        for run in (run1, run2, run3, run_no_metric):
            self.cli("model", "create", "--name", name, "--run", run, "--artifact-path", "model")
        v1 = self.cli_json("model", "show", f"{name}:1")
        self.assertEqual(v1["model_version"]["run_id"], run1)
        self.assertEqual(v1["mlmodel"]["flavors"]["sklearn"]["sklearn_version"], "1.3.0")
        self.assertTrue(v1["mlmodel"]["requirements_txt"])
        tags = {t["key"]: t["value"] for t in v1["model_version"]["tags"]}
        self.assertEqual(tags["cairn.model_type"], "mlflow_model")

        # No champion yet: an error unless allowed.
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "auc", expect=2)
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "auc", "--allow-no-champion", expect=0)

        self.cli("model", "promote", f"{name}:1", "--alias", "champion", "--reason", "baseline")
        # win: 0.85 vs 0.80
        out = self.cli_json("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                            "--metric", "auc", "--min-delta", "0.005", expect=0)
        self.assertEqual(out["decision"], "win")
        self.assertEqual(out["candidate"], {"ref": f"{name}:2", "run_id": run2, "value": 0.85})
        self.assertEqual(out["champion"]["run_id"], run1)
        self.assertEqual(out["champion"]["value"], 0.80)  # the latest value, not the first
        self.assertAlmostEqual(out["delta"], 0.05)
        self.assertTrue(out["higher_is_better"])
        # lose: the margin is not met, or lower is better
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "auc", "--min-delta", "0.1", expect=1)
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "auc", "--lower-is-better", expect=1)
        # a run id as the candidate
        self.cli("model", "compare", f"run:{run2}", "--against", f"{name}@champion",
                 "--metric", "auc", expect=0)

        self.cli("model", "promote", f"{name}:2", "--alias", "champion", "--reason", "auc +0.05")
        shown = self.cli_json("model", "show", f"{name}@champion")
        self.assertEqual(shown["model_version"]["version"], "2")
        history = shown["alias_history"]
        self.assertEqual([(h["version"], h["reason"]) for h in history],
                         [("1", "baseline"), ("2", "auc +0.05")])
        self.assertEqual(history[1]["previous_version"], "1")
        # tie (0.85 vs 0.85) is not a win; the old champion now loses
        self.cli("model", "compare", f"{name}:3", "--against", f"{name}@champion",
                 "--metric", "auc", expect=1)
        self.cli("model", "compare", f"{name}:1", "--against", f"{name}@champion",
                 "--metric", "auc", expect=1)
        # missing metric on either side, unknown model, bad arguments: 2
        self.cli("model", "compare", f"{name}:4", "--against", f"{name}@champion",
                 "--metric", "auc", expect=2)
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "f1", expect=2)
        self.cli("model", "compare", f"{name}:2", "--against", "no-such-model@champion",
                 "--metric", "auc", expect=2)
        self.cli("model", "compare", f"{name}:2", "--against", f"{name}@champion",
                 "--metric", "auc", "--min-delta", "-1", expect=2)
        err = self.cli_json("model", "compare", f"{name}:4", "--against", f"{name}@champion",
                            "--metric", "auc", expect=2)
        self.assertEqual(err["error_code"], "RESOURCE_DOES_NOT_EXIST")

        # show: lineage back through the run to the data, signature, not deployed
        text = self.cli("model", "show", f"{name}:1").stdout
        self.assertIn(f"run:{run1}", text)
        self.assertIn("data:flights:3", text)
        self.assertIn("(not deployed)", text)
        self.assertIn("tenure", text)
        self.assertIn("double", text)
        self.assertIn("baseline", text)
        lineage = self.cli("lineage", "show", f"model:{name}:1", "--upstream").stdout
        self.assertIn("data:flights:3", lineage)
        # lineage validates model ids against the registry
        self.cli("lineage", "show", f"model:{name}:99", expect=1)

        # archive = stage Archived
        self.cli("model", "archive", f"{name}:3")
        self.assertEqual(self.cli_json("model", "show", f"{name}:3")["model_version"]
                         ["current_stage"], "Archived")

    def test_folder_upload_download_and_parent(self):
        name = f"vision-{uuid.uuid4().hex[:8]}"
        folder = os.path.join(self.tmp, "model")
        os.makedirs(os.path.join(folder, "weights"))
        files = {"MLmodel": MLMODEL.encode(), "weights/w.bin": WEIGHTS,
                 "conda.yaml": b"name: env\n"}
        for rel, data in files.items():
            with open(os.path.join(folder, rel), "wb") as f:
                f.write(data)
        with open(os.path.join(self.tmp, "model.yml"), "w") as f:
            f.write(f"$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
                    f"name: azureml:{name}\nversion: 1\npath: ./model\ntype: mlflow_model\n"
                    f"description: from yaml\ntags:\n  team: vision\n")
        made = self.cli_json("model", "create", "-f", os.path.join(self.tmp, "model.yml"))
        self.assertEqual(made["model_version"]["version"], "1")
        self.assertTrue(made["model_version"]["source"].startswith(
            "mlflow-artifacts:/assets/model/"), made)
        # Same content again: new version, same storage; a wrong --version is refused.
        self.cli("model", "create", "--name", name, "--path", folder, "--parent", f"{name}:1",
                 "--quantized", "--type", "custom_model")
        self.cli("model", "create", "--name", name, "--version", "7", "--path", folder, expect=1)
        v2 = self.cli_json("model", "show", f"{name}:2")
        tags = {t["key"]: t["value"] for t in v2["model_version"]["tags"]}
        self.assertEqual((tags["cairn.parent"], tags["cairn.quantized"],
                          tags["cairn.model_type"]), (f"{name}:1", "true", "custom_model"))
        self.assertIn({"from": f"model:{name}:1", "to": f"model:{name}:2",
                       "relation": "derived"},
                      [{k: e[k] for k in ("from", "to", "relation")}
                       for e in v2["lineage"]["upstream"]])

        out = os.path.join(self.tmp, "restored")
        self.cli("model", "download", f"{name}:1", "-o", out)
        for rel, data in files.items():
            with open(os.path.join(out, rel), "rb") as f:
                self.assertEqual(f.read(), data, rel)
        listing = self.cli("model", "list").stdout
        self.assertIn(name, listing)
        self.assertIn("2", self.cli("model", "list", "--name", name).stdout)

    def test_host_paths_and_malformed_mlmodel_refused(self):
        name = f"evil-{uuid.uuid4().hex[:8]}"
        self.server.post("/registered-models/create", {"name": name})
        for source in ("file:///etc", "/etc/passwd", "mlflow-artifacts:/../../etc"):
            status, body = self.server.post("/model-versions/create",
                                            {"name": name, "source": source})
            self.assertEqual((status, body["error_code"]), (400, "INVALID_PARAMETER_VALUE"),
                             source)
        with open(os.path.join(self.tmp, "m.yml"), "w") as f:
            f.write(f"name: {name}\npath: file:///etc\n")
        p = self.cli("model", "create", "-f", os.path.join(self.tmp, "m.yml"), expect=2)
        self.assertIn("file:///etc", p.stderr)
        # A folder with a broken MLmodel: refused with its line and column.
        bad = os.path.join(self.tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "MLmodel"), "w") as f:
            f.write("flavors:\n  sklearn: [unclosed\n")
        p = self.cli("model", "create", "--name", name, "--path", bad, expect=1)  # server refuses
        self.assertIn("MLmodel:", p.stderr)
        self.assertRegex(p.stderr, r"MLmodel:\d+:\d+:")

    def test_mlflow_rest_create_writes_lineage(self):
        name = f"rest-{uuid.uuid4().hex[:8]}"
        run = self.run_with_model(0.7)
        self.server.post("/registered-models/create", {"name": name})
        status, body = self.server.post("/model-versions/create",
                                        {"name": name, "source": f"runs:/{run}/model",
                                         "run_id": run})
        self.assertEqual(status, 200, body)
        self.assertNotIn("tags", body["model_version"])  # MLflow clients see MLflow's answer
        lineage = self.cli_json("lineage", "show", f"model:{name}:1", "--upstream")
        self.assertIn({"from": f"run:{run}", "to": f"model:{name}:1", "relation": "produced"},
                      [{k: e[k] for k in ("from", "to", "relation")}
                       for e in lineage["upstream"]])
