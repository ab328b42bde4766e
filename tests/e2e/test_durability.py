"""Durability: every write the server acknowledged with 200 survives `kill -9` and a restart on
the same workspace; a workspace from a newer schema is refused at start.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v
"""

import http.client
import os
import sqlite3
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import API as API_PREFIX, CairnServer, kv_dict, now_ms  # noqa: E402


class DurabilityTestCase(unittest.TestCase):

    def setUp(self):
        self.server = CairnServer()
        self.addCleanup(self.server.cleanup)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            srv = getattr(self, "server", None)
            if srv is not None:
                sys.stderr.write(f"\n[harness] {self.id()} failed; server output:\n"
                                 + srv.logs(tail=4000) + "\n")
        return out

    def post(self, endpoint, body):
        return self.server.post(endpoint, body)

    def must(self, status_body, what):
        status, body = status_body
        self.assertEqual(status, 200, f"{what}: expected 200, got {status} {body}")
        return body


class TestKill9(DurabilityTestCase):

    N_SINGLE = 100     # individual log-metric / log-parameter calls
    N_BATCHES = 10     # log-batch calls, each with several metrics/params/tags
    N_THREADS = 8      # concurrent writers
    PER_THREAD = 50

    def test_acknowledged_writes_survive_kill9(self):
        srv = self.server.start()
        s, body = srv.post("/experiments/create", {"name": "durable"})
        self.assertEqual(s, 200, f"experiments/create: {s} {body}")
        exp_id = body["experiment_id"]
        s, body = srv.post("/runs/create", {"experiment_id": exp_id, "start_time": now_ms(),
                                            "run_name": "durable-run"})
        self.assertEqual(s, 200, f"runs/create: {s} {body}")
        run_id = body["run"]["info"]["run_id"]

        # What the server acknowledged; only these are required to survive.
        acked_history = {}   # metric key → set of (step, value, timestamp)
        acked_params = {}
        acked_tags = {}
        lock = threading.Lock()
        failures = []

        def record_metric(key, step, value, ts):
            with lock:
                acked_history.setdefault(key, set()).add((step, value, ts))

        t0 = now_ms()
        for i in range(self.N_SINGLE):
            body = {"run_id": run_id, "key": "loss", "value": 1.0 / (i + 1),
                    "timestamp": t0 + i, "step": i}
            self.must(srv.post("/runs/log-metric", body), f"log-metric #{i}")
            record_metric("loss", i, 1.0 / (i + 1), t0 + i)
            self.must(srv.post("/runs/log-parameter",
                               {"run_id": run_id, "key": f"p{i}", "value": str(i)}),
                      f"log-parameter p{i}")
            acked_params[f"p{i}"] = str(i)

        for b in range(self.N_BATCHES):
            metrics = [{"key": f"batch_m{k}", "value": b * 10.0 + k, "timestamp": t0 + b,
                        "step": b} for k in range(5)]
            params = [{"key": f"batch{b}_p{k}", "value": f"v{k}"} for k in range(3)]
            tags = [{"key": f"batch{b}_t", "value": f"tag{b}"}]
            self.must(srv.post("/runs/log-batch", {"run_id": run_id, "metrics": metrics,
                                                   "params": params, "tags": tags}),
                      f"log-batch #{b}")
            for m in metrics:
                record_metric(m["key"], m["step"], m["value"], m["timestamp"])
            acked_params.update({p["key"]: p["value"] for p in params})
            acked_tags.update({t["key"]: t["value"] for t in tags})

        def writer(tid):
            try:
                for j in range(self.PER_THREAD):
                    key, step, value, ts = f"thread{tid}", j, float(tid * 1000 + j), t0 + j
                    s, body = srv.post("/runs/log-metric", {"run_id": run_id, "key": key,
                                                            "value": value, "timestamp": ts,
                                                            "step": step})
                    if s == 200:
                        record_metric(key, step, value, ts)
                    else:
                        failures.append(f"thread {tid} log-metric #{j}: {s} {body}")
                    if j % 5 == 0:
                        s, body = srv.post("/runs/log-batch", {
                            "run_id": run_id,
                            "metrics": [{"key": f"tb{tid}", "value": float(j),
                                         "timestamp": ts, "step": j}],
                            "params": [{"key": f"t{tid}_p{j}", "value": "x"}]})
                        if s == 200:
                            record_metric(f"tb{tid}", j, float(j), ts)
                            with lock:
                                acked_params[f"t{tid}_p{j}"] = "x"
                        else:
                            failures.append(f"thread {tid} log-batch #{j}: {s} {body}")
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(f"thread {tid} raised {e!r}")

        threads = [threading.Thread(target=writer, args=(t,), daemon=True)
                   for t in range(self.N_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "writer threads did not finish "
                                                              "within 120s")
        self.assertEqual(failures, [], "concurrent writes must all be acknowledged")

        # Crash: no graceful shutdown, no chance to flush anything not already durable.
        srv.kill()
        self.assertIsNotNone(srv.proc.returncode, "server still running after SIGKILL")
        srv.start()

        s, body = srv.get("/runs/get", {"run_id": run_id})
        self.assertEqual(s, 200, f"runs/get after restart: {s} {body}")
        data = body["run"].get("data", {})
        params = kv_dict(data.get("params"))
        missing = {k: v for k, v in acked_params.items() if params.get(k) != v}
        self.assertEqual(missing, {}, f"acknowledged params lost or changed after kill -9 "
                                      f"({len(missing)} of {len(acked_params)})")
        tags = kv_dict(data.get("tags"))
        missing = {k: v for k, v in acked_tags.items() if tags.get(k) != v}
        self.assertEqual(missing, {}, "acknowledged tags lost after kill -9")
        latest = {m["key"] for m in data.get("metrics", [])}
        self.assertEqual(latest, set(acked_history),
                         "run.data.metrics keys after restart differ from acknowledged keys")

        for key, points in sorted(acked_history.items()):
            s, body = srv.get("/metrics/get-history", {"run_id": run_id, "metric_key": key})
            self.assertEqual(s, 200, f"get-history {key} after restart: {s} {body}")
            got = {(m["step"], m["value"], m["timestamp"]) for m in body.get("metrics", [])}
            lost = points - got
            self.assertEqual(lost, set(), f"metric {key!r}: {len(lost)} acknowledged points lost "
                                          f"after kill -9: {sorted(lost)[:10]}")

        # The restarted server still accepts writes on the recovered run.
        self.must(srv.post("/runs/log-metric", {"run_id": run_id, "key": "after", "value": 1.0,
                                                "timestamp": now_ms(), "step": 0}),
                  "log-metric after recovery")
        self.assertEqual(srv.stop(), 0, "graceful SIGTERM stop after recovery must exit 0")

    def test_kill9_while_writes_are_in_flight(self):
        """Writers keep going while the server is SIGKILLed; every write answered 200 before the
        crash must be there after restart (requests cut off by the crash may go either way)."""
        srv = self.server.start()
        s, body = srv.post("/experiments/create", {"name": "inflight"})
        self.assertEqual(s, 200, f"experiments/create: {s} {body}")
        s, body = srv.post("/runs/create", {"experiment_id": body["experiment_id"],
                                            "start_time": now_ms()})
        self.assertEqual(s, 200, f"runs/create: {s} {body}")
        run_id = body["run"]["info"]["run_id"]

        lock = threading.Lock()
        acked = {}          # key → set of (step, value, timestamp)
        acked_params = {}
        count = [0]
        enough = threading.Event()
        target = 300
        t0 = now_ms()

        def writer(tid):
            for j in range(100000):
                key, ts = f"w{tid}", t0 + j
                if j % 3 == 0:
                    req = ("/runs/log-batch", {
                        "run_id": run_id,
                        "metrics": [{"key": key, "value": float(j), "timestamp": ts, "step": j}],
                        "params": [{"key": f"w{tid}_p{j}", "value": str(j)}]})
                else:
                    req = ("/runs/log-metric", {"run_id": run_id, "key": key, "value": float(j),
                                                "timestamp": ts, "step": j})
                try:
                    r = srv.request("POST", API_PREFIX + req[0], body=req[1], timeout=10)
                except (OSError, http.client.HTTPException):
                    return  # the server is gone: stop writing
                if r.status != 200:
                    return
                with lock:
                    acked.setdefault(key, set()).add((j, float(j), ts))
                    if req[0] == "/runs/log-batch":
                        acked_params[f"w{tid}_p{j}"] = str(j)
                    count[0] += 1
                    if count[0] >= target:
                        enough.set()

        threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(6)]
        for t in threads:
            t.start()
        self.assertTrue(enough.wait(timeout=120),
                        f"only {count[0]} writes acknowledged within 120s (wanted {target})")
        srv.kill()  # writers are still sending
        for t in threads:
            t.join(timeout=30)
        self.assertFalse(any(t.is_alive() for t in threads), "writers hung after the kill")
        with lock:
            acked_snapshot = {k: set(v) for k, v in acked.items()}
            params_snapshot = dict(acked_params)

        srv.start()
        s, body = srv.get("/runs/get", {"run_id": run_id})
        self.assertEqual(s, 200, f"runs/get after restart: {s} {body}")
        params = kv_dict(body["run"].get("data", {}).get("params"))
        lost = sorted(k for k, v in params_snapshot.items() if params.get(k) != v)
        self.assertEqual(lost, [], f"{len(lost)} of {len(params_snapshot)} acknowledged params "
                                   f"lost after kill -9 mid-flight")
        for key, points in sorted(acked_snapshot.items()):
            s, body = srv.get("/metrics/get-history", {"run_id": run_id, "metric_key": key})
            self.assertEqual(s, 200, f"get-history {key}: {s} {body}")
            got = {(m["step"], m["value"], m["timestamp"]) for m in body.get("metrics", [])}
            missing = points - got
            self.assertEqual(missing, set(), f"metric {key!r}: {len(missing)} of {len(points)} "
                                             f"acknowledged points lost: {sorted(missing)[:10]}")


class TestSchemaVersion(DurabilityTestCase):

    FUTURE = 9999

    def test_newer_schema_is_refused(self):
        srv = self.server.start()
        s, body = srv.post("/experiments/create", {"name": "schema"})
        self.assertEqual(s, 200, f"experiments/create: {s} {body}")
        code = srv.stop()
        self.assertEqual(code, 0, f"graceful SIGTERM stop must exit 0, got {code}")

        db = os.path.join(srv.workspace, "cairn.db")
        self.assertTrue(os.path.exists(db), f"{db} not created; workspace holds "
                                            f"{sorted(os.listdir(srv.workspace))}")
        conn = sqlite3.connect(db, timeout=10)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            self.assertIn("schema_version", tables,
                          f"expected a schema_version table in {db}; tables: {tables}")
            cur = conn.execute("UPDATE schema_version SET version = ?", (self.FUTURE,))
            self.assertGreater(cur.rowcount, 0, "schema_version had no row to update")
            conn.commit()
        finally:
            conn.close()

        rc, stderr = srv.run_expecting_exit(timeout=30)
        self.assertNotEqual(rc, 0, "cairn must exit non-zero on a workspace whose schema is "
                                   f"newer than it knows; stderr:\n{stderr}")
        self.assertIn(str(self.FUTURE), stderr,
                      f"the refusal must name the workspace's schema version; stderr:\n{stderr}")
        self.assertFalse(os.path.exists(srv.port_file) and open(srv.port_file).read().strip(),
                         "a refused start must not announce a port")

        # The database must be left untouched by the refused start (no downgrade).
        conn = sqlite3.connect(db, timeout=10)
        try:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        finally:
            conn.close()
        self.assertEqual(set(versions), {self.FUTURE}, "refused start modified schema_version")


if __name__ == "__main__":
    unittest.main()
