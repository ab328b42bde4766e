"""The serving control plane against a real server: endpoints and deployments over REST
(/api/2.0/cairn/endpoints/*, /deployments/*) with the traffic rules and their errors, keys,
history and rollback, "where deployed" in the registry, the ModelDeployed event; and the CLI
(`cairn endpoint ...`, `cairn deployment ...`) with YAML files, a local model folder and a local
code folder uploaded, and YAML errors naming file:line:column.

Scoring (`cairn endpoint invoke`) needs the data plane, which this build does not have yet; the
tests check what the control plane hands over, not scoring.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_endpoints.py -v
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ARTIFACTS_API, ServerTestCase, cairn_bin  # noqa: E402

CAIRN = "/api/2.0/cairn"
MLMODEL = """flavors:
  xgboost:
    data: model.ubj
signature:
  inputs: '[{"name": "dep_delay", "type": "double"}, {"name": "distance", "type": "double"}]'
  outputs: '[{"type": "double"}]'
"""


class EndpointRestTest(ServerTestCase):

    def ep(self, route, body):
        return self.server.post(f"/endpoints/{route}", body, prefix=CAIRN)

    def dep(self, route, body):
        return self.server.post(f"/deployments/{route}", body, prefix=CAIRN)

    def register_model(self, name, content):
        """A model version from a run's artifacts (MLmodel + model file)."""
        exp = self.ok(self.server.post("/experiments/create",
                                       {"name": f"exp-{uuid.uuid4().hex[:8]}"}), "exp")
        run = self.ok(self.server.post("/runs/create", {"experiment_id": exp["experiment_id"]}),
                      "run")["run"]["info"]
        root = run["artifact_uri"][len("mlflow-artifacts:"):]
        for fname, data in (("MLmodel", MLMODEL.encode()), ("model.ubj", content)):
            r = self.server.request("PUT", f"{ARTIFACTS_API}{root}/model/{fname}", body=data)
            self.assertEqual(r.status, 200, f"PUT {fname}: {r}")
        self.server.post("/registered-models/create", {"name": name})
        return self.ok(self.server.post("/model-versions/create",
                                        {"name": name, "source": f"runs:/{run['run_id']}/model",
                                         "run_id": run["run_id"]}), "version")["model_version"]

    def test_traffic_rules_history_rollback(self):
        model = f"flights-{uuid.uuid4().hex[:6]}"
        self.register_model(model, b"v1-bytes")
        self.register_model(model, b"v2-bytes")
        self.ok(self.server.post("/registered-models/alias",
                                 {"name": model, "alias": "champion", "version": "2"}), "alias")
        name = f"ep-{uuid.uuid4().hex[:6]}"
        created = self.ok(self.ep("create", {"name": name, "description": "flights",
                                             "tags": {"team": "ops"}, "user": "alice"}), "create")
        self.assertEqual(created["endpoint"]["traffic"], {})
        self.assertNotIn("primary_key", json.dumps(created), "keys only via get-credentials")
        self.err(self.ep("create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS", "duplicate")
        self.err(self.ep("create", {"name": "x/../y"}), 400, "INVALID_PARAMETER_VALUE", "bad name")
        self.err(self.ep("create", {"name": "okname", "auth_mode": "aad_token"}), 400,
                 "INVALID_PARAMETER_VALUE", "auth mode")

        blue = self.ok(self.dep("create", {"endpoint_name": name, "name": "blue",
                                           "model": f"azureml:{model}:1",
                                           "request_settings": {"request_timeout_ms": 3000},
                                           "data_collector": {"collections": {
                                               "model_inputs": {"enabled": "True"}},
                                               "sampling_rate": 0.5}}), "blue")["deployment"]
        self.assertEqual(blue["model_version"], "1")
        self.assertEqual(blue["request_settings"]["request_timeout_ms"], 3000)
        self.assertEqual(blue["data_collector"], {"enabled": True, "sampling_rate": 0.5})
        self.assertEqual(blue["generation"], 1)
        model_file = os.path.join(blue["model_dir"], "model.ubj")
        self.assertTrue(blue["model_dir"].startswith(os.path.realpath(self.server.workspace))
                        or blue["model_dir"].startswith(self.server.workspace), blue["model_dir"])
        with open(model_file, "rb") as f:
            self.assertEqual(f.read(), b"v1-bytes")
        green = self.ok(self.dep("create", {"endpoint_name": name, "name": "green",
                                            "model": f"{model}@champion"}), "green")["deployment"]
        self.assertEqual(green["model_version"], "2", "alias resolved at deploy time")
        self.err(self.dep("create", {"endpoint_name": name, "name": "red", "model": f"{model}:1",
                                     "request_settings": {"request_timeout": 5}}),
                 400, "INVALID_PARAMETER_VALUE", "unknown settings field")
        self.err(self.dep("create", {"endpoint_name": name, "name": "red", "model": f"{model}:9"}),
                 404, "RESOURCE_DOES_NOT_EXIST", "missing version")
        self.err(self.dep("create", {"endpoint_name": "nope-ep", "name": "red",
                                     "model": f"{model}:1"}),
                 404, "RESOURCE_DOES_NOT_EXIST", "missing endpoint")

        # Traffic rules and their errors.
        self.ok(self.ep("update", {"name": name, "traffic": {"blue": 100}, "user": "bob"}), "100")
        e = self.err(self.ep("update", {"name": name, "traffic": {"blue": 90}}), 400,
                     "INVALID_PARAMETER_VALUE", "sum")
        self.assertIn("sum to 100", e["message"])
        e = self.err(self.ep("update", {"name": name, "traffic": {"blue": 50, "ghost": 50}}), 400,
                     "INVALID_PARAMETER_VALUE", "unknown deployment")
        self.assertIn("ghost", e["message"])
        e = self.err(self.ep("update", {"name": name, "mirror_traffic": {"green": 60}}), 400,
                     "INVALID_PARAMETER_VALUE", "mirror > 50")
        e = self.err(self.ep("update", {"name": name, "mirror_traffic": {"blue": 10}}), 400,
                     "INVALID_PARAMETER_VALUE", "mirror to live")
        self.assertIn("no live traffic", e["message"])
        self.err(self.ep("update", {"name": name, "traffic": {"blue": "90"}}), 400,
                 "INVALID_PARAMETER_VALUE", "percent as string")
        self.ok(self.ep("update", {"name": name, "mirror_traffic": {"green": 10}}), "mirror")
        canary = self.ok(self.ep("update", {"name": name, "traffic": {"blue": 90, "green": 10},
                                            "mirror_traffic": {}, "reason": "canary",
                                            "user": "bob"}), "canary")["endpoint"]
        self.assertEqual(canary["traffic"], {"blue": 90, "green": 10})
        self.assertEqual(canary["mirror_traffic"], {})

        # A deployment with traffic cannot be deleted; the message says how to proceed.
        e = self.err(self.dep("delete", {"endpoint_name": name, "name": "green"}), 400,
                     "INVALID_STATE", "delete live")
        self.assertIn("cairn endpoint update", e["message"])

        history = self.ok(self.server.get("/endpoints/history", {"name": name}, prefix=CAIRN),
                          "history")["history"]
        self.assertEqual(len(history), 3)
        self.assertEqual(history[-1]["user"], "bob")
        self.assertEqual(history[-1]["reason"], "canary")
        self.assertEqual(history[-1]["traffic_before"], {"blue": 100})
        self.assertEqual(history[-1]["mirror_traffic_before"], {"green": 10})

        rolled = self.ok(self.ep("rollback", {"name": name, "user": "carol"}), "rollback")
        self.assertEqual(rolled["endpoint"]["traffic"], {"blue": 100})
        self.assertEqual(rolled["endpoint"]["mirror_traffic"], {"green": 10})
        history = self.ok(self.server.get("/endpoints/history", {"name": name}, prefix=CAIRN),
                          "history")["history"]
        self.assertEqual(len(history), 4)
        self.assertEqual(history[-1]["user"], "carol")
        self.assertTrue(history[-1]["reason"].startswith("rollback of change #3"))

        # Keys: CSPRNG, distinct, regenerated one at a time.
        k1 = self.ok(self.ep("get-credentials", {"name": name}), "creds")
        self.assertEqual(len(k1["primary_key"]), 64)
        self.assertNotEqual(k1["primary_key"], k1["secondary_key"])
        self.ok(self.ep("regenerate-keys", {"name": name, "key_type": "secondary"}), "regen")
        k2 = self.ok(self.ep("get-credentials", {"name": name}), "creds")
        self.assertEqual(k1["primary_key"], k2["primary_key"])
        self.assertNotEqual(k1["secondary_key"], k2["secondary_key"])
        self.err(self.ep("regenerate-keys", {"name": name, "key_type": "both"}), 400,
                 "INVALID_PARAMETER_VALUE", "bad key type")

        # Registry integration: where deployed (lineage) and the ModelDeployed outbox event.
        down = self.ok(self.server.get("/lineage/show", {"entity": f"model:{model}:1",
                                                         "direction": "downstream", "depth": 1},
                                       prefix=CAIRN), "lineage")["downstream"]
        self.assertIn(f"deployment:{name}/blue", [e["to"] for e in down])

        # Update: a new generation with the new version; the edge moves.
        up = self.ok(self.dep("update", {"endpoint_name": name, "name": "blue",
                                         "model": f"{model}:2", "instance_count": 2}),
                     "update")["deployment"]
        self.assertEqual(up["generation"], 2)
        self.assertEqual(up["instance_count"], 2)
        self.assertEqual(up["request_settings"]["request_timeout_ms"], 3000, "kept")
        down = self.ok(self.server.get("/lineage/show", {"entity": f"model:{model}:1",
                                                         "direction": "downstream", "depth": 1},
                                       prefix=CAIRN), "lineage")["downstream"]
        self.assertNotIn(f"deployment:{name}/blue", [e["to"] for e in down])

        logs = self.ok(self.server.get("/deployments/get-logs",
                                       {"endpoint_name": name, "name": "blue"}, prefix=CAIRN),
                       "logs")
        self.assertIsInstance(logs["logs"], str)

        # Move the traffic away, then deleting works; deleting the endpoint takes the rest.
        self.ok(self.ep("update", {"name": name, "traffic": {"blue": 100}, "mirror_traffic": {}}),
                "all blue")
        self.ok(self.dep("delete", {"endpoint_name": name, "name": "green"}), "delete green")
        listed = self.ok(self.server.get("/deployments/list", {"endpoint_name": name},
                                         prefix=CAIRN), "list")["deployments"]
        self.assertEqual([d["name"] for d in listed], ["blue"])
        self.ok(self.ep("delete", {"name": name}), "delete endpoint")
        self.err(self.server.get("/endpoints/get", {"name": name}, prefix=CAIRN), 404,
                 "RESOURCE_DOES_NOT_EXIST", "deleted")

    def test_model_deployed_event_in_outbox(self):
        model = f"evt-{uuid.uuid4().hex[:6]}"
        self.register_model(model, b"bytes")
        name = f"ev-{uuid.uuid4().hex[:6]}"
        self.ok(self.ep("create", {"name": name}), "create")
        self.ok(self.dep("create", {"endpoint_name": name, "name": "blue", "model": f"{model}:1",
                                    "tags": {"owner": "ops"}}), "deploy")
        # The outbox has no REST route yet; the server holds the database exclusively
        # (unix-excl), so it is read from the file while the server is stopped.
        self.server.stop()
        try:
            db = sqlite3.connect(os.path.join(self.server.workspace, "cairn.db"))
            rows = db.execute("SELECT subject, data FROM outbox WHERE type = 'ModelDeployed'"
                              ).fetchall()
            db.close()
        finally:
            self.server.start()
        mine = [json.loads(d) for s, d in rows if s == f"endpoints/{name}/deployments/blue"]
        self.assertEqual(len(mine), 1, rows)
        self.assertEqual(mine[0]["ServiceName"], f"{name}/blue")
        self.assertEqual(mine[0]["ModelIds"], f"{model}:1")
        self.assertEqual(mine[0]["ServiceTags"], {"owner": "ops"})
        self.assertIn("ServiceComputeType", mine[0])
        self.assertIn("ServiceProperties", mine[0])
        # Endpoints survive a restart (and are handed to the data plane again).
        got = self.ok(self.server.get("/endpoints/get", {"name": name}, prefix=CAIRN), "get")
        self.assertEqual([d["name"] for d in got["endpoint"]["deployments"]], ["blue"])


class EndpointCliTest(ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-endpoint-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cli(self, *args, expect=0):
        env = dict(os.environ, HOME=self.tmp, USER="tester")
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=120, env=env)
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             f"cairn {' '.join(args)}: exit {p.returncode}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_yaml_flow_with_local_model_and_code(self):
        name = f"cli-{uuid.uuid4().hex[:6]}"
        self.write("model/MLmodel", MLMODEL)
        self.write("model/model.ubj", "local-model")
        self.write("src/score.py", "def init():\n    pass\n\ndef run(raw):\n    return raw\n")
        ep_yml = self.write("endpoint.yml", f"""$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: {name}
auth_mode: key
description: flights delay
tags:
  team: ops
""")
        self.cli("endpoint", "create", "-f", ep_yml)
        dep_yml = self.write("blue.yml", f"""name: blue
endpoint_name: {name}
model: ./model
code_configuration:
  code: ./src
  scoring_script: score.py
instance_count: 1
instance_type: Standard_DS3_v2
request_settings:
  request_timeout_ms: 2000
  max_concurrent_requests_per_instance: 4
liveness_probe:
  period: 5
readiness_probe:
  initial_delay: 1
data_collector:
  sampling_rate: 0.25
""")
        out = self.cli("deployment", "create", "-f", dep_yml, "--all-traffic")
        self.assertIn(f"deployment {name}/blue", out.stdout)
        shown = json.loads(self.cli("--json", "deployment", "show", "-e", name, "-n",
                                    "blue").stdout)["deployment"]
        self.assertEqual(shown["model_name"], f"{name}-blue", "local model registered")
        self.assertEqual(shown["code_configuration"]["scoring_script"], "score.py")
        self.assertEqual(shown["request_settings"]["max_concurrent_requests_per_instance"], 4)
        self.assertEqual(shown["liveness_probe"]["period"], 5)
        self.assertEqual(shown["data_collector"], {"enabled": True, "sampling_rate": 0.25})
        with open(os.path.join(shown["code_configuration"]["code_dir"], "score.py")) as f:
            self.assertIn("def run(raw)", f.read())

        # A second deployment from the registered model, then canary via flags.
        self.cli("deployment", "create", "-e", name, "-n", "green",
                 "--model", f"{name}-blue:1")
        self.cli("endpoint", "update", name, "--traffic", "blue=90,green=10",
                 "--reason", "canary")
        bad = self.cli("endpoint", "update", name, "--traffic", "blue=90", expect=1)
        self.assertIn("sum to 100", bad.stderr)
        bad = self.cli("endpoint", "update", name, "--traffic", "blue=ninety", expect=2)
        self.assertIn("whole percent", bad.stderr)
        self.cli("endpoint", "update", name, "--traffic", "blue=100",
                 "--mirror-traffic", "green=10")
        show = self.cli("endpoint", "show", name).stdout
        self.assertIn("traffic:     blue=100", show)
        self.assertIn("mirror:      green=10", show)
        self.assertIn(f"{name}-blue:1", show)
        self.assertIn("last traffic changes", show)
        self.assertIn("tester", show)

        # Delete refused while green is mirrored: exit 1 and how to proceed.
        refused = self.cli("deployment", "delete", "-e", name, "-n", "green", expect=1)
        self.assertIn("--mirror-traffic green=0", refused.stderr)

        self.cli("endpoint", "rollback", name)
        after = json.loads(self.cli("--json", "endpoint", "show", name).stdout)
        self.assertEqual(after["endpoint"]["traffic"], {"blue": 90, "green": 10})
        self.assertEqual(after["endpoint"]["mirror_traffic"], {})

        creds = json.loads(self.cli("--json", "endpoint", "get-credentials", name).stdout)
        self.cli("endpoint", "regenerate-keys", name, "--key-type", "primary")
        creds2 = json.loads(self.cli("--json", "endpoint", "get-credentials", name).stdout)
        self.assertNotEqual(creds["primary_key"], creds2["primary_key"])

        listed = self.cli("endpoint", "list").stdout
        self.assertIn(name, listed)
        self.assertIn("blue", self.cli("deployment", "list", "-e", name).stdout)
        self.assertIn("blue", self.cli("deployment", "get-logs", "-e", name, "-n", "blue").stdout)

        # The registry's "where deployed" shows the deployment.
        model_show = json.loads(self.cli("--json", "model", "show", f"{name}-blue:1").stdout)
        self.assertEqual(sorted(model_show["deployments"]), [f"{name}/blue", f"{name}/green"])

        self.cli("endpoint", "delete", name)
        self.cli("endpoint", "show", name, expect=1)

    def test_yaml_errors_name_file_line_column(self):
        bad = self.write("bad.yml", "name: blue\nendpoint_name: ep-x\nmodel: churn:1\n"
                                    "instance_count: 1\nrequest_setings:\n  x: 1\n")
        p = self.cli("deployment", "create", "-f", bad, expect=2)
        self.assertIn("bad.yml:5:1", p.stderr)
        self.assertIn("request_setings", p.stderr)
        missing = self.write("missing.yml", "name: blue\nendpoint_name: ep-x\n"
                                            "model: ./no-such-folder\n")
        p = self.cli("deployment", "create", "-f", missing, expect=2)
        self.assertIn("missing.yml:3:8", p.stderr)
        traffic = self.write("ep.yml", "name: ep-y\ntraffic:\n  blue: lots\n")
        p = self.cli("endpoint", "create", "-f", traffic, expect=2)
        self.assertIn("ep.yml:3:9", p.stderr)
        broken = self.write("broken.yml", "name: [unclosed\n")
        p = self.cli("endpoint", "create", "-f", broken, expect=2)
        self.assertIn("broken.yml:", p.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
