"""End-to-end tests of cairn_client.py against a real Cairn server.

Each test starts the server binary on a fresh temporary workspace (port 0,
the chosen port read back from --port-file), drives it only through the
client helpers, then checks what the server stored through plain REST calls
(runs/get, metrics/get-history, the artifact proxy) so a bug in the client
cannot hide a bug in the server or the other way round.

Run with Debian's python (no third-party modules needed):

    CAIRN_BIN=/path/to/cairn /usr/bin/python3 -m unittest discover \
        -s clients/python -p 'test_*.py' -v

CAIRN_BIN defaults to <repo>/build/cairn.
"""

import http.server
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_client  # noqa: E402
from cairn_client import CairnError, Client, Run  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN_BIN = os.environ.get("CAIRN_BIN") or os.path.join(REPO, "build", "cairn")
STARTUP_SECONDS = 30   # generous: CI machines are slow, and this is not a timing test
STOP_SECONDS = 10

# Variables that would change what the client does; tests set them explicitly.
_CLIENT_ENV = ("CAIRN_URL", "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "CAIRN_RUN_ID",
               "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "CAIRN_TOKEN",
               "MLFLOW_TRACKING_TOKEN")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_dict(entries):
    """[{key, value}, ...] as the server returns params/tags -> {key: value}."""
    return {e["key"]: e["value"] for e in entries or []}


class _IsolatedEnvTestCase(unittest.TestCase):
    """Clears the environment variables the client reads, per test."""

    def setUp(self):
        env = mock.patch.dict(os.environ)
        env.start()
        self.addCleanup(env.stop)
        for var in _CLIENT_ENV:
            os.environ.pop(var, None)


class ServerTestCase(_IsolatedEnvTestCase):
    """Starts `cairn server` on a temporary workspace for every test."""

    def setUp(self):
        super().setUp()
        if not os.access(CAIRN_BIN, os.X_OK):
            self.fail("server binary %s not found; build it or set CAIRN_BIN" % CAIRN_BIN)
        self.tmp = tempfile.mkdtemp(prefix="cairn-client-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        workspace = os.path.join(self.tmp, "workspace")
        port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "server.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CAIRN_BIN, "server", "--workspace", workspace, "--host", "127.0.0.1",
                 "--port", "0", "--port-file", port_file],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # A cleanup (unlike tearDown) also runs when the rest of setUp fails,
        # so no server outlives its test.
        self.addCleanup(self._stop_server)
        port = self._wait_for_port(port_file)
        self.url = "http://127.0.0.1:%d" % port
        self.client = Client(self.url, timeout=30)

    def _wait_for_port(self, port_file):
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail("server exited with %s before listening:\n%s"
                          % (self.proc.returncode, self._server_log()))
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text.isdigit() and int(text) > 0:
                    return int(text)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        self.fail("server wrote no port to %s within %ss:\n%s"
                  % (port_file, STARTUP_SECONDS, self._server_log()))

    def _stop_server(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _server_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    # ---- independent views of server state (plain REST, not the client) ----

    def rest_get(self, endpoint, **params):
        url = "%s/api/2.0/mlflow/%s?%s" % (self.url, endpoint, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read())

    def server_run(self, run_id):
        return self.rest_get("runs/get", run_id=run_id)["run"]

    def proxy_url(self, run, path):
        """The artifact proxy URL, derived from the run's artifact_uri by the
        mapping the API documents (independently of the client's own code)."""
        prefix = "mlflow-artifacts:/"
        self.assertTrue(run.artifact_uri.startswith(prefix), run.artifact_uri)
        return "%s/api/2.0/mlflow-artifacts/artifacts/%s/%s" % (
            self.url, run.artifact_uri[len(prefix):].strip("/"), urllib.parse.quote(path))

    def fetch(self, url):
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read()

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path


class ExperimentTest(ServerTestCase):

    def test_get_or_create_experiment_creates_once(self):
        exp_id = self.client.get_or_create_experiment("client-test")
        self.assertEqual(exp_id, self.client.get_or_create_experiment("client-test"))
        other = self.client.get_or_create_experiment("client-test-2")
        self.assertNotEqual(exp_id, other)
        exp = self.rest_get("experiments/get", experiment_id=exp_id)["experiment"]
        self.assertEqual(exp["name"], "client-test")
        self.assertEqual(exp["lifecycle_stage"], "active")


class RunLifecycleTest(ServerTestCase):

    def test_start_run_creates_running_run_with_system_and_user_tags(self):
        exp_id = self.client.get_or_create_experiment("lifecycle")
        before = int(time.time() * 1000)
        run = self.client.start_run(exp_id, run_name="first", tags={"team": "core"})
        self.assertIsInstance(run, Run)
        self.assertEqual(run.experiment_id, exp_id)
        self.assertEqual(run.artifact_uri, "mlflow-artifacts:/%s/%s/artifacts" % (exp_id, run.run_id))

        got = self.server_run(run.run_id)
        info, tags = got["info"], _as_dict(got["data"].get("tags"))
        self.assertEqual(info["run_id"], run.run_id)
        self.assertEqual(info["experiment_id"], exp_id)
        self.assertEqual(info["run_name"], "first")
        self.assertEqual(info["status"], "RUNNING")
        self.assertGreaterEqual(int(info["start_time"]), before - 1000)
        self.assertEqual(tags["team"], "core")
        self.assertEqual(tags["mlflow.runName"], "first")
        self.assertEqual(tags["mlflow.source.type"], "LOCAL")
        self.assertEqual(tags["mlflow.source.name"], sys.argv[0])
        self.assertEqual(tags["mlflow.user"], cairn_client.getpass.getuser())

    def test_start_run_defaults_to_the_default_experiment(self):
        run = self.client.start_run()
        self.assertEqual(self.server_run(run.run_id)["info"]["experiment_id"], "0")

    def test_end_marks_run_finished_with_end_time(self):
        run = self.client.start_run(self.client.get_or_create_experiment("e"))
        run.end()
        run.end()  # second call is a no-op, not an error
        info = self.server_run(run.run_id)["info"]
        self.assertEqual(info["status"], "FINISHED")
        self.assertGreaterEqual(int(info["end_time"]), int(info["start_time"]))

    def test_context_manager_finishes_or_fails_the_run(self):
        exp_id = self.client.get_or_create_experiment("ctx")
        with self.client.start_run(exp_id) as ok_run:
            ok_run.log_param("p", 1)
        self.assertEqual(self.server_run(ok_run.run_id)["info"]["status"], "FINISHED")

        with self.assertRaises(ZeroDivisionError):
            with self.client.start_run(exp_id) as bad_run:
                1 / 0
        self.assertEqual(self.server_run(bad_run.run_id)["info"]["status"], "FAILED")

    def test_attaches_to_run_named_by_environment(self):
        exp_id = self.client.get_or_create_experiment("attach")
        parent = self.client.start_run(exp_id)
        for var in ("MLFLOW_RUN_ID", "CAIRN_RUN_ID"):
            with mock.patch.dict(os.environ, {var: parent.run_id}):
                with self.client.start_run(tags={"attached_by": var}) as run:
                    self.assertEqual(run.run_id, parent.run_id)
                    # Attaching to an ended run reopens it, as mlflow does.
                    self.assertEqual(self.server_run(run.run_id)["info"]["status"], "RUNNING")
                    run.log_metric("from_" + var, 1.0)
        got = self.server_run(parent.run_id)
        self.assertEqual(got["info"]["status"], "FINISHED")
        self.assertEqual({m["key"] for m in got["data"]["metrics"]},
                         {"from_MLFLOW_RUN_ID", "from_CAIRN_RUN_ID"})
        self.assertEqual(_as_dict(got["data"]["tags"])["attached_by"], "CAIRN_RUN_ID")

    def test_git_commit_tag_when_script_is_in_a_checkout(self):
        if not shutil.which("git"):
            self.skipTest("git not installed")
        repo = os.path.join(self.tmp, "repo")
        os.makedirs(repo)
        git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run(git + ["init", "-q"], check=True)
        script = self.write("repo/train.py", b"print('hi')\n")
        subprocess.run(git + ["add", "train.py"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
        head = subprocess.run(git + ["rev-parse", "HEAD"], check=True,
                              stdout=subprocess.PIPE).stdout.decode().strip()

        with mock.patch.object(sys, "argv", [script]):
            run = self.client.start_run(self.client.get_or_create_experiment("git"))
        tags = _as_dict(self.server_run(run.run_id)["data"]["tags"])
        self.assertEqual(tags["mlflow.source.git.commit"], head)
        self.assertEqual(tags["mlflow.source.name"], script)

        outside = self.write("not-a-repo/x.py", b"")
        self.assertNotIn("mlflow.source.git.commit", cairn_client.system_tags(outside))


class LoggingTest(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.run = self.client.start_run(self.client.get_or_create_experiment("logging"))

    def test_params_metrics_and_tags_reach_the_server(self):
        run = self.run
        run.log_param("lr", 0.1)
        run.log_params({"layers": 3, "optimizer": "adam"})
        run.log_metric("loss", 0.9, step=0, timestamp=1000)
        run.log_metric("loss", 0.5, step=1, timestamp=2000)
        run.log_metrics({"acc": 0.75, "f1": 0.5}, step=2)
        run.set_tag("stage", "dev")

        data = self.server_run(run.run_id)["data"]
        self.assertEqual(_as_dict(data["params"]),
                         {"lr": "0.1", "layers": "3", "optimizer": "adam"})
        latest = {m["key"]: m for m in data["metrics"]}
        self.assertEqual(set(latest), {"loss", "acc", "f1"})
        self.assertEqual(latest["loss"]["value"], 0.5)
        self.assertEqual(int(latest["loss"]["step"]), 1)
        self.assertEqual(latest["acc"]["value"], 0.75)
        self.assertEqual(int(latest["acc"]["step"]), 2)
        self.assertEqual(_as_dict(data["tags"])["stage"], "dev")

        history = self.rest_get("metrics/get-history", run_id=run.run_id,
                                metric_key="loss")["metrics"]
        self.assertEqual(sorted((int(m["step"]), m["value"], int(m["timestamp"]))
                                for m in history),
                         [(0, 0.9, 1000), (1, 0.5, 2000)])

    def test_non_finite_metric_values_are_sent_as_valid_json(self):
        self.run.log_metric("nan", float("nan"))
        self.run.log_metrics({"inf": float("inf")})
        latest = {m["key"]: m["value"] for m in self.server_run(self.run.run_id)["data"]["metrics"]}
        self.assertTrue(math.isnan(float(latest["nan"])))
        self.assertEqual(float(latest["inf"]), float("inf"))

    def test_log_batch_splits_at_mlflow_limits_and_loses_nothing(self):
        metrics = {"m%04d" % i: float(i) for i in range(1200)}
        params = {"p%03d" % i: i for i in range(250)}
        tags = {"t%03d" % i: "v%d" % i for i in range(150)}
        bodies = []
        real_call = self.client.call

        def recording_call(method, endpoint, body=None, params=None):
            if endpoint == "runs/log-batch":
                bodies.append(body)
            return real_call(method, endpoint, body, params)

        with mock.patch.object(self.client, "call", recording_call):
            self.run.log_batch(metrics=metrics, params=params, tags=tags)

        self.assertGreater(len(bodies), 1)
        for body in bodies:
            n_m, n_p, n_t = (len(body.get(k, [])) for k in ("metrics", "params", "tags"))
            self.assertLessEqual(n_m, 1000)
            self.assertLessEqual(n_p, 100)
            self.assertLessEqual(n_t, 100)
            self.assertLessEqual(n_m + n_p + n_t, 1000)

        data = self.server_run(self.run.run_id)["data"]
        self.assertEqual({m["key"]: m["value"] for m in data["metrics"]}, metrics)
        self.assertEqual(_as_dict(data["params"]), {k: str(v) for k, v in params.items()})
        self.assertEqual({k: v for k, v in _as_dict(data["tags"]).items()
                          if k.startswith("t")}, tags)

    def test_changing_a_logged_param_is_rejected(self):
        self.run.log_param("seed", 1)
        self.run.log_param("seed", 1)  # same value again is allowed
        with self.assertRaises(CairnError) as ctx:
            self.run.log_param("seed", 2)
        self.assertEqual(ctx.exception.error_code, "INVALID_PARAMETER_VALUE")
        self.assertEqual(ctx.exception.http_status, 400)


class ArtifactTest(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.run = self.client.start_run(self.client.get_or_create_experiment("artifacts"))

    def test_file_round_trips_byte_for_byte(self):
        payload = bytes(range(256)) * 1000 + b"\r\n\x00end"
        local = self.write("model.bin", payload)
        self.assertEqual(self.run.log_artifact(local), ["model.bin"])
        self.assertEqual(self.fetch(self.proxy_url(self.run, "model.bin")), payload)
        self.assertEqual(self.run.read_artifact("model.bin"), payload)
        self.assertEqual(self.run.list_artifacts(),
                         [{"path": "model.bin", "is_dir": False, "file_size": len(payload)}])

    def test_artifact_path_puts_file_in_a_folder(self):
        local = self.write("metrics.json", b'{"auc": 0.9}')
        self.assertEqual(self.run.log_artifact(local, artifact_path="eval/v1"),
                         ["eval/v1/metrics.json"])
        self.assertEqual(self.fetch(self.proxy_url(self.run, "eval/v1/metrics.json")),
                         b'{"auc": 0.9}')
        self.assertEqual(self.run.list_artifacts(), [{"path": "eval", "is_dir": True,
                                                      "file_size": None}])
        self.assertEqual(self.run.list_artifacts("eval/v1"),
                         [{"path": "eval/v1/metrics.json", "is_dir": False, "file_size": 12}])

    def test_directory_is_uploaded_recursively(self):
        files = {"a.txt": b"alpha", "sub/b.bin": b"\x00\x01\x02",
                 "sub/deeper/c.txt": b"gamma", "sub/empty.txt": b""}
        for rel, data in files.items():
            self.write(os.path.join("tree", rel), data)
        written = self.run.log_artifact(os.path.join(self.tmp, "tree"), artifact_path="data")
        self.assertEqual(sorted(written), sorted("data/tree/" + rel for rel in files))

        for rel, data in files.items():
            self.assertEqual(self.fetch(self.proxy_url(self.run, "data/tree/" + rel)), data, rel)
        listing = {e["path"]: e for e in self.run.list_artifacts("data/tree")}
        self.assertEqual(set(listing), {"data/tree/a.txt", "data/tree/sub"})
        self.assertEqual(listing["data/tree/a.txt"]["file_size"], 5)
        self.assertFalse(listing["data/tree/a.txt"]["is_dir"])
        self.assertTrue(listing["data/tree/sub"]["is_dir"])
        sub = {e["path"]: e for e in self.run.list_artifacts("data/tree/sub")}
        self.assertEqual(set(sub), {"data/tree/sub/b.bin", "data/tree/sub/empty.txt",
                                    "data/tree/sub/deeper"})
        self.assertEqual(sub["data/tree/sub/empty.txt"]["file_size"], 0)

    def test_file_name_with_space_is_escaped(self):
        local = self.write("my report.txt", b"hello")
        self.run.log_artifact(local)
        self.assertEqual(self.fetch(self.proxy_url(self.run, "my report.txt")), b"hello")
        self.assertEqual([e["path"] for e in self.run.list_artifacts()], ["my report.txt"])

    def test_missing_artifact_is_404(self):
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            self.fetch(self.proxy_url(self.run, "nope.txt"))
        self.assertEqual(ctx.exception.code, 404)
        with self.assertRaises(CairnError) as err:
            self.run.read_artifact("nope.txt")
        self.assertEqual(err.exception.http_status, 404)


class ErrorTest(ServerTestCase):

    def test_unknown_run_raises_resource_does_not_exist(self):
        with self.assertRaises(CairnError) as ctx:
            self.client.get_run("0" * 32)
        self.assertEqual(ctx.exception.error_code, "RESOURCE_DOES_NOT_EXIST")
        self.assertEqual(ctx.exception.http_status, 404)
        self.assertTrue(ctx.exception.message)

        ghost = Run(self.client, {"info": {"run_id": "f" * 32, "experiment_id": "0"}})
        with self.assertRaises(CairnError) as ctx:
            ghost.log_metric("x", 1.0)
        self.assertEqual(ctx.exception.error_code, "RESOURCE_DOES_NOT_EXIST")

    def test_unknown_experiment_raises(self):
        with self.assertRaises(CairnError) as ctx:
            self.client.start_run(experiment_id="987654321")
        self.assertEqual(ctx.exception.error_code, "RESOURCE_DOES_NOT_EXIST")


class ClientWithoutServerTest(_IsolatedEnvTestCase):
    """Transport behaviour that needs no Cairn binary."""

    def test_url_comes_from_argument_then_environment_then_default(self):
        self.assertEqual(Client().url, "http://127.0.0.1:5050")
        os.environ["MLFLOW_TRACKING_URI"] = "http://mlflow:5000/"
        self.assertEqual(Client().url, "http://mlflow:5000")
        os.environ["CAIRN_URL"] = "http://cairn:1"
        self.assertEqual(Client().url, "http://cairn:1")
        self.assertEqual(Client("http://explicit:2").url, "http://explicit:2")
        del os.environ["CAIRN_URL"]
        os.environ["MLFLOW_TRACKING_URI"] = "./mlruns"  # a local store: not ours
        self.assertEqual(Client().url, "http://127.0.0.1:5050")

    def test_artifact_uri_mapping(self):
        client = Client("http://h:1")
        self.assertEqual(client.artifact_url("mlflow-artifacts:/1/abc/artifacts", "d/x y.txt"),
                         "http://h:1/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/d/x%20y.txt")
        self.assertEqual(client.artifact_url("mlflow-artifacts://other:9/1/abc/artifacts"),
                         "http://other:9/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts")
        with self.assertRaises(CairnError):
            client.artifact_url("s3://bucket/x")

    def test_connection_refused_is_retried_then_raised(self):
        client = Client("http://127.0.0.1:%d" % _free_port(), timeout=5)
        with self.assertRaises(CairnError) as ctx:
            client.get_run("abc")
        self.assertEqual(ctx.exception.error_code, "CONNECTION_ERROR")
        self.assertIsNone(ctx.exception.http_status)

    def test_503_is_retried_and_other_errors_are_not(self):
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                if "flaky" in self.path and len(hits) < 3:
                    status, body = 503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}
                elif "flaky" in self.path:
                    status, body = 200, {"experiment": {"experiment_id": "7"}}
                else:
                    status, body = 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        client = Client("http://127.0.0.1:%d" % server.server_address[1], timeout=5)

        self.assertEqual(client.get_or_create_experiment("flaky"), "7")
        self.assertEqual(len(hits), 3)

        del hits[:]
        with self.assertRaises(CairnError) as ctx:
            client.get_run("bad")
        self.assertEqual((ctx.exception.error_code, ctx.exception.http_status),
                         ("INVALID_PARAMETER_VALUE", 400))
        self.assertEqual(ctx.exception.message, "bad")
        self.assertEqual(len(hits), 1)


if __name__ == "__main__":
    unittest.main()
