"""End-to-end harness: runs the real `cairn` binary and talks to it over HTTP.

Standard library only (runs under Debian's /usr/bin/python3). Every wait is bounded, so a server
that misbehaves makes a test fail instead of hanging the suite.

Environment:
  CAIRN_BIN        path of the binary (default: <repo>/build/cairn)
  CAIRN_E2E_KEEP   if set, temp workspaces are kept (their paths are printed) for inspection
  CAIRN_E2E_SKIP_MISSING  if set, a missing binary skips the tests instead of failing them
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "cairn")

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 30.0

API = "/api/2.0/mlflow"
AJAX_API = "/ajax-api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"


def cairn_bin():
    return os.environ.get("CAIRN_BIN", DEFAULT_BIN)


def require_binary():
    """A missing binary fails the suite (so CI cannot go green without running it), unless
    CAIRN_E2E_SKIP_MISSING is set, in which case the tests are skipped."""
    path = cairn_bin()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return
    msg = (f"cairn binary not found or not executable at {path!r} "
           "(build it with `make build`, or set CAIRN_BIN)")
    if os.environ.get("CAIRN_E2E_SKIP_MISSING"):
        raise unittest.SkipTest(msg)
    raise AssertionError(msg)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are returned to the test as-is: MLflow's API never redirects."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


class Response:
    """Status, headers and body of one HTTP exchange; `.json` is None if the body is not JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def __repr__(self):
        text = self.body[:600].decode("utf-8", "replace")
        return f"<HTTP {self.status} {text!r}>"


def http_request(base_url, method, path, body=None, params=None, headers=None,
                 timeout=REQUEST_TIMEOUT_S):
    """One HTTP request. `body`: dict/list → JSON, bytes/str → sent verbatim, None → no body.
    `params`: dict (values may be lists for repeated keys) or list of pairs, appended as a query
    string. `path` is sent exactly as given (no normalisation of '..' or '%2e')."""
    url = base_url + path
    if params:
        url += ("&" if "?" in path else "?") + urllib.parse.urlencode(params, doseq=True)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = bytes(body)
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return Response(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as e:
        try:
            payload = e.read()
        except Exception:  # noqa: BLE001 - body of an error response is best-effort
            payload = b""
        return Response(e.code, dict(e.headers or {}), payload)


class CairnServer:
    """One `cairn server` process on a workspace directory.

    The workspace lives in a fresh temp root unless `workspace` is given (used to restart on the
    same workspace). stderr/stdout go to files under the temp root so they survive a crash."""

    def __init__(self, workspace=None, root=None, extra_args=None):
        self.extra_args = list(extra_args or [])
        self.root = root or tempfile.mkdtemp(prefix="cairn-e2e-")
        self.workspace = workspace or os.path.join(self.root, "ws")
        os.makedirs(self.workspace, exist_ok=True)
        self.proc = None
        self.port = None
        self._generation = 0
        self.stderr_path = None
        self.stdout_path = None
        self.port_file = None

    # -- lifecycle ---------------------------------------------------------------------------

    def _spawn(self):
        require_binary()
        self._generation += 1
        gen = self._generation
        self.port_file = os.path.join(self.root, f"port.{gen}")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.stderr_path = os.path.join(self.root, f"server.{gen}.stderr")
        self.stdout_path = os.path.join(self.root, f"server.{gen}.stdout")
        cmd = [cairn_bin(), "server", "--workspace", self.workspace, "--host", "127.0.0.1",
               "--port", "0", "--port-file", self.port_file] + self.extra_args
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        self.port = None
        return cmd

    def start(self, timeout=START_TIMEOUT_S):
        """Start and wait until the port file names a port and GET /health answers 200 there.
        The port file is re-read on every poll, so a partially written file cannot wedge us."""
        cmd = self._spawn()
        deadline = time.monotonic() + timeout
        last_error = "port file never appeared"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"cairn exited early with code {self.proc.returncode}: {' '.join(cmd)}\n"
                    + self.logs())
            try:
                with open(self.port_file) as f:
                    text = f.read().strip()
            except FileNotFoundError:
                text = ""
            if text.isdigit() and 0 < int(text) < 65536:
                self.port = int(text)
                try:
                    r = http_request(self.base_url, "GET", "/health", timeout=2)
                    if r.status == 200:
                        return self
                    last_error = f"GET /health on port {self.port} returned {r}"
                except OSError as e:
                    last_error = f"GET /health on port {self.port} failed: {e!r}"
            elif text:
                last_error = f"port file holds {text!r}"
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"cairn not ready within {timeout}s ({last_error}); port file "
                             f"{self.port_file}; command: {' '.join(cmd)}\n" + self.logs())

    def run_expecting_exit(self, timeout=START_TIMEOUT_S):
        """Start the server when it is expected to refuse to run; returns (exit code, stderr).
        If it is still running after `timeout`, it is killed and an AssertionError raised."""
        self._spawn()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"cairn did not exit within {timeout}s (it was expected to "
                                 "refuse to start)\n" + self.logs())
        return self.proc.returncode, self.stderr_text()

    def stop(self, timeout=STOP_TIMEOUT_S):
        """Graceful stop: SIGTERM, wait, then SIGKILL. Returns the exit code (or None)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            sys.stderr.write(f"[harness] cairn ignored SIGTERM for {timeout}s; killing\n")
            self.kill()
            return None

    def kill(self):
        """SIGKILL (kill -9) the server process, simulating a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass

    def cleanup(self):
        self.stop()
        if os.environ.get("CAIRN_E2E_KEEP"):
            sys.stderr.write(f"[harness] kept {self.root}\n")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- diagnostics ---------------------------------------------------------------------------

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def logs(self, tail=8000):
        """stderr/stdout of every start of this server (restarts included), newest last."""
        parts = []
        paths = []
        for gen in range(1, self._generation + 1):
            paths += [(f"stderr #{gen}", os.path.join(self.root, f"server.{gen}.stderr")),
                      (f"stdout #{gen}", os.path.join(self.root, f"server.{gen}.stdout"))]
        for label, path in paths:
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except (OSError, TypeError):
                continue
            if text:
                parts.append(f"----- cairn {label} ({path}) -----\n{text[-tail:]}")
        return "\n".join(parts) or "(server wrote nothing to stderr/stdout)"

    # -- HTTP ----------------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, params=None, headers=None,
                timeout=REQUEST_TIMEOUT_S):
        return http_request(self.base_url, method, path, body, params, headers, timeout)

    def call(self, method, path, body=None, params=None, headers=None):
        """JSON call: returns (status, parsed_json_or_None)."""
        r = self.request(method, path, body, params, headers)
        return r.status, r.json

    def get(self, endpoint, params=None, prefix=API):
        return self.call("GET", prefix + endpoint, params=params)

    def post(self, endpoint, body, prefix=API):
        return self.call("POST", prefix + endpoint, body=body)


class ServerTestCase(unittest.TestCase):
    """One server per test class (tests use their own experiment names to stay independent).
    When a test fails, the server's stderr is printed so the failure can be diagnosed."""

    server = None
    server_args = []  # extra `cairn server` arguments for the class's server

    @classmethod
    def setUpClass(cls):
        server = CairnServer(extra_args=cls.server_args)
        try:
            server.start()
        except BaseException:
            server.cleanup()
            raise
        cls.server = server

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.cleanup()
            cls.server = None

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            srv = type(self).server
            if srv is not None:
                sys.stderr.write(f"\n[harness] {self.id()} failed; server output:\n"
                                 + srv.logs(tail=4000) + "\n")
        return out

    # -- helpers shared by tests ---------------------------------------------------------------

    def ok(self, status_body, what):
        """Assert HTTP 200 and return the parsed body."""
        status, body = status_body
        self.assertEqual(status, 200, f"{what}: expected HTTP 200, got {status} {body}")
        self.assertIsInstance(body, dict, f"{what}: expected a JSON object body, got {body!r}")
        return body

    def err(self, status_body, status, codes, what):
        """Assert an MLflow error: HTTP `status` and error_code in `codes` (str or tuple)."""
        got_status, body = status_body
        if isinstance(codes, str):
            codes = (codes,)
        self.assertEqual(got_status, status,
                         f"{what}: expected HTTP {status} {'/'.join(codes)}, got {got_status} "
                         f"{body}")
        self.assertIsInstance(body, dict, f"{what}: error body must be JSON "
                                          f"{{error_code, message}}, got {body!r}")
        self.assertIn(body.get("error_code"), codes,
                      f"{what}: expected error_code in {codes}, got {body}")
        self.assertIsInstance(body.get("message"), str,
                              f"{what}: error body lacks a string 'message': {body}")
        return body

    def files_outside_workspace(self, marker):
        """Files named `marker` outside the workspace: a traversal aims at the temp root that
        holds the workspace, so that is walked, and the top level of /tmp is checked too."""
        hits = []
        ws = os.path.realpath(self.server.workspace)
        for top in (self.server.root, "/tmp"):
            for dirpath, dirs, files in os.walk(top):
                if os.path.realpath(dirpath) == ws:
                    dirs[:] = []
                    continue
                hits += [os.path.join(dirpath, f) for f in files + dirs if marker in f]
                if top == "/tmp":
                    break  # only the top level of /tmp
        return hits


def now_ms():
    return int(time.time() * 1000)


def kv_dict(items):
    """MLflow's [{key, value}, ...] list → dict (asserting keys are unique)."""
    out = {}
    for item in items or []:
        assert item["key"] not in out, f"duplicate key {item['key']!r} in {items}"
        out[item["key"]] = item["value"]
    return out
