"""The flights demo pipeline (examples/flights/pipeline.yml) end to end on a small input.

Generates a few hundred synthetic records shaped like vega-datasets' flights-20k.json (date,
delay, distance, origin, destination; no npm needed), registers them as the data asset
`flights`, and runs prep -> validate -> train -> evaluate -> register (plus the scikit-learn
baseline step, a Python script logging through the embedded cairn_client helper) through
`cairn job create --stream` on a real server whose PATH does NOT hold the cairn binary: the
built-in components' `cairn component ...` commands must find the server's own executable.
A second submission must reuse every step; a record breaking the schema must stop the
pipeline at validate.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_flights_pipeline.py -v
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ServerTestCase, cairn_bin  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINE = os.path.join(REPO, "examples", "flights", "pipeline.yml")
STEPS = ["prep", "baseline", "validate", "train", "evaluate", "register"]
AIRPORTS = ["ATL", "DEN", "LAS", "MCI", "MDW", "OAK", "PHX", "SAN", "SEA", "SFO"]


def synthetic_flights(n, seed=7):
    """Flight records; evening and long flights are delayed more often (a learnable signal)."""
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        month, day = rng.randint(1, 3), rng.randint(1, 28)
        hour, minute = rng.randint(5, 23), rng.randint(0, 59)
        distance = rng.randint(100, 2500)
        p_late = 0.1 + 0.5 * (hour >= 17) + 0.2 * (distance > 1500)
        delay = rng.randint(16, 120) if rng.random() < p_late else rng.randint(-10, 15)
        origin, destination = rng.sample(AIRPORTS, 2)
        records.append({"date": f"2001/{month:02d}/{day:02d} {hour:02d}:{minute:02d}",
                        "delay": delay, "distance": distance,
                        "origin": origin, "destination": destination})
    return records


class FlightsPipelineTest(ServerTestCase):
    # Debian's Python builds the baseline step's venv: it is the one with python3-sklearn.
    server_args = ["--python", "/usr/bin/python3"]

    @classmethod
    def setUpClass(cls):
        # The server (and so its steps) gets a PATH without the cairn binary's folder.
        cls.saved_path = os.environ.get("PATH", "")
        bin_dir = os.path.dirname(os.path.realpath(cairn_bin()))
        os.environ["PATH"] = ":".join(
            d for d in cls.saved_path.split(":")
            if d and os.path.realpath(d) != bin_dir) or "/usr/bin:/bin"
        try:
            super().setUpClass()
        finally:
            os.environ["PATH"] = cls.saved_path

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-flights-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cli(self, *args, expect=0, timeout=300):
        env = dict(os.environ, HOME=self.tmp)
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=timeout, env=env)
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             f"cairn {' '.join(args)}: exit {p.returncode}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def cli_json(self, *args, expect=0):
        return json.loads(self.cli("--json", *args, expect=expect).stdout)

    def register_flights(self, records):
        path = os.path.join(self.tmp, "flights.json")
        with open(path, "w") as f:
            json.dump(records, f)
        self.cli("data", "create", "--name", "flights", "--path", path)

    def steps_of(self, job):
        shown = self.cli_json("job", "show", job)["job"]
        return shown, {s["name"]: s for s in shown["steps"]}

    def test_pipeline_runs_then_reuses_every_step_then_gates_bad_data(self):
        self.register_flights(synthetic_flights(400))
        self.cli("environment", "create", "-f",
                 os.path.join(REPO, "examples", "flights", "baseline", "environment.yml"))
        first = self.cli("job", "create", "-f", PIPELINE, "--name", "flights-1", "--stream")
        self.assertIn("[validate]", first.stdout)
        job, steps = self.steps_of("flights-1")
        self.assertEqual(job["status"], "Completed", job)
        self.assertEqual(sorted(steps), sorted(STEPS))
        for name in STEPS:
            self.assertEqual(steps[name]["status"], "Completed", steps[name])
            self.assertFalse(steps[name].get("reused_from"), steps[name])

        # Evaluate logged real metrics to its run; register made version 1 the champion.
        run = self.cli_json("run", "show", steps["evaluate"]["run_id"])["run"]
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        self.assertGreater(metrics["roc_auc"], 0.6, metrics)
        self.assertGreater(metrics["accuracy"], 0.5, metrics)
        # The scikit-learn step logged into its own step run through the embedded helper.
        base = self.cli_json("run", "show", steps["baseline"]["run_id"])["run"]
        base_metrics = {m["key"]: m["value"] for m in base["data"]["metrics"]}
        self.assertGreater(base_metrics["roc_auc"], 0.6, base_metrics)
        base_params = {p["key"]: p["value"] for p in base["data"]["params"]}
        self.assertEqual(base_params["model"], "sklearn.LogisticRegression", base_params)
        self.assertEqual(base_params["one_hot_features"], "origin,destination", base_params)
        model = self.cli_json("model", "show", "flights-delay@champion")
        self.assertEqual(model["model_version"]["version"], "1")
        self.assertEqual(model["model_version"]["run_id"], steps["train"]["run_id"])

        # Unchanged data and YAML: every step is reused from the first run's steps.
        second = self.cli("job", "create", "-f", PIPELINE, "--name", "flights-2", "--stream")
        job2, steps2 = self.steps_of("flights-2")
        self.assertEqual(job2["status"], "Completed", job2)
        for name in STEPS:
            self.assertEqual(steps2[name]["status"], "Completed", steps2[name])
            self.assertEqual(steps2[name]["reused_from"], steps[name]["run_id"], steps2[name])
        self.assertIn("reused from run " + steps["train"]["run_id"], second.stdout)
        # The job ends with (not before) its last step, also when one pass reused them all.
        self.assertGreaterEqual(job2["ended"], max(s["ended"] for s in steps2.values()), job2)
        versions = self.cli_json("model", "list", "--name", "flights-delay")
        self.assertEqual(len(versions["model_versions"]), 1, versions)

        # A new data version with an impossible record fails validate; nothing downstream runs.
        bad = synthetic_flights(400, seed=8)
        bad[3]["distance"] = -50
        self.register_flights(bad)
        self.cli("job", "create", "-f", PIPELINE, "--name", "flights-3", "--stream", expect=1)
        job3, steps3 = self.steps_of("flights-3")
        self.assertEqual(job3["status"], "Failed", job3)
        self.assertEqual(steps3["prep"]["status"], "Completed")
        self.assertEqual(steps3["validate"]["status"], "Failed")
        for name in ("train", "evaluate", "register"):
            self.assertEqual(steps3[name]["status"], "Canceled", steps3[name])
        # The baseline does not depend on validate: it may finish or be stopped with the job.
        self.assertIn(steps3["baseline"]["status"], ("Completed", "Canceled"), steps3["baseline"])


if __name__ == "__main__":
    unittest.main()
