"""Cairn tracking client: a dependency-free helper for scripts without MLflow.

This module owns the Python side of Cairn's MLflow-compatible tracking API for
scripts that cannot or do not want to install the ``mlflow`` package. It speaks
the same REST calls (``/api/2.0/mlflow/...``) and JSON shapes as MLflow's own
client, uploads artifacts through the MLflow artifact proxy
(``/api/2.0/mlflow-artifacts/artifacts/...``) and sets the same system tags, so
a run logged with it looks exactly like one logged with ``mlflow``.

It uses only the Python standard library (``urllib``, ``json``). A ``Client``
holds no connection state and is safe to share between threads; a ``Run`` is
meant to be used by one thread.

Example::

    from cairn_client import Client

    client = Client()  # CAIRN_URL, MLFLOW_TRACKING_URI or http://127.0.0.1:5050
    exp_id = client.get_or_create_experiment("demo")
    with client.start_run(exp_id, run_name="first") as run:
        run.log_params({"lr": 0.1})
        for step in range(3):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_artifact("model.pkl")
    # leaving the block ends the run FINISHED, or FAILED on an exception
"""

import getpass
import http.client
import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["CairnError", "Client", "Run", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:5050"

# MLflow's server rejects a log-batch request above these sizes
# (mlflow/utils/validation.py), so larger batches are split client-side.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000

# Transient failures worth retrying: the server is starting, restarting or
# shedding load. Retrying anything else would only repeat the same answer.
_RETRY_STATUSES = (429, 503)
_ATTEMPTS = 3
_BACKOFF_SECONDS = 0.25

_TERMINAL_STATUSES = ("FINISHED", "FAILED", "KILLED")


class CairnError(Exception):
    """A request failed. ``error_code`` is the server's code (MLflow style,
    e.g. ``RESOURCE_DOES_NOT_EXIST``) or a client-side one such as
    ``CONNECTION_ERROR``; ``http_status`` is ``None`` when no answer came."""

    def __init__(self, message, error_code="INTERNAL_ERROR", http_status=None):
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.http_status = http_status

    def __str__(self):
        status = "" if self.http_status is None else " (HTTP %d)" % self.http_status
        return "%s%s: %s" % (self.error_code, status, self.message)


def _now_ms():
    return int(time.time() * 1000)


def _json_number(value):
    """Encode a metric value as proto3 JSON does: NaN and infinities become
    strings, because bare ``NaN`` (what ``json.dumps`` writes) is not JSON."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _to_int(value):
    """int64 fields may arrive as JSON strings (proto3 JSON mapping)."""
    return None if value is None else int(value)


def _git_commit(path):
    """HEAD commit of the git checkout containing ``path``, or None."""
    directory = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        out = subprocess.run(
            ["git", "-C", directory, "rev-parse", "HEAD"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.decode("ascii", "replace").strip()
    return commit or None


def system_tags(source_name=None):
    """The context tags MLflow's client puts on every new run."""
    source_name = source_name if source_name is not None else (
        sys.argv[0] if sys.argv and sys.argv[0] else "<console>")
    tags = {
        "mlflow.source.name": source_name,
        "mlflow.source.type": "LOCAL",
    }
    try:
        tags["mlflow.user"] = getpass.getuser()
    except Exception:  # no login name (e.g. a container with an unknown uid)
        pass
    if source_name != "<console>" and os.path.exists(source_name):
        commit = _git_commit(source_name)
        if commit:
            tags["mlflow.source.git.commit"] = commit
    return tags


def _kv_list(mapping):
    return [{"key": str(k), "value": str(v)} for k, v in mapping.items()]


def _default_url():
    for var in ("CAIRN_URL", "MLFLOW_TRACKING_URI"):
        value = os.environ.get(var, "").strip()
        # MLFLOW_TRACKING_URI may name a local store ("./mlruns", "file:...")
        # that only the mlflow package understands; only HTTP ones apply here.
        if value.startswith(("http://", "https://")):
            return value
    return DEFAULT_URL


class Client:
    """Talks to one Cairn (or MLflow) tracking server over HTTP."""

    def __init__(self, url=None, timeout=30.0, token=None):
        self.url = (url or _default_url()).rstrip("/")
        self.timeout = timeout
        self.token = token if token is not None else (
            os.environ.get("CAIRN_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN"))

    # ---- transport -------------------------------------------------------

    def _send(self, method, url, body=None, file_path=None, content_type=None):
        """One HTTP exchange with retries; returns the response body bytes.

        ``file_path`` streams a file as the body (re-opened on every attempt
        so a retry sends it whole). Only connection failures and 429/503 are
        retried: a timeout may mean the server applied the request, and
        replaying e.g. runs/create would make a second run.
        """
        last_error = None
        for attempt in range(_ATTEMPTS):
            if attempt:
                time.sleep(_BACKOFF_SECONDS * (2 ** (attempt - 1)))
            headers = {"Accept": "application/json"}
            if content_type:
                headers["Content-Type"] = content_type
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            stream = None
            data = body
            if file_path is not None:
                stream = open(file_path, "rb")
                data = stream
                headers["Content-Length"] = str(os.path.getsize(file_path))
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as e:
                last_error = self._http_error(e)
                if e.code not in _RETRY_STATUSES:
                    raise last_error from None
            except urllib.error.URLError as e:
                if isinstance(e.reason, TimeoutError) or "timed out" in str(e.reason):
                    raise CairnError("%s %s timed out after %ss" % (method, url, self.timeout),
                                     "TIMEOUT") from None
                last_error = CairnError("%s %s: %s" % (method, url, e.reason), "CONNECTION_ERROR")
            except (ConnectionError, http.client.HTTPException) as e:
                last_error = CairnError("%s %s: %s" % (method, url, e), "CONNECTION_ERROR")
            except TimeoutError:
                raise CairnError("%s %s timed out after %ss" % (method, url, self.timeout),
                                 "TIMEOUT") from None
            finally:
                if stream is not None:
                    stream.close()
        raise last_error

    @staticmethod
    def _http_error(e):
        """Turn an HTTP error answer into a CairnError, reading MLflow's
        ``{"error_code", "message"}`` body when there is one."""
        raw = e.read() or b""
        code, message = None, raw.decode("utf-8", "replace").strip() or e.reason
        try:
            payload = json.loads(raw)
            if isinstance(payload, dict):
                code = payload.get("error_code")
                message = payload.get("message", message)
        except ValueError:
            pass
        if not code:
            code = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                    404: "NOT_FOUND", 429: "REQUEST_LIMIT_EXCEEDED",
                    503: "TEMPORARILY_UNAVAILABLE"}.get(e.code, "INTERNAL_ERROR")
        return CairnError(str(message), code, e.code)

    def call(self, method, endpoint, body=None, params=None):
        """Call ``/api/2.0/mlflow/<endpoint>`` and return the decoded JSON.

        ``body`` is sent as JSON (POST/PATCH); ``params`` as the query string.
        """
        url = "%s/api/2.0/mlflow/%s" % (self.url, endpoint)
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            url += "?" + urllib.parse.urlencode(query)
        data = None
        if body is not None:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
        raw = self._send(method, url, body=data,
                         content_type="application/json" if data is not None else None)
        return json.loads(raw) if raw.strip() else {}

    # ---- experiments -----------------------------------------------------

    def get_or_create_experiment(self, name):
        """The id of the experiment called ``name``, creating it if needed."""
        try:
            reply = self.call("GET", "experiments/get-by-name", params={"experiment_name": name})
            return reply["experiment"]["experiment_id"]
        except CairnError as e:
            if e.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
        try:
            return self.call("POST", "experiments/create", {"name": name})["experiment_id"]
        except CairnError as e:
            # Another process created it between our two calls.
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            reply = self.call("GET", "experiments/get-by-name", params={"experiment_name": name})
            return reply["experiment"]["experiment_id"]

    # ---- runs ------------------------------------------------------------

    def get_run(self, run_id):
        """The run as the server returns it: ``{"info": ..., "data": ...}``."""
        return self.call("GET", "runs/get", params={"run_id": run_id})["run"]

    def start_run(self, experiment_id=None, run_name=None, tags=None):
        """Create a run and return a ``Run`` for logging to it.

        With no ``experiment_id`` and ``MLFLOW_RUN_ID`` or ``CAIRN_RUN_ID`` set
        (a pipeline step or ``mlflow run`` launched this script), the existing
        run is attached to instead, as ``mlflow.start_run()`` does. Otherwise
        the experiment defaults to ``MLFLOW_EXPERIMENT_ID``, then
        ``MLFLOW_EXPERIMENT_NAME``, then ``"0"`` (the Default experiment).
        """
        if experiment_id is None:
            existing = os.environ.get("MLFLOW_RUN_ID") or os.environ.get("CAIRN_RUN_ID")
            if existing:
                run = Run(self, self.get_run(existing))
                if run.info.get("status") != "RUNNING":
                    self.call("POST", "runs/update", {"run_id": run.run_id, "status": "RUNNING"})
                if tags:
                    run.log_batch(tags=tags)
                return run
            experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
            if not experiment_id and os.environ.get("MLFLOW_EXPERIMENT_NAME"):
                experiment_id = self.get_or_create_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])
            experiment_id = experiment_id or "0"

        all_tags = system_tags()
        all_tags.update(tags or {})  # the caller's tags win, as in MLflow
        body = {
            "experiment_id": str(experiment_id),
            "start_time": _now_ms(),
            "tags": _kv_list(all_tags),
        }
        if all_tags.get("mlflow.user"):
            body["user_id"] = all_tags["mlflow.user"]
        if run_name:
            body["run_name"] = run_name
        return Run(self, self.call("POST", "runs/create", body)["run"])

    # ---- artifacts -------------------------------------------------------

    def artifact_url(self, artifact_uri, path=""):
        """The HTTP URL of ``path`` under a run's ``artifact_uri``.

        ``mlflow-artifacts:/<exp>/<run>/artifacts`` (optionally with a host,
        ``mlflow-artifacts://host:port/...``) maps onto the proxy endpoint
        ``/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts``.
        """
        parsed = urllib.parse.urlparse(artifact_uri)
        if parsed.scheme in ("http", "https"):
            base = artifact_uri.rstrip("/")
        elif parsed.scheme == "mlflow-artifacts":
            server = ("http://" + parsed.netloc) if parsed.netloc else self.url
            base = "%s/api/2.0/mlflow-artifacts/artifacts/%s" % (
                server, urllib.parse.quote(parsed.path.strip("/")))
        else:
            raise CairnError(
                "artifact URI %r is not served over HTTP; this client uploads only "
                "through the mlflow-artifacts proxy" % artifact_uri, "INVALID_PARAMETER_VALUE")
        path = path.replace(os.sep, "/").strip("/")
        return base + ("/" + urllib.parse.quote(path) if path else "")


class Run:
    """One run being logged. Use as a context manager to end it on exit:
    FINISHED normally, FAILED on an exception, KILLED on Ctrl-C."""

    def __init__(self, client, run):
        self.client = client
        self.info = run["info"]
        self.data = run.get("data", {})
        self.run_id = self.info.get("run_id") or self.info["run_uuid"]
        self.experiment_id = self.info.get("experiment_id")
        self.artifact_uri = self.info.get("artifact_uri", "")
        self._ended = False

    def __repr__(self):
        return "<Run %s experiment=%s>" % (self.run_id, self.experiment_id)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        try:
            self.end(status)
        except CairnError:
            if exc_type is None:
                raise  # don't let a failed end() hide the original exception
        return False

    # ---- params, metrics, tags ------------------------------------------

    def log_param(self, key, value):
        self.client.call("POST", "runs/log-parameter",
                         {"run_id": self.run_id, "key": str(key), "value": str(value)})

    def log_params(self, params):
        self.log_batch(params=params)

    def log_metric(self, key, value, step=0, timestamp=None):
        self.client.call("POST", "runs/log-metric", {
            "run_id": self.run_id, "key": str(key), "value": _json_number(value),
            "timestamp": _now_ms() if timestamp is None else int(timestamp),
            "step": int(step)})

    def log_metrics(self, metrics, step=0):
        self.log_batch(metrics=metrics, step=step)

    def set_tag(self, key, value):
        self.client.call("POST", "runs/set-tag",
                         {"run_id": self.run_id, "key": str(key), "value": str(value)})

    def log_input(self, name, digest, source, source_type="local", context="training"):
        """Records a dataset the run consumed (MLflow's runs/log-inputs). When
        `source` names a Cairn data version ("azureml:flights:3" or
        "azureml:flights@latest"), the lineage graph links that version too."""
        self.client.call("POST", "runs/log-inputs", {
            "run_id": self.run_id,
            "datasets": [{
                "tags": [{"key": "mlflow.data.context", "value": str(context)}],
                "dataset": {"name": str(name), "digest": str(digest),
                            "source_type": str(source_type), "source": str(source)}}]})

    def log_batch(self, metrics=None, params=None, tags=None, step=0):
        """Log many values in as few runs/log-batch requests as MLflow allows.

        ``metrics`` is a dict ``{key: value}`` (all at ``step``) or a list of
        ``{"key", "value", "step"?, "timestamp"?}`` dicts for full control;
        ``params`` and ``tags`` are dicts.
        """
        now = _now_ms()
        if isinstance(metrics, dict):
            metrics = [{"key": k, "value": v} for k, v in metrics.items()]
        metric_list = [{"key": str(m["key"]), "value": _json_number(m["value"]),
                        "timestamp": int(m.get("timestamp") or now),
                        "step": int(m.get("step", step))} for m in (metrics or [])]
        param_list = _kv_list(params or {})
        tag_list = _kv_list(tags or {})
        while metric_list or param_list or tag_list:
            chunk_params = param_list[:MAX_PARAMS_PER_BATCH]
            chunk_tags = tag_list[:MAX_TAGS_PER_BATCH]
            room = min(MAX_METRICS_PER_BATCH,
                       MAX_ENTITIES_PER_BATCH - len(chunk_params) - len(chunk_tags))
            chunk_metrics = metric_list[:room]
            del param_list[:len(chunk_params)]
            del tag_list[:len(chunk_tags)]
            del metric_list[:len(chunk_metrics)]
            body = {"run_id": self.run_id}
            if chunk_metrics:
                body["metrics"] = chunk_metrics
            if chunk_params:
                body["params"] = chunk_params
            if chunk_tags:
                body["tags"] = chunk_tags
            self.client.call("POST", "runs/log-batch", body)

    # ---- artifacts -------------------------------------------------------

    def artifact_url(self, path=""):
        """The proxy URL of ``path`` inside this run's artifacts."""
        return self.client.artifact_url(self.artifact_uri, path)

    def log_artifact(self, local_path, artifact_path=None):
        """Upload a file, or a directory tree, into this run's artifacts.

        Like MLflow, the file (or directory) keeps its base name and lands
        under ``artifact_path`` (a folder inside the run's artifacts).
        Returns the artifact paths written.
        """
        prefix = (artifact_path or "").replace(os.sep, "/").strip("/")
        name = os.path.basename(os.path.normpath(local_path))
        target = prefix + "/" + name if prefix else name
        if not os.path.isdir(local_path):
            self._upload(local_path, target)
            return [target]
        written = []
        for root, dirs, files in os.walk(local_path):
            dirs.sort()  # deterministic upload order
            rel_root = os.path.relpath(root, local_path)
            for file_name in sorted(files):
                rel = file_name if rel_root == "." else os.path.join(rel_root, file_name)
                dest = target + "/" + rel.replace(os.sep, "/")
                self._upload(os.path.join(root, file_name), dest)
                written.append(dest)
        return written

    def _upload(self, local_file, dest):
        self.client._send("PUT", self.artifact_url(dest), file_path=local_file,
                          content_type="application/octet-stream")

    def read_artifact(self, path):
        """Download one artifact file and return its bytes."""
        return self.client._send("GET", self.artifact_url(path))

    def list_artifacts(self, path=None):
        """Entries directly inside ``path`` (the root when None), as dicts
        ``{"path", "is_dir", "file_size"}`` with ``file_size`` an int for files."""
        entries, token = [], None
        while True:
            reply = self.client.call("GET", "artifacts/list", params={
                "run_id": self.run_id, "path": path, "page_token": token})
            for entry in reply.get("files", []):
                entries.append({"path": entry["path"],
                                "is_dir": bool(entry.get("is_dir", False)),
                                "file_size": _to_int(entry.get("file_size"))})
            token = reply.get("next_page_token")
            if not token:
                return entries

    # ---- lifecycle -------------------------------------------------------

    def end(self, status="FINISHED"):
        """Mark the run ``status`` (FINISHED, FAILED or KILLED) with an end
        time. Ending twice is a no-op, so an explicit end() inside a ``with``
        block wins over the automatic one."""
        if self._ended:
            return
        if status not in _TERMINAL_STATUSES:
            raise ValueError("status must be one of %s" % (_TERMINAL_STATUSES,))
        self.client.call("POST", "runs/update",
                         {"run_id": self.run_id, "status": status, "end_time": _now_ms()})
        self._ended = True
