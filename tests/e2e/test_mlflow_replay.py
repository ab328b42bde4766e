"""Replays, over HTTP, what the MLflow 2.x Python client sends for a typical training script, and
checks Cairn answers the way MLflow's tracking server does (service.proto JSON shapes, defaults,
error codes and HTTP statuses), plus the mlflow-artifacts proxy and its path-traversal guards.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v
"""

import os
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import AJAX_API, API, ARTIFACTS_API, ServerTestCase, kv_dict, now_ms  # noqa: E402


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class MlflowApiTestCase(ServerTestCase):
    """Helpers that issue the same requests the MLflow client does."""

    def create_experiment(self, name, tags=None):
        body = {"name": name}
        if tags:
            body["tags"] = tags
        resp = self.ok(self.server.post("/experiments/create", body),
                       f"POST experiments/create name={name!r}")
        exp_id = resp.get("experiment_id")
        self.assertIsInstance(exp_id, str, f"experiments/create must return experiment_id as a "
                                           f"string (proto string field), got {resp}")
        return exp_id

    def create_run(self, exp_id, run_name=None, tags=None, start_time=None):
        body = {"experiment_id": exp_id, "user_id": "alice",
                "start_time": start_time if start_time is not None else now_ms(),
                "tags": list(tags or [])}
        if run_name:
            body["run_name"] = run_name
            body["tags"].append({"key": "mlflow.runName", "value": run_name})
        resp = self.ok(self.server.post("/runs/create", body), f"POST runs/create {body}")
        self.assertIn("run", resp, f"runs/create must return {{run: ...}}, got {resp}")
        return resp["run"]

    def get_run(self, run_id, prefix=API):
        resp = self.ok(self.server.get("/runs/get", {"run_id": run_id}, prefix=prefix),
                       f"GET {prefix}/runs/get run_id={run_id}")
        self.assertIn("run", resp, f"runs/get must return {{run: ...}}, got {resp}")
        return resp["run"]

    def log_metric(self, run_id, key, value, step=0, timestamp=None):
        body = {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value,
                "timestamp": timestamp if timestamp is not None else now_ms(), "step": step}
        resp = self.ok(self.server.post("/runs/log-metric", body), f"POST runs/log-metric {body}")
        self.assertEqual(resp, {}, f"runs/log-metric must return {{}}, got {resp}")

    def log_batch(self, run_id, metrics=(), params=(), tags=()):
        body = {"run_id": run_id, "metrics": list(metrics), "params": list(params),
                "tags": list(tags)}
        return self.server.post("/runs/log-batch", body)

    def history(self, run_id, key):
        resp = self.ok(self.server.get("/metrics/get-history",
                                       {"run_id": run_id, "metric_key": key}),
                       f"GET metrics/get-history run_id={run_id} metric_key={key}")
        return sorted(resp.get("metrics", []), key=lambda m: (m["step"], m["timestamp"]))

    def search_runs(self, body):
        return self.ok(self.server.post("/runs/search", body), f"POST runs/search {body}")

    def walk_pages(self, endpoint, body, items_key, limit=20):
        """Follows next_page_token; returns the pages (lists of items)."""
        pages, token = [], None
        for _ in range(limit):
            req = dict(body)
            if token:
                req["page_token"] = token
            resp = self.ok(self.server.post(endpoint, req), f"POST {endpoint} {req}")
            pages.append(resp.get(items_key, []))
            token = resp.get("next_page_token")
            if not token:
                return pages
        self.fail(f"{endpoint}: still returning next_page_token after {limit} pages: {pages}")


class TestTrainingScriptReplay(MlflowApiTestCase):
    """The request sequence of a typical script:

        mlflow.set_experiment("x"); with mlflow.start_run(): log_param(s), log_metric(s),
        set_tag, log_artifact; then the UI/client reads it back.
    """

    def test_training_script_sequence(self):
        srv = self.server
        exp_name = uniq("replay")

        # --- mlflow.set_experiment(exp_name) ---------------------------------------------------
        self.err(srv.get("/experiments/get-by-name", {"experiment_name": exp_name}),
                 404, "RESOURCE_DOES_NOT_EXIST",
                 f"GET experiments/get-by-name for a missing experiment {exp_name!r}")
        exp_id = self.create_experiment(exp_name)
        exp = self.ok(srv.get("/experiments/get", {"experiment_id": exp_id}),
                      f"GET experiments/get experiment_id={exp_id}")["experiment"]
        self.assertEqual(exp.get("experiment_id"), exp_id, f"experiments/get: {exp}")
        self.assertEqual(exp.get("name"), exp_name, f"experiments/get: {exp}")
        self.assertEqual(exp.get("lifecycle_stage"), "active", f"experiments/get: {exp}")
        self.assertIsInstance(exp.get("artifact_location"), str, f"experiments/get: {exp}")
        self.assertIsInstance(exp.get("creation_time"), int,
                              f"experiments/get: creation_time must be an int64 (ms): {exp}")
        self.assertIsInstance(exp.get("last_update_time"), int,
                              f"experiments/get: last_update_time must be an int64 (ms): {exp}")
        by_name = self.ok(srv.get("/experiments/get-by-name", {"experiment_name": exp_name}),
                          "GET experiments/get-by-name after create")["experiment"]
        self.assertEqual(by_name.get("experiment_id"), exp_id, f"get-by-name: {by_name}")

        # --- mlflow.start_run() ------------------------------------------------------------------
        start = now_ms()
        tags = [{"key": "mlflow.user", "value": "alice"},
                {"key": "mlflow.source.name", "value": "train.py"},
                {"key": "mlflow.source.type", "value": "LOCAL"},
                {"key": "mlflow.source.git.commit", "value": "0123456789abcdef0123"}]
        run = self.create_run(exp_id, run_name="lr-baseline", tags=tags, start_time=start)
        info = run.get("info", {})
        run_id = info.get("run_id")
        self.assertTrue(run_id, f"runs/create: run.info.run_id missing: {run}")
        self.assertEqual(info.get("run_uuid"), run_id,
                         f"runs/create: run.info.run_uuid must equal run_id: {info}")
        self.assertEqual(info.get("experiment_id"), exp_id, f"runs/create: {info}")
        self.assertEqual(info.get("status"), "RUNNING", f"runs/create: {info}")
        self.assertEqual(info.get("start_time"), start, f"runs/create: start_time: {info}")
        self.assertEqual(info.get("run_name"), "lr-baseline", f"runs/create: run_name: {info}")
        self.assertEqual(info.get("user_id"), "alice", f"runs/create: user_id: {info}")
        self.assertEqual(info.get("lifecycle_stage"), "active", f"runs/create: {info}")
        self.assertNotIn("end_time", info, f"runs/create: a RUNNING run has no end_time: {info}")
        self.assertEqual(info.get("artifact_uri"), f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts",
                         f"runs/create: artifact_uri: {info}")
        created_tags = kv_dict(run.get("data", {}).get("tags"))
        for t in tags + [{"key": "mlflow.runName", "value": "lr-baseline"}]:
            self.assertEqual(created_tags.get(t["key"]), t["value"],
                             f"runs/create: tag {t['key']} not returned in run.data.tags: "
                             f"{created_tags}")

        # --- mlflow.log_param / log_params ------------------------------------------------------
        resp = self.ok(srv.post("/runs/log-parameter",
                                {"run_id": run_id, "run_uuid": run_id, "key": "model",
                                 "value": "lr"}), "POST runs/log-parameter model=lr")
        self.assertEqual(resp, {}, f"runs/log-parameter must return {{}}, got {resp}")
        resp = self.ok(self.log_batch(run_id, params=[{"key": "C", "value": "0.1"},
                                                      {"key": "penalty", "value": "l2"}]),
                       "POST runs/log-batch (params only, as log_params sends)")
        self.assertEqual(resp, {}, f"runs/log-batch must return {{}}, got {resp}")

        # --- mlflow.log_metric with steps; log_metrics ------------------------------------------
        t0 = now_ms()
        acc = [(0, 0.9, t0), (1, 0.7, t0 + 1), (2, 0.8, t0 + 2)]  # latest (step 2) is not max
        for step, value, ts in acc:
            self.log_metric(run_id, "acc", value, step=step, timestamp=ts)
        resp = self.ok(self.log_batch(run_id, metrics=[
            {"key": "loss", "value": 0.5, "timestamp": t0 + 3, "step": 0},
            {"key": "f1", "value": 0.75, "timestamp": t0 + 3, "step": 0}]),
                       "POST runs/log-batch (metrics only, as log_metrics sends)")
        self.assertEqual(resp, {}, f"runs/log-batch must return {{}}, got {resp}")

        # --- mlflow.set_tag ----------------------------------------------------------------------
        resp = self.ok(srv.post("/runs/set-tag", {"run_id": run_id, "run_uuid": run_id,
                                                  "key": "team", "value": "search"}),
                       "POST runs/set-tag team=search")
        self.assertEqual(resp, {}, f"runs/set-tag must return {{}}, got {resp}")

        # --- mlflow.log_artifact("model.txt", artifact_path="outputs") ----------------------------
        root = info["artifact_uri"][len("mlflow-artifacts:"):]  # "/<exp>/<run>/artifacts"
        content = b"weights: 0.1 0.2 0.3\n"
        r = srv.request("PUT", f"{ARTIFACTS_API}{root}/outputs/model.txt", body=content,
                        headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 200, f"PUT artifact (HttpArtifactRepository.log_artifact): {r}")
        r = srv.request("PUT", f"{ARTIFACTS_API}{root}/summary.json", body=b'{"ok": true}',
                        headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, f"PUT artifact summary.json: {r}")

        # The client lists through the proxy: paths are basenames relative to `path`.
        proxy = self.ok(srv.call("GET", ARTIFACTS_API, params={"path": root.lstrip("/")}),
                        "GET mlflow-artifacts/artifacts?path=<run root>")
        entries = {f["path"]: f for f in proxy.get("files", [])}
        self.assertEqual(set(entries), {"outputs", "summary.json"},
                         f"proxy listing of the run root: {proxy}")
        self.assertTrue(entries["outputs"].get("is_dir"), f"outputs must be a dir: {proxy}")
        self.assertFalse(entries["summary.json"].get("is_dir"), f"proxy listing: {proxy}")
        self.assertEqual(entries["summary.json"].get("file_size"), len(b'{"ok": true}'),
                         f"proxy listing file_size: {proxy}")
        proxy = self.ok(srv.call("GET", ARTIFACTS_API,
                                 params={"path": root.lstrip("/") + "/outputs"}),
                        "GET mlflow-artifacts/artifacts?path=<run root>/outputs")
        self.assertEqual(proxy.get("files"),
                         [{"path": "model.txt", "is_dir": False, "file_size": len(content)}],
                         f"proxy listing of outputs/: {proxy}")
        r = srv.request("GET", f"{ARTIFACTS_API}{root}/outputs/model.txt")
        self.assertEqual((r.status, r.body), (200, content), f"GET artifact via proxy: {r}")

        # --- artifacts/list (tracking API; run-relative paths) ----------------------------------
        listing = self.ok(srv.get("/artifacts/list", {"run_id": run_id}),
                          "GET artifacts/list (no path)")
        self.assertEqual(listing.get("root_uri"), info["artifact_uri"],
                         f"artifacts/list root_uri: {listing}")
        self.assertEqual(sorted(f["path"] for f in listing.get("files", [])),
                         ["outputs", "summary.json"], f"artifacts/list: {listing}")
        listing = self.ok(srv.get("/artifacts/list", {"run_id": run_id, "path": "outputs"}),
                          "GET artifacts/list path=outputs")
        self.assertEqual(listing.get("files"),
                         [{"path": "outputs/model.txt", "is_dir": False,
                           "file_size": len(content)}],
                         f"artifacts/list path=outputs must give run-relative paths: {listing}")

        # --- get-artifact (UI download) -----------------------------------------------------------
        r = srv.request("GET", "/get-artifact", params={"run_id": run_id,
                                                        "path": "outputs/model.txt"})
        self.assertEqual((r.status, r.body), (200, content), f"GET /get-artifact: {r}")

        # --- runs/search with a filter + order_by -----------------------------------------------
        other = self.create_run(exp_id, run_name="rf")["info"]["run_id"]
        self.ok(srv.post("/runs/log-parameter", {"run_id": other, "key": "model", "value": "rf"}),
                "log-parameter on second run")
        self.log_metric(other, "acc", 0.95)
        res = self.search_runs({"experiment_ids": [exp_id],
                                "filter": "metrics.acc > 0.5 and params.model = 'lr'",
                                "run_view_type": "ACTIVE_ONLY", "max_results": 1000,
                                "order_by": ["metrics.acc DESC", "attributes.start_time DESC"]})
        found = [r["info"]["run_id"] for r in res.get("runs", [])]
        self.assertEqual(found, [run_id], f"runs/search filter on metric+param: {res}")
        self.assertNotIn("next_page_token", res, f"runs/search single page: {res}")
        res = self.search_runs({"experiment_ids": [exp_id], "filter": "",
                                "order_by": ["metrics.acc DESC"]})
        self.assertEqual([r["info"]["run_id"] for r in res.get("runs", [])], [other, run_id],
                         f"runs/search order_by metrics.acc DESC (0.95 vs latest 0.8): {res}")

        # --- metrics/get-history ------------------------------------------------------------------
        hist = self.history(run_id, "acc")
        self.assertEqual([(m["step"], m["value"], m["timestamp"], m["key"]) for m in hist],
                         [(s, v, ts, "acc") for s, v, ts in acc],
                         f"metrics/get-history acc: {hist}")

        # --- mlflow.end_run() → runs/update -----------------------------------------------------
        end = now_ms()
        resp = self.ok(srv.post("/runs/update", {"run_id": run_id, "run_uuid": run_id,
                                                 "status": "FINISHED", "end_time": end}),
                       "POST runs/update FINISHED")
        run_info = resp.get("run_info")
        self.assertIsInstance(run_info, dict, f"runs/update must return {{run_info}}: {resp}")
        self.assertEqual(run_info.get("status"), "FINISHED", f"runs/update: {resp}")
        self.assertEqual(run_info.get("end_time"), end, f"runs/update: {resp}")
        self.assertEqual(run_info.get("run_id"), run_id, f"runs/update: {resp}")

        # --- final runs/get ---------------------------------------------------------------------
        run = self.get_run(run_id)
        info, data = run["info"], run.get("data", {})
        self.assertEqual(info.get("status"), "FINISHED", f"runs/get: {info}")
        self.assertEqual(info.get("end_time"), end, f"runs/get: {info}")
        self.assertEqual(info.get("start_time"), start, f"runs/get: {info}")
        self.assertEqual(info.get("run_uuid"), run_id, f"runs/get: {info}")
        self.assertEqual(info.get("lifecycle_stage"), "active", f"runs/get: {info}")
        self.assertEqual(info.get("artifact_uri"), f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts",
                         f"runs/get: {info}")
        self.assertEqual(kv_dict(data.get("params")),
                         {"model": "lr", "C": "0.1", "penalty": "l2"},
                         f"runs/get: run.data.params: {data}")
        metrics = {m["key"]: m for m in data.get("metrics", [])}
        self.assertEqual(set(metrics), {"acc", "loss", "f1"}, f"runs/get metrics: {data}")
        self.assertEqual((metrics["acc"]["value"], metrics["acc"]["step"],
                          metrics["acc"]["timestamp"]), (0.8, 2, t0 + 2),
                         f"runs/get: run.data.metrics holds the latest value per key (step 2 → "
                         f"0.8), not the max/first: {metrics['acc']}")
        self.assertEqual((metrics["loss"]["value"], metrics["loss"]["step"]), (0.5, 0),
                         f"runs/get loss: {metrics['loss']}")
        run_tags = kv_dict(data.get("tags"))
        self.assertEqual(run_tags.get("team"), "search", f"runs/get tags: {run_tags}")
        self.assertEqual(run_tags.get("mlflow.source.git.commit"), "0123456789abcdef0123",
                         f"runs/get tags: {run_tags}")

    def test_run_without_name_gets_generated_name(self):
        exp_id = self.create_experiment(uniq("noname"))
        run = self.create_run(exp_id)
        name = run["info"].get("run_name")
        self.assertTrue(name, f"runs/create without run_name: MLflow generates one: {run}")
        self.assertEqual(kv_dict(run.get("data", {}).get("tags")).get("mlflow.runName"), name,
                         f"runs/create: mlflow.runName tag must mirror the generated run_name: "
                         f"{run}")

    def test_default_experiment_and_health(self):
        exp = self.ok(self.server.get("/experiments/get", {"experiment_id": "0"}),
                      "GET experiments/get experiment_id=0")["experiment"]
        self.assertEqual((exp.get("experiment_id"), exp.get("name"), exp.get("lifecycle_stage")),
                         ("0", "Default", "active"), f"default experiment: {exp}")
        r = self.server.request("GET", "/health")
        self.assertEqual(r.status, 200, f"GET /health: {r}")
        r = self.server.request("GET", "/version")
        self.assertEqual(r.status, 200, f"GET /version: {r}")
        self.assertTrue(r.body.strip(), f"GET /version returned an empty body: {r}")

    def test_ajax_api_alias(self):
        exp_id = self.create_experiment(uniq("ajax"))
        s, body = self.server.post("/runs/create",
                                   {"experiment_id": exp_id, "start_time": now_ms()},
                                   prefix=AJAX_API)
        self.assertEqual(s, 200, f"POST {AJAX_API}/runs/create: {s} {body}")
        run_id = body["run"]["info"]["run_id"]
        run = self.get_run(run_id, prefix=AJAX_API)
        self.assertEqual(run["info"]["experiment_id"], exp_id, f"ajax runs/get: {run}")
        exp = self.ok(self.server.get("/experiments/get", {"experiment_id": exp_id},
                                      prefix=AJAX_API), "GET ajax experiments/get")
        self.assertEqual(exp["experiment"]["experiment_id"], exp_id, f"ajax: {exp}")


class TestExperiments(MlflowApiTestCase):

    def test_search_pagination_filter_order(self):
        prefix = uniq("pg")
        names = [f"{prefix}-{i}" for i in range(5)]
        ids = {self.create_experiment(n): n for n in reversed(names)}
        self.create_experiment(uniq("unrelated"))
        body = {"max_results": 2, "filter": f"name LIKE '{prefix}-%'", "order_by": ["name ASC"],
                "view_type": "ACTIVE_ONLY"}
        pages = self.walk_pages("/experiments/search", body, "experiments")
        self.assertEqual([len(p) for p in pages], [2, 2, 1],
                         f"experiments/search 5 results, max_results=2 → pages of 2,2,1 and no "
                         f"next_page_token on the last: {pages}")
        got = [e["name"] for p in pages for e in p]
        self.assertEqual(got, names, f"experiments/search pages must cover every match exactly "
                                     f"once, ordered by name ASC: {got}")
        self.assertEqual({e["experiment_id"] for p in pages for e in p}, set(ids),
                         f"experiment ids across pages: {pages}")

        # name DESC, and the GET form of the endpoint (MLflow serves GET and POST).
        s, resp = self.server.get("/experiments/search",
                                  {"max_results": 10, "filter": f"name LIKE '{prefix}-%'",
                                   "order_by": "name DESC"})
        self.assertEqual(s, 200, f"GET experiments/search: {s} {resp}")
        self.assertEqual([e["name"] for e in resp.get("experiments", [])], names[::-1],
                         f"GET experiments/search order_by name DESC: {resp}")

    def test_delete_restore_rename_tag(self):
        srv = self.server
        name = uniq("life")
        exp_id = self.create_experiment(name)
        self.err(srv.post("/experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS",
                 "POST experiments/create with a duplicate name")

        self.assertEqual(self.ok(srv.post("/experiments/set-experiment-tag",
                                          {"experiment_id": exp_id, "key": "owner",
                                           "value": "bob"}), "set-experiment-tag"), {})
        exp = self.ok(srv.get("/experiments/get", {"experiment_id": exp_id}), "get")["experiment"]
        self.assertEqual(kv_dict(exp.get("tags")).get("owner"), "bob",
                         f"experiment.tags after set-experiment-tag: {exp}")

        new_name = uniq("renamed")
        self.assertEqual(self.ok(srv.post("/experiments/update",
                                          {"experiment_id": exp_id, "new_name": new_name}),
                                 "experiments/update rename"), {})
        exp = self.ok(srv.get("/experiments/get-by-name", {"experiment_name": new_name}),
                      "get-by-name new name")["experiment"]
        self.assertEqual(exp["experiment_id"], exp_id, f"get-by-name after rename: {exp}")
        self.err(srv.get("/experiments/get-by-name", {"experiment_name": name}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "get-by-name with the old name after rename")

        self.assertEqual(self.ok(srv.post("/experiments/delete", {"experiment_id": exp_id}),
                                 "experiments/delete"), {})
        exp = self.ok(srv.get("/experiments/get", {"experiment_id": exp_id}),
                      "experiments/get on a deleted experiment")["experiment"]
        self.assertEqual(exp.get("lifecycle_stage"), "deleted", f"after delete: {exp}")
        flt = f"name = '{new_name}'"
        active = self.ok(srv.post("/experiments/search", {"filter": flt}), "search active")
        self.assertEqual(active.get("experiments", []), [],
                         f"deleted experiment must not appear in ACTIVE_ONLY search: {active}")
        deleted = self.ok(srv.post("/experiments/search", {"filter": flt,
                                                           "view_type": "DELETED_ONLY"}),
                          "search deleted")
        self.assertEqual([e["experiment_id"] for e in deleted.get("experiments", [])], [exp_id],
                         f"DELETED_ONLY search: {deleted}")
        self.err(srv.post("/experiments/create", {"name": new_name}), 400,
                 "RESOURCE_ALREADY_EXISTS", "create with the name of a deleted experiment")

        self.assertEqual(self.ok(srv.post("/experiments/restore", {"experiment_id": exp_id}),
                                 "experiments/restore"), {})
        exp = self.ok(srv.get("/experiments/get", {"experiment_id": exp_id}), "get")["experiment"]
        self.assertEqual(exp.get("lifecycle_stage"), "active", f"after restore: {exp}")

    def test_unknown_experiment(self):
        self.err(self.server.get("/experiments/get", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "experiments/get of an unknown id")


class TestRuns(MlflowApiTestCase):

    def test_search_pagination(self):
        exp_id = self.create_experiment(uniq("runs-pg"))
        base = now_ms()
        run_ids = []
        for i in range(5):
            rid = self.create_run(exp_id, run_name=f"r{i}", start_time=base + i)["info"]["run_id"]
            self.log_metric(rid, "score", float(i))
            run_ids.append(rid)
        body = {"experiment_ids": [exp_id], "max_results": 2,
                "order_by": ["attributes.start_time ASC"]}
        pages = self.walk_pages("/runs/search", body, "runs")
        self.assertEqual([len(p) for p in pages], [2, 2, 1],
                         f"runs/search 5 runs, max_results=2 → pages 2,2,1: {pages}")
        self.assertEqual([r["info"]["run_id"] for p in pages for r in p], run_ids,
                         "runs/search pages: every run exactly once, in start_time order")
        pages = self.walk_pages("/runs/search", dict(body, order_by=["metrics.score DESC"],
                                                     filter="metrics.score >= 1"), "runs")
        self.assertEqual([r["info"]["run_id"] for p in pages for r in p], run_ids[:0:-1],
                         f"runs/search filter+order_by metrics.score DESC paged: {pages}")

    def test_delete_restore_and_view_type(self):
        srv = self.server
        exp_id = self.create_experiment(uniq("runs-del"))
        keep = self.create_run(exp_id, run_name="keep")["info"]["run_id"]
        gone = self.create_run(exp_id, run_name="gone")["info"]["run_id"]
        self.assertEqual(self.ok(srv.post("/runs/delete", {"run_id": gone}), "runs/delete"), {})
        self.assertEqual(self.get_run(gone)["info"].get("lifecycle_stage"), "deleted",
                         "runs/get on a deleted run shows lifecycle_stage=deleted")

        def ids(view):
            body = {"experiment_ids": [exp_id]}
            if view:
                body["run_view_type"] = view
            return sorted(r["info"]["run_id"] for r in self.search_runs(body).get("runs", []))

        self.assertEqual(ids(None), [keep], "runs/search default view is ACTIVE_ONLY")
        self.assertEqual(ids("ACTIVE_ONLY"), [keep], "runs/search ACTIVE_ONLY")
        self.assertEqual(ids("DELETED_ONLY"), [gone], "runs/search DELETED_ONLY")
        self.assertEqual(ids("ALL"), sorted([keep, gone]), "runs/search ALL")

        self.err(srv.post("/runs/log-metric", {"run_id": gone, "key": "m", "value": 1.0,
                                               "timestamp": now_ms(), "step": 0}),
                 400, "INVALID_PARAMETER_VALUE",
                 "log-metric to a deleted run (MLflow: run must be in the 'active' state)")

        self.assertEqual(self.ok(srv.post("/runs/restore", {"run_id": gone}), "runs/restore"), {})
        self.assertEqual(self.get_run(gone)["info"].get("lifecycle_stage"), "active",
                         "runs/get after restore")
        self.assertEqual(ids(None), sorted([keep, gone]), "runs/search after restore")

    def test_delete_tag(self):
        srv = self.server
        rid = self.create_run(self.create_experiment(uniq("tags")))["info"]["run_id"]
        self.ok(srv.post("/runs/set-tag", {"run_id": rid, "key": "temp", "value": "1"}), "set-tag")
        self.assertEqual(kv_dict(self.get_run(rid)["data"].get("tags")).get("temp"), "1",
                         "tag visible after set-tag")
        self.assertEqual(self.ok(srv.post("/runs/delete-tag", {"run_id": rid, "key": "temp"}),
                                 "runs/delete-tag"), {})
        self.assertNotIn("temp", kv_dict(self.get_run(rid).get("data", {}).get("tags")),
                         "tag still present after runs/delete-tag")
        self.err(srv.post("/runs/delete-tag", {"run_id": rid, "key": "temp"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "runs/delete-tag of a tag that does not exist")

    def test_log_inputs(self):
        rid = self.create_run(self.create_experiment(uniq("inputs")))["info"]["run_id"]
        dataset = {"name": "iris", "digest": "d1g3st", "source_type": "local",
                   "source": '{"uri": "/data/iris.csv"}',
                   "schema": '{"mlflow_colspec": [{"type": "double", "name": "x"}]}',
                   "profile": '{"num_rows": 150}'}
        body = {"run_id": rid, "datasets": [{
            "tags": [{"key": "mlflow.data.context", "value": "training"}], "dataset": dataset}]}
        self.assertEqual(self.ok(self.server.post("/runs/log-inputs", body), "runs/log-inputs"),
                         {})
        run = self.get_run(rid)
        inputs = run.get("inputs", {}).get("dataset_inputs", [])
        self.assertEqual(len(inputs), 1, f"runs/get inputs.dataset_inputs: {run}")
        self.assertEqual(inputs[0].get("dataset"), dataset, f"dataset round-trip: {inputs}")
        self.assertEqual(kv_dict(inputs[0].get("tags")), {"mlflow.data.context": "training"},
                         f"dataset input tags: {inputs}")

    def test_metric_history_bulk_interval(self):
        exp_id = self.create_experiment(uniq("bulk"))
        runs = [self.create_run(exp_id)["info"]["run_id"] for _ in range(2)]
        t0 = now_ms()
        for n, rid in enumerate(runs):
            resp = self.log_batch(rid, metrics=[
                {"key": "loss", "value": 10.0 * n + s, "timestamp": t0 + s, "step": s}
                for s in range(10)])
            self.ok(resp, "log-batch loss steps 0..9")
        params = [("run_ids", runs[0]), ("run_ids", runs[1]), ("metric_key", "loss"),
                  ("max_results", "100")]
        resp = self.ok(self.server.get("/metrics/get-history-bulk-interval", params),
                       "GET metrics/get-history-bulk-interval")
        got = sorted((m["run_id"], m["step"], m["value"], m["key"])
                     for m in resp.get("metrics", []))
        want = sorted((rid, s, 10.0 * n + s, "loss") for n, rid in enumerate(runs)
                      for s in range(10))
        self.assertEqual(got, want, f"bulk-interval (all steps fit in max_results): {resp}")
        resp = self.ok(self.server.get("/metrics/get-history-bulk-interval",
                                       params + [("start_step", "2"), ("end_step", "5")]),
                       "bulk-interval start_step=2 end_step=5")
        steps = sorted({m["step"] for m in resp.get("metrics", [])})
        self.assertEqual(steps, [2, 3, 4, 5], f"bulk-interval step window: {resp}")
        self.assertEqual(len(resp.get("metrics", [])), 8, f"2 runs x 4 steps: {resp}")

    def test_log_batch_limits_are_atomic(self):
        rid = self.create_run(self.create_experiment(uniq("limits")))["info"]["run_id"]
        t = now_ms()
        metrics = [{"key": f"m{i}", "value": float(i), "timestamp": t, "step": 0}
                   for i in range(1001)]
        self.err(self.log_batch(rid, metrics=metrics, params=[{"key": "p", "value": "v"}]),
                 400, "INVALID_PARAMETER_VALUE", "log-batch with 1001 metrics (limit 1000)")
        params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
        self.err(self.log_batch(rid, params=params,
                                metrics=[{"key": "x", "value": 1.0, "timestamp": t, "step": 0}]),
                 400, "INVALID_PARAMETER_VALUE", "log-batch with 101 params (limit 100)")
        data = self.get_run(rid).get("data", {})
        self.assertEqual(data.get("metrics", []), [],
                         f"rejected batches must store no metrics: {data}")
        self.assertEqual(data.get("params", []), [],
                         f"rejected batches must store no params: {data}")
        self.assertEqual(self.history(rid, "m0"), [], "no history for a rejected batch")
        ok = [{"key": f"m{i}", "value": float(i), "timestamp": t, "step": 0} for i in range(1000)]
        self.ok(self.log_batch(rid, metrics=ok), "log-batch with exactly 1000 metrics")
        self.assertEqual(len(self.get_run(rid)["data"].get("metrics", [])), 1000,
                         "1000-metric batch fully stored")

    def test_param_immutability(self):
        srv = self.server
        rid = self.create_run(self.create_experiment(uniq("params")))["info"]["run_id"]
        self.ok(srv.post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"}),
                "first log-parameter")
        self.ok(srv.post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"}),
                "re-logging a param with the same value is allowed")
        self.err(srv.post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.2"}),
                 400, "INVALID_PARAMETER_VALUE", "log-parameter changing an existing value")
        self.err(self.log_batch(rid, params=[{"key": "lr", "value": "0.3"}]), 400,
                 "INVALID_PARAMETER_VALUE", "log-batch changing an existing param value")
        self.assertEqual(kv_dict(self.get_run(rid)["data"].get("params")), {"lr": "0.1"},
                         "param value must be unchanged")

    def test_error_contract(self):
        srv = self.server
        exp_id = self.create_experiment(uniq("errors"))
        rid = self.create_run(exp_id)["info"]["run_id"]
        # Malformed JSON bodies.
        for endpoint in ("/experiments/create", "/runs/log-metric"):
            r = srv.request("POST", API + endpoint, body=b'{"name": "oops", ',
                            headers={"Content-Type": "application/json"})
            self.err((r.status, r.json), 400,
                     ("BAD_REQUEST", "INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST"),
                     f"POST {endpoint} with a malformed JSON body")
        # Unknown run.
        missing = uuid.uuid4().hex
        self.err(srv.get("/runs/get", {"run_id": missing}), 404, "RESOURCE_DOES_NOT_EXIST",
                 "runs/get unknown run id")
        self.err(srv.post("/runs/log-metric", {"run_id": missing, "key": "a", "value": 1.0,
                                               "timestamp": now_ms(), "step": 0}),
                 404, "RESOURCE_DOES_NOT_EXIST", "log-metric to an unknown run id")
        # Invalid filter strings.
        for flt in ("params.model = lr", "bogus.x = 'a'", "metrics.acc >"):
            self.err(srv.post("/runs/search", {"experiment_ids": [exp_id], "filter": flt}), 400,
                     "INVALID_PARAMETER_VALUE", f"runs/search invalid filter {flt!r}")
        # Invalid metric / param names.
        self.err(srv.post("/runs/log-metric", {"run_id": rid, "key": "../x", "value": 1.0,
                                               "timestamp": now_ms(), "step": 0}),
                 400, "INVALID_PARAMETER_VALUE", "log-metric with key '../x'")
        self.err(self.log_batch(rid, metrics=[{"key": "../x", "value": 1.0,
                                               "timestamp": now_ms(), "step": 0}]),
                 400, "INVALID_PARAMETER_VALUE", "log-batch metric key '../x'")
        self.err(srv.post("/runs/log-parameter", {"run_id": rid, "key": "/abs", "value": "1"}),
                 400, "INVALID_PARAMETER_VALUE", "log-parameter key '/abs'")
        # Missing required field.
        self.err(srv.post("/runs/log-metric", {"run_id": rid, "value": 1.0,
                                               "timestamp": now_ms()}),
                 400, "INVALID_PARAMETER_VALUE", "log-metric without 'key'")
        # Empty experiment name; missing experiment for runs/create.
        self.err(srv.post("/experiments/create", {"name": ""}), 400, "INVALID_PARAMETER_VALUE",
                 "experiments/create with an empty name")
        self.err(srv.post("/runs/create", {"experiment_id": "987654321", "start_time": now_ms()}),
                 404, "RESOURCE_DOES_NOT_EXIST", "runs/create in an unknown experiment")
        # Unknown endpoint.
        s, body = srv.get("/no-such-endpoint")
        self.assertEqual(s, 404, f"unknown endpoint must be 404: {s} {body}")

    def test_search_filter_grammar(self):
        """Filter forms the MLflow client and UI send (SearchUtils grammar)."""
        srv = self.server
        exp_id = self.create_experiment(uniq("grammar"))
        base = now_ms()
        spec = [("lr-a", "lr", 0.91, "search", "FINISHED"),
                ("lr-b", "lr", 0.55, "ads", "RUNNING"),
                ("rf-c", "rf", 0.75, "search", "FAILED")]
        ids = {}
        for i, (name, model, acc, team, status) in enumerate(spec):
            rid = self.create_run(exp_id, run_name=name, start_time=base + i,
                                  tags=[{"key": "mlflow.source.name", "value": f"{model}.py"}]
                                  )["info"]["run_id"]
            ids[name] = rid
            self.ok(self.log_batch(rid, metrics=[{"key": "acc", "value": acc,
                                                  "timestamp": base, "step": 0}],
                                   params=[{"key": "model", "value": model}],
                                   tags=[{"key": "team", "value": team}]), f"log-batch {name}")
            if status != "RUNNING":
                self.ok(srv.post("/runs/update", {"run_id": rid, "status": status,
                                                  "end_time": base + 100}), f"update {name}")
        cases = [
            ("metrics.acc >= 0.75", ["lr-a", "rf-c"]),
            ("metrics.acc < 0.6", ["lr-b"]),
            ("metrics.acc != 0.91", ["lr-b", "rf-c"]),
            ("params.model != 'lr'", ["rf-c"]),
            ("params.model LIKE 'l%'", ["lr-a", "lr-b"]),
            ("tags.team = 'search'", ["lr-a", "rf-c"]),
            ("tags.\"mlflow.source.name\" = 'rf.py'", ["rf-c"]),
            ("tags.`mlflow.source.name` = 'lr.py'", ["lr-a", "lr-b"]),
            ("attributes.status = 'FINISHED'", ["lr-a"]),
            ("attributes.run_name LIKE 'lr-%'", ["lr-a", "lr-b"]),
            ("attributes.run_name ILIKE 'LR-%'", ["lr-a", "lr-b"]),
            (f"attributes.start_time > {base}", ["lr-b", "rf-c"]),
            (f"attributes.run_id IN ('{ids['lr-a']}', '{ids['rf-c']}')", ["lr-a", "rf-c"]),
            ("params.model = 'lr' AND tags.team = 'ads'", ["lr-b"]),
            ("metrics.missing > 0", []),
        ]
        problems = []
        for flt, want in cases:
            status, body = srv.post("/runs/search", {"experiment_ids": [exp_id], "filter": flt})
            if status != 200:
                problems.append(f"filter {flt!r}: HTTP {status} {body}")
                continue
            got = sorted(n for r in body.get("runs", []) for n, i in ids.items()
                         if i == r["info"]["run_id"])
            if got != sorted(want):
                problems.append(f"filter {flt!r}: expected {sorted(want)}, got {got}")
        for order, want in [(["params.model DESC", "metrics.acc ASC"], ["rf-c", "lr-b", "lr-a"]),
                            (["tags.team ASC", "attributes.run_name DESC"],
                             ["lr-b", "rf-c", "lr-a"]),
                            (["attributes.start_time DESC"], ["rf-c", "lr-b", "lr-a"])]:
            status, body = srv.post("/runs/search", {"experiment_ids": [exp_id],
                                                     "order_by": order})
            got = [n for r in (body or {}).get("runs", []) for n, i in ids.items()
                   if i == r["info"]["run_id"]]
            if status != 200 or got != want:
                problems.append(f"order_by {order}: expected {want}, got HTTP {status} {got}")
        if problems:
            self.fail("runs/search grammar deviations:\n" + "\n".join(problems))

    def test_run_name_updates(self):
        """runs/update run_name and set-tag mlflow.runName keep info.run_name and the tag in
        sync (MLflow's store does both)."""
        srv = self.server
        rid = self.create_run(self.create_experiment(uniq("rename")), run_name="first")[
            "info"]["run_id"]
        resp = self.ok(srv.post("/runs/update", {"run_id": rid, "run_name": "second"}),
                       "runs/update run_name only")
        self.assertEqual(resp.get("run_info", {}).get("run_name"), "second", f"{resp}")
        self.assertEqual(resp["run_info"].get("status"), "RUNNING",
                         f"runs/update without status must not change it: {resp}")
        run = self.get_run(rid)
        self.assertEqual((run["info"].get("run_name"),
                          kv_dict(run["data"].get("tags")).get("mlflow.runName")),
                         ("second", "second"), f"after runs/update run_name: {run}")
        self.ok(srv.post("/runs/set-tag", {"run_id": rid, "key": "mlflow.runName",
                                           "value": "third"}), "set-tag mlflow.runName")
        run = self.get_run(rid)
        self.assertEqual((run["info"].get("run_name"),
                          kv_dict(run["data"].get("tags")).get("mlflow.runName")),
                         ("third", "third"), f"after set-tag mlflow.runName: {run}")


class TestArtifactPathSafety(MlflowApiTestCase):
    """Path traversal through the artifact endpoints (MLflow's CVE history): each must be 400
    and must not create or read anything outside the artifact store."""

    def test_traversal_on_put(self):
        srv = self.server
        rid = self.create_run(self.create_experiment(uniq("trav")))["info"]["run_id"]
        outside = srv.root.lstrip("/")  # absolute temp root, made relative for '..' chains
        up = "../" * 16
        problems = []
        for label, path_tmpl in [
                ("../ escaping the store", f"/{up}{outside}/{{m}}"),
                ("../ after a run prefix", f"/0/{rid}/artifacts/{up}{outside}/{{m}}"),
                ("%2e%2e/ escaping", "/" + "%2e%2e/" * 16 + f"{outside}/{{m}}"),
                ("..%2f escaping", "/" + "..%2f" * 16 + f"{outside}/{{m}}"),
                ("%2e%2e%2f escaping", "/" + "%2e%2e%2f" * 16 + f"{outside}/{{m}}"),
                ("absolute (%2F)", f"/%2F{outside}/{{m}}"),
                ("absolute (//)", f"//{outside}/{{m}}")]:
            marker = uniq("pwned")
            path = ARTIFACTS_API + path_tmpl.format(m=marker)
            r = srv.request("PUT", path, body=b"evil")
            hits = self.files_outside_workspace(marker)
            if hits:
                problems.append(f"SECURITY: PUT {path} ({label}) wrote outside the workspace: "
                                f"{hits} (HTTP {r.status})")
            if r.status != 400 or (r.json or {}).get("error_code") != "INVALID_PARAMETER_VALUE":
                problems.append(f"PUT {path} ({label}): expected 400 INVALID_PARAMETER_VALUE, "
                                f"got {r}")
        if problems:
            self.fail("artifact upload path traversal:\n" + "\n".join(problems))

    def test_traversal_on_reads(self):
        srv = self.server
        exp_id = self.create_experiment(uniq("trav-read"))
        rid = self.create_run(exp_id)["info"]["run_id"]
        secret = os.path.join(srv.root, "secret.txt")
        with open(secret, "w") as f:
            f.write("top secret")
        rel = "../" * 16 + secret.lstrip("/")
        cases = [
            ("GET", "/get-artifact", {"run_id": rid, "path": rel}),
            ("GET", "/get-artifact", {"run_id": rid, "path": secret}),
            ("GET", API + "/artifacts/list", {"run_id": rid, "path": "../../.."}),
            ("GET", API + "/artifacts/list", {"run_id": rid, "path": "/etc"}),
            ("GET", ARTIFACTS_API, {"path": "../../.."}),
            ("GET", ARTIFACTS_API, {"path": "/etc"}),
            ("GET", ARTIFACTS_API + "/" + "%2e%2e/" * 16 + secret.lstrip("/"), None),
            ("GET", ARTIFACTS_API + "/%2F" + secret.lstrip("/"), None),
            ("DELETE", ARTIFACTS_API + "/" + "..%2f" * 16 + secret.lstrip("/"), None),
        ]
        problems = []
        for method, path, params in cases:
            r = srv.request(method, path, params=params)
            where = f"{method} {path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
            if b"top secret" in r.body:
                problems.append(f"SECURITY: {where} leaked a file outside the store")
            if not os.path.exists(secret):
                problems.append(f"SECURITY: {where} deleted a file outside the store")
                with open(secret, "w") as f:
                    f.write("top secret")
            if r.status != 400:
                problems.append(f"{where}: expected 400 INVALID_PARAMETER_VALUE, got {r}")
        if problems:
            self.fail("artifact read/list/delete path traversal:\n" + "\n".join(problems))

    def test_proxy_delete(self):
        srv = self.server
        exp_id = self.create_experiment(uniq("del-art"))
        rid = self.create_run(exp_id)["info"]["run_id"]
        base = f"{ARTIFACTS_API}/{exp_id}/{rid}/artifacts"
        self.assertEqual(srv.request("PUT", base + "/a.txt", body=b"a").status, 200, "PUT a.txt")
        r = srv.request("DELETE", base + "/a.txt")
        self.assertEqual(r.status, 200, f"DELETE artifact: {r}")
        listing = self.ok(srv.get("/artifacts/list", {"run_id": rid}), "list after delete")
        self.assertEqual(listing.get("files", []), [], f"artifact still listed: {listing}")
        self.assertNotEqual(srv.request("GET", base + "/a.txt").status, 200,
                            "GET of a deleted artifact must not succeed")


if __name__ == "__main__":
    import unittest
    unittest.main()
