"""Replays, over HTTP, what the MLflow 2.x Python client sends for the model registry —
mlflow.register_model, MlflowClient().set_registered_model_alias / get_model_version_by_alias,
and mlflow.pyfunc.load_model("models:/<name>@champion") — and checks Cairn answers the way
MLflow's server does (model_registry.proto JSON shapes, defaults, error codes, HTTP statuses),
plus source validation (CVE-2023-1177 family) and the UI's /model-versions/get-artifact.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_registry_replay.py -v
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import AJAX_API, API, ARTIFACTS_API, ServerTestCase, kv_dict, now_ms  # noqa: E402


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


MLMODEL = b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
WEIGHTS = b"\x00\x01weights\x02"


class RegistryTestCase(ServerTestCase):

    def logged_model_run(self):
        """A run with a model logged under artifacts/model (what mlflow.sklearn.log_model does
        through the artifact proxy). Returns (run_id, artifact_uri)."""
        run = self.ok(self.server.post("/runs/create", {"experiment_id": "0",
                                                        "start_time": now_ms()}),
                      "POST runs/create")["run"]["info"]
        root = run["artifact_uri"][len("mlflow-artifacts:"):]
        for name, data in (("MLmodel", MLMODEL), ("model.pkl", WEIGHTS)):
            r = self.server.request("PUT", f"{ARTIFACTS_API}{root}/model/{name}", body=data)
            self.assertEqual(r.status, 200, f"PUT model file {name}: {r}")
        return run["run_id"], run["artifact_uri"]

    def register_model(self, name, source, run_id):
        """mlflow.register_model: create the registered model, tolerating RESOURCE_ALREADY_EXISTS,
        then create the version (the client then polls model-versions/get until READY)."""
        status, body = self.server.post("/registered-models/create", {"name": name})
        if status != 200:
            self.err((status, body), 400, "RESOURCE_ALREADY_EXISTS", "registered-models/create")
        mv = self.ok(self.server.post("/model-versions/create",
                                      {"name": name, "source": source, "run_id": run_id}),
                     f"POST model-versions/create source={source}")["model_version"]
        polled = self.ok(self.server.get("/model-versions/get",
                                         {"name": name, "version": mv["version"]}),
                         "GET model-versions/get (await READY)")["model_version"]
        self.assertEqual(polled["status"], "READY")
        return mv

    def test_register_alias_and_load_model(self):
        srv = self.server
        name = uniq("churn")
        run_id, artifact_uri = self.logged_model_run()
        before = now_ms()

        # --- mlflow.register_model("runs:/<run_id>/model", name) --------------------------------
        created = self.ok(srv.post("/registered-models/create", {"name": name}),
                          "POST registered-models/create")["registered_model"]
        self.assertEqual(created["name"], name)
        self.assertIsInstance(created["creation_timestamp"], int)
        self.assertGreaterEqual(created["creation_timestamp"], before - 5000)
        self.assertEqual(created["last_updated_timestamp"], created["creation_timestamp"])
        for absent in ("latest_versions", "tags", "aliases", "description"):
            self.assertNotIn(absent, created, f"empty field {absent} is omitted: {created}")
        mv = self.register_model(name, f"runs:/{run_id}/model", run_id)
        self.assertEqual(mv["name"], name)
        self.assertEqual(mv["version"], "1", "version is a string in model_registry.proto")
        self.assertEqual(mv["source"], f"runs:/{run_id}/model")
        self.assertEqual(mv["run_id"], run_id)
        self.assertEqual(mv["current_stage"], "None")
        self.assertEqual(mv["status"], "READY")
        self.assertIsInstance(mv["creation_timestamp"], int)
        self.assertEqual(mv["last_updated_timestamp"], mv["creation_timestamp"])
        # Registering again (same name) gives version 2; the registered model already exists.
        mv2 = self.register_model(name, f"{artifact_uri}/model", run_id)
        self.assertEqual(mv2["version"], "2")

        # --- MlflowClient().set_registered_model_alias(name, "champion", 1) ---------------------
        resp = self.ok(srv.post("/registered-models/alias",
                                {"name": name, "alias": "champion", "version": "1"}),
                       "POST registered-models/alias")
        self.assertEqual(resp, {})

        # --- MlflowClient().get_model_version_by_alias(name, "champion") ------------------------
        got = self.ok(srv.get("/registered-models/alias", {"name": name, "alias": "champion"}),
                      "GET registered-models/alias")["model_version"]
        self.assertEqual((got["name"], got["version"], got["aliases"]), (name, "1", ["champion"]))

        model = self.ok(srv.get("/registered-models/get", {"name": name}),
                        "GET registered-models/get")["registered_model"]
        self.assertEqual(model["aliases"], [{"alias": "champion", "version": "1"}])
        self.assertEqual([v["version"] for v in model["latest_versions"]], ["2"],
                         f"latest version per stage: {model}")
        self.assertGreaterEqual(model["last_updated_timestamp"], model["creation_timestamp"])

        # --- mlflow.pyfunc.load_model("models:/<name>@champion") --------------------------------
        # 1. alias -> version; 2. version -> download URI; 3. list + download via the proxy.
        version = self.ok(srv.get("/registered-models/alias", {"name": name, "alias": "champion"}),
                          "load_model: resolve alias")["model_version"]["version"]
        uri = self.ok(srv.get("/model-versions/get-download-uri",
                              {"name": name, "version": version}),
                      "GET model-versions/get-download-uri")["artifact_uri"]
        self.assertEqual(uri, f"{artifact_uri}/model")
        self.assertTrue(uri.startswith("mlflow-artifacts:/0/" + run_id + "/artifacts/"), uri)
        path = uri[len("mlflow-artifacts:/"):]
        listing = self.ok(srv.call("GET", ARTIFACTS_API, params={"path": path}),
                          "GET mlflow-artifacts/artifacts?path=<model dir>")
        self.assertEqual(sorted(f["path"] for f in listing["files"]), ["MLmodel", "model.pkl"])
        r = srv.request("GET", f"{ARTIFACTS_API}/{path}/MLmodel")
        self.assertEqual((r.status, r.body), (200, MLMODEL), f"download MLmodel: {r}")

        # The MLflow UI fetches files of a version from /model-versions/get-artifact.
        r = srv.request("GET", "/model-versions/get-artifact",
                        params={"name": name, "version": "1", "path": "model.pkl"})
        self.assertEqual((r.status, r.body), (200, WEIGHTS), f"get-artifact: {r}")
        for bad in ("../../../etc/passwd", "%2e%2e/x", "/etc/passwd", "file:///etc/passwd"):
            r = srv.request("GET", "/model-versions/get-artifact",
                            params={"name": name, "version": "1", "path": bad})
            self.assertEqual(r.status, 400, f"get-artifact path={bad!r} must be refused: {r}")
            self.assertEqual(r.json["error_code"], "INVALID_PARAMETER_VALUE", r)

        # The same endpoints answer under /ajax-api (the UI's prefix).
        status, body = srv.get("/registered-models/get", {"name": name}, prefix=AJAX_API)
        self.assertEqual(status, 200, body)

        # Deleting the aliased version is refused until the alias moves.
        body = self.err(srv.call("DELETE", API + "/model-versions/delete",
                                 body={"name": name, "version": "1"}),
                        400, "INVALID_STATE", "delete an aliased version")
        self.assertIn("champion", body["message"])
        self.ok(srv.post("/registered-models/alias",
                         {"name": name, "alias": "champion", "version": "2"}), "move alias")
        self.assertEqual(self.ok(srv.call("DELETE", API + "/model-versions/delete",
                                          body={"name": name, "version": "1"}),
                                 "delete version 1"), {})
        self.assertEqual(self.ok(srv.call("DELETE", API + "/registered-models/alias",
                                          body={"name": name, "alias": "champion"}),
                                 "delete alias"), {})
        self.err(srv.get("/registered-models/alias", {"name": name, "alias": "champion"}),
                 404, "RESOURCE_DOES_NOT_EXIST", "deleted alias")

    def test_stages_tags_update_rename_search(self):
        srv = self.server
        run_id, _ = self.logged_model_run()
        name = uniq("fraud")
        for _ in range(3):
            self.register_model(name, f"runs:/{run_id}/model", run_id)

        mv = self.ok(srv.post("/model-versions/transition-stage",
                              {"name": name, "version": "1", "stage": "production",
                               "archive_existing_versions": False}),
                     "transition 1 -> production")["model_version"]
        self.assertEqual(mv["current_stage"], "Production", "stage comes back canonical")
        mv = self.ok(srv.post("/model-versions/transition-stage",
                              {"name": name, "version": "3", "stage": "Production",
                               "archive_existing_versions": True}),
                     "transition 3 -> Production archiving others")["model_version"]
        self.assertEqual(mv["current_stage"], "Production")
        v1 = self.ok(srv.get("/model-versions/get", {"name": name, "version": "1"}),
                     "get v1")["model_version"]
        self.assertEqual(v1["current_stage"], "Archived")
        latest = self.ok(srv.post("/registered-models/get-latest-versions",
                                  {"name": name, "stages": ["production"]}),
                         "get-latest-versions production")
        self.assertEqual([v["version"] for v in latest["model_versions"]], ["3"])
        latest = self.ok(srv.get("/registered-models/get-latest-versions", {"name": name}),
                         "GET get-latest-versions")
        self.assertEqual(sorted(v["current_stage"] for v in latest["model_versions"]),
                         ["Archived", "None", "Production"])
        self.err(srv.post("/model-versions/transition-stage",
                          {"name": name, "version": "2", "stage": "Prod"}),
                 400, "INVALID_PARAMETER_VALUE", "invalid stage")

        self.ok(srv.post("/registered-models/set-tag", {"name": name, "key": "team",
                                                        "value": "risk"}), "model set-tag")
        self.ok(srv.post("/model-versions/set-tag", {"name": name, "version": "2",
                                                     "key": "validated", "value": "yes"}),
                "version set-tag")
        mv = self.ok(srv.call("PATCH", API + "/model-versions/update",
                              body={"name": name, "version": "2", "description": "good"}),
                     "PATCH model-versions/update")["model_version"]
        self.assertEqual((mv["description"], kv_dict(mv["tags"])), ("good", {"validated": "yes"}))
        rm = self.ok(srv.call("PATCH", API + "/registered-models/update",
                              body={"name": name, "description": "fraud model"}),
                     "PATCH registered-models/update")["registered_model"]
        self.assertEqual((rm["description"], kv_dict(rm["tags"])), ("fraud model", {"team": "risk"}))

        found = self.ok(srv.get("/registered-models/search",
                                {"filter": f"name = '{name}'"}), "search by name")
        self.assertEqual([m["name"] for m in found["registered_models"]], [name])
        found = self.ok(srv.get("/registered-models/search",
                                {"filter": "tags.team = 'risk'", "max_results": 5}),
                        "search by tag")
        self.assertIn(name, [m["name"] for m in found["registered_models"]])
        found = self.ok(srv.get("/model-versions/search",
                                {"filter": f"name = '{name}'",
                                 "order_by": ["version_number ASC"], "max_results": 2}),
                        "version search page 1")
        self.assertEqual([v["version"] for v in found["model_versions"]], ["1", "2"])
        self.assertIn("next_page_token", found)
        found = self.ok(srv.get("/model-versions/search",
                                {"filter": f"name = '{name}'", "order_by": ["version_number ASC"],
                                 "max_results": 2, "page_token": found["next_page_token"]}),
                        "version search page 2")
        self.assertEqual([v["version"] for v in found["model_versions"]], ["3"])
        self.assertNotIn("next_page_token", found)
        found = self.ok(srv.get("/model-versions/search", {"filter": f"run_id = '{run_id}'"}),
                        "version search by run_id")
        self.assertEqual(len(found["model_versions"]), 3)
        self.err(srv.get("/registered-models/search", {"filter": "metrics.acc > 1"}),
                 400, "INVALID_PARAMETER_VALUE", "bad registered model filter")
        self.err(srv.get("/model-versions/search", {"filter": "stage = 'x'"}),
                 400, "INVALID_PARAMETER_VALUE", "bad version filter")
        self.err(srv.get("/registered-models/search", {"max_results": 1001}),
                 400, "INVALID_PARAMETER_VALUE", "max_results above 1000")

        new_name = uniq("fraud-renamed")
        rm = self.ok(srv.post("/registered-models/rename", {"name": name, "new_name": new_name}),
                     "rename")["registered_model"]
        self.assertEqual(rm["name"], new_name)
        self.err(srv.get("/registered-models/get", {"name": name}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "old name after rename")
        self.assertEqual(self.ok(srv.call("DELETE", API + "/registered-models/delete",
                                          body={"name": new_name}), "delete model"), {})
        self.err(srv.get("/model-versions/get", {"name": new_name, "version": "1"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "version of a deleted model")

    def test_errors(self):
        srv = self.server
        name = uniq("errs")
        self.ok(srv.post("/registered-models/create", {"name": name}), "create")
        self.err(srv.post("/registered-models/create", {"name": name}), 400,
                 "RESOURCE_ALREADY_EXISTS", "duplicate name")
        self.err(srv.get("/registered-models/get", {"name": uniq("missing")}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "unknown model")
        self.err(srv.post("/registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE",
                 "missing name")
        self.err(srv.get("/model-versions/get", {"name": name, "version": "7"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "unknown version")
        self.err(srv.get("/model-versions/get", {"name": name, "version": "x"}), 400,
                 "INVALID_PARAMETER_VALUE", "non-numeric version")
        self.err(srv.post("/registered-models/alias", {"name": name, "alias": "champion",
                                                       "version": "1"}),
                 400, "INVALID_PARAMETER_VALUE", "alias on a missing version")
        self.err(srv.post("/model-versions/create", {"name": uniq("nomodel"),
                                                     "source": "mlflow-artifacts:/0/x"}),
                 404, "RESOURCE_DOES_NOT_EXIST", "version of an unknown model")

    def test_sources_outside_the_workspace_are_refused(self):
        srv = self.server
        run_id, artifact_uri = self.logged_model_run()
        name = uniq("cve")
        self.ok(srv.post("/registered-models/create", {"name": name}), "create")
        bad_sources = [
            "file:///etc",
            "/etc/passwd",
            "http://evil.example/model",
            "s3://bucket/model",
            f"runs:/{run_id}/../../../etc",
            f"runs:/{run_id}/%2e%2e/%2e%2e/etc",
            "mlflow-artifacts:/../../etc",
            "mlflow-artifacts:/0/%2E%2E/%2E%2E/etc",
            f"{artifact_uri}/../../escape",
            "runs:/0123456789abcdef0123456789abcdef/model",
        ]
        for source in bad_sources:
            for with_run in (False, True):
                body = {"name": name, "source": source}
                if with_run:
                    body["run_id"] = run_id
                self.err(srv.post("/model-versions/create", body), 400,
                         "INVALID_PARAMETER_VALUE", f"source {source!r} run_id={with_run}")
        found = self.ok(srv.get("/model-versions/search", {"filter": f"name = '{name}'"}),
                        "no version was created")
        self.assertNotIn("model_versions", found)
        # Accepted forms, for contrast.
        ok_sources = [f"runs:/{run_id}/model", f"{artifact_uri}/model",
                      f"models:/{name}/1", f"mlflow-artifacts:/0/{run_id}/artifacts/model"]
        for i, source in enumerate(ok_sources, start=1):
            mv = self.ok(srv.post("/model-versions/create",
                                  {"name": name, "source": source, "run_id": run_id}),
                         f"source {source}")["model_version"]
            self.assertEqual(mv["version"], str(i))
            uri = self.ok(srv.get("/model-versions/get-download-uri",
                                  {"name": name, "version": mv["version"]}), "download uri")
            self.assertEqual(uri["artifact_uri"], f"{artifact_uri}/model", source)


if __name__ == "__main__":
    import unittest
    unittest.main()
