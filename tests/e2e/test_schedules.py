"""Schedules, published pipelines and published events, end to end (CLI + REST + runner).

  * ScheduleLifecycleTest: `cairn schedule create|list|show|disable|enable|delete` with a cron
    trigger (show prints the next 5 fire times), bad input refused.
  * DataAssetTriggerTest: a new version registered by `cairn data create` fires the schedule,
    with the new version bound to the trigger's input.
  * EventTriggerTest: an event published through POST /api/2.0/cairn/events/publish fires a
    schedule whose type and filter match; reserved and malformed types are refused.
  * PublishedPipelineTest: `cairn pipeline publish`, then a run by REST with an input override;
    the job completes and its log shows the override.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_schedules.py -v
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ServerTestCase  # noqa: E402
from test_jobs import CliMixin, write  # noqa: E402

CAIRN = "/api/2.0/cairn/"


class Base(CliMixin, ServerTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-sched-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def schedule(self, name):
        return self.ok(self.server.get("schedules/get", {"name": name}, prefix=CAIRN),
                       "schedules/get")["schedule"]

    def wait_for_jobs(self, name, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.schedule(name)
            if len(s["recent_jobs"]) >= count:
                return s
            time.sleep(0.2)
        self.fail(f"schedule {name} did not fire {count} job(s) in {timeout}s: {s}")

    def wait_job(self, job):
        body = self.ok(self.server.get("jobs/wait", {"name": job, "timeout_seconds": 60},
                                       prefix=CAIRN), "jobs/wait")
        return body["job"]

    def log(self, job):
        return self.ok(self.server.get("jobs/logs", {"name": job}, prefix=CAIRN),
                       "jobs/logs")["data"]


class ScheduleLifecycleTest(Base):
    def test_create_list_show_disable_enable_delete(self):
        write(os.path.join(self.tmp, "job.yml"), "command: echo hi\n")
        f = write(os.path.join(self.tmp, "s.yml"), """\
            name: nightly
            trigger:
              type: cron
              expression: "30 2 * * *"
              time_zone: Europe/Paris
            create_job: ./job.yml
            """)
        created = self.cli_json("schedule", "create", "-f", f)["schedule"]
        self.assertEqual(created["trigger_type"], "cron")
        self.assertTrue(created["enabled"])
        self.assertIsNotNone(created["next_fire_time"])
        names = [s["name"] for s in self.cli_json("schedule", "list")["schedules"]]
        self.assertIn("nightly", names)
        shown = self.cli_json("schedule", "show", "nightly")["schedule"]
        self.assertEqual(len(shown["next_fire_times"]), 5)
        for f_ in shown["next_fire_times"]:
            self.assertTrue(f_["local"].endswith(("T02:30:00+01:00", "T02:30:00+02:00",
                                                  "T03:00:00+02:00")), f_)
        text = self.cli("schedule", "show", "nightly").stdout
        self.assertIn("next fire times:", text)
        # a second create with the same name is refused
        p = self.cli("--json", "schedule", "create", "-f", f, expect=1)
        self.assertIn("RESOURCE_ALREADY_EXISTS", p.stdout + p.stderr)

        off = self.cli_json("schedule", "disable", "nightly")["schedule"]
        self.assertFalse(off["enabled"])
        self.assertEqual(self.schedule("nightly")["next_fire_times"], [])
        on = self.cli_json("schedule", "enable", "nightly")["schedule"]
        self.assertTrue(on["enabled"])
        self.assertEqual(len(self.schedule("nightly")["next_fire_times"]), 5)
        self.cli("schedule", "delete", "nightly")
        self.cli("schedule", "show", "nightly", expect=1)

    def test_bad_trigger_and_missing_input_are_refused(self):
        job = {"type": "command", "steps": [{"name": "main", "command": "echo hi"}]}
        r = self.server.post("schedules/create", {"name": "bad", "plan": job,
                                                  "trigger": {"type": "cron",
                                                              "expression": "61 * * * *"}},
                             prefix=CAIRN)
        self.err(r, 400, "INVALID_PARAMETER_VALUE", "bad cron")
        r = self.server.post("schedules/create", {"name": "bad", "plan": job,
                                                  "trigger": {"type": "data_asset",
                                                              "name": "x", "input": "nope"}},
                             prefix=CAIRN)
        body = self.err(r, 400, "INVALID_PARAMETER_VALUE", "unknown input")
        self.assertIn("nope", body["message"])


class DataAssetTriggerTest(Base):
    def test_new_version_fires_with_it_bound(self):
        data = write(os.path.join(self.tmp, "v1.csv"), "a\n1\n")
        self.cli("data", "create", "--name", "watched", "--version", "1", "--path", data)
        write(os.path.join(self.tmp, "job.yml"), """\
            command: cat ${{inputs.d}}
            inputs:
              d:
                type: uri_file
                path: azureml:watched:1
            """)
        f = write(os.path.join(self.tmp, "s.yml"), """\
            name: on-watched
            trigger:
              type: data_asset
              name: watched
              input: d
            create_job: ./job.yml
            """)
        self.cli("schedule", "create", "-f", f)
        s = self.schedule("on-watched")
        self.assertEqual(s["last_seen_version"], "1")  # the existing version does not fire
        self.assertEqual(s["recent_jobs"], [])
        data2 = write(os.path.join(self.tmp, "v2.csv"), "a\nSECOND_VERSION\n")
        self.cli("data", "create", "--name", "watched", "--version", "2", "--path", data2)
        s = self.wait_for_jobs("on-watched", 1)
        run = s["recent_jobs"][0]
        self.assertEqual(run["tags"]["cairn.schedule"], "on-watched")
        self.assertEqual(run["tags"]["cairn.schedule.data_asset"], "watched:2")
        job = self.wait_job(run["name"])
        self.assertEqual(job["status"], "Completed", job)
        self.assertIn("SECOND_VERSION", self.log(run["name"]))


class EventTriggerTest(Base):
    def test_published_event_fires_matching_schedule(self):
        write(os.path.join(self.tmp, "job.yml"), "command: echo retrain\n")
        f = write(os.path.join(self.tmp, "s.yml"), """\
            name: on-drift
            trigger:
              type: event
              event_type: DatasetDriftDetected
              filter: {dataset: flights}
            create_job: ./job.yml
            """)
        self.cli("schedule", "create", "-f", f)
        other = self.ok(self.server.post("events/publish", {
            "type": "DatasetDriftDetected", "subject": "data/other",
            "data": {"dataset": "other"}}, prefix=CAIRN), "publish other")["event"]
        match = self.ok(self.server.post("events/publish", {
            "type": "DatasetDriftDetected", "subject": "data/flights",
            "data": {"dataset": "flights", "psi": 0.4}}, prefix=CAIRN), "publish")["event"]
        self.assertGreater(match["event_id"], other["event_id"])
        s = self.wait_for_jobs("on-drift", 1)
        time.sleep(1.5)  # a wrongly matched event would have fired by now too
        s = self.schedule("on-drift")
        self.assertEqual(len(s["recent_jobs"]), 1, s)
        self.assertEqual(s["recent_jobs"][0]["tags"]["cairn.schedule.event_id"],
                         str(match["event_id"]))
        self.assertEqual(s["last_seen_event_id"], match["event_id"])

    def test_bad_event_types_are_refused(self):
        for t in ("ModelRegistered", "lowercase", "Has Space", ""):
            self.err(self.server.post("events/publish", {"type": t, "data": {}}, prefix=CAIRN),
                     400, "INVALID_PARAMETER_VALUE", f"type {t!r}")
        self.err(self.server.post("events/publish", {"type": "Fine", "data": [1]}, prefix=CAIRN),
                 400, "INVALID_PARAMETER_VALUE", "data not an object")


class PublishedPipelineTest(Base):
    def test_publish_and_run_with_override(self):
        f = write(os.path.join(self.tmp, "job.yml"), """\
            command: echo "greeting=${{inputs.greeting}}"
            inputs:
              greeting: hello
            """)
        p = self.cli_json("pipeline", "publish", "-f", f, "--name", "greeter")["pipeline"]
        self.assertEqual(p["version"], 1)
        p2 = self.cli_json("pipeline", "publish", "-f", f, "--name", "greeter")["pipeline"]
        self.assertEqual(p2["version"], 2)
        listed = self.cli_json("pipeline", "list")["pipelines"]
        self.assertEqual([(x["name"], x["version"]) for x in listed], [("greeter", 2)])
        shown = self.cli_json("pipeline", "show", "greeter")["pipeline"]
        self.assertIn("greeting", shown["inputs"])

        body = self.ok(self.server.post("pipelines/greeter/runs", {
            "inputs": {"greeting": "bonjour"}, "experiment_name": "published-runs"},
            prefix=CAIRN), "pipelines/greeter/runs")
        job = self.wait_job(body["job"]["name"])
        self.assertEqual(job["status"], "Completed", job)
        self.assertIn("greeting=bonjour", self.log(job["name"]))

        out = self.cli_json("pipeline", "run", "greeter", "--set", "inputs.greeting=hola")
        job = self.wait_job(out["job"]["name"])
        self.assertIn("greeting=hola", self.log(job["name"]))

        self.err(self.server.post("pipelines/greeter/runs", {"inputs": {"nope": "x"}},
                                  prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "unknown input")
        self.err(self.server.post("pipelines/missing/runs", {}, prefix=CAIRN), 404,
                 "RESOURCE_DOES_NOT_EXIST", "unknown pipeline")


if __name__ == "__main__":
    unittest.main()
