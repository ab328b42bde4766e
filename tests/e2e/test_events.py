"""The event outbox over REST and the CLI: `GET /api/2.0/cairn/events/list` returns
CloudEvents 1.0 (structured JSON) in id order, filtered by type and paged by the last
id seen; `cairn event publish|list` drive the same routes. Events Cairn writes itself
(a job's RunStatusChanged/RunCompleted) show up next to published ones, and their
types cannot be forged through `events/publish`.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_events.py -v
"""

import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ServerTestCase  # noqa: E402
from test_jobs import CliMixin  # noqa: E402

CAIRN = "/api/2.0/cairn/"
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class EventOutboxTest(CliMixin, ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-events-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def events(self, **params):
        status, body = self.server.get("events/list", params=params, prefix=CAIRN)
        self.assertEqual(status, 200, body)
        return body

    def test_published_and_own_events_as_cloudevents_paged_and_filtered(self):
        # An external system's event, through the CLI.
        out = self.cli("event", "publish", "--type", "DatasetDriftDetected",
                       "--subject", "data/flights:3", "--data", '{"feature": "delay"}').stdout
        self.assertIn("published event", out)
        # A job's own events.
        status, body = self.server.post(
            "jobs/create", {"plan": {"type": "pipeline", "steps": [{"name": "a", "command": "true"}]}},
            prefix=CAIRN)
        self.assertEqual(status, 200, body)
        name = body["job"]["name"]
        status, body = self.server.get("jobs/wait", {"name": name, "timeout_seconds": 60},
                                       prefix=CAIRN)
        self.assertEqual(body["job"]["status"], "Completed", body)

        listed = self.events()
        events = listed["events"]
        ids = [int(e["id"]) for e in events]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(listed["next_after_id"], ids[-1])
        drift = [e for e in events if e["type"] == "DatasetDriftDetected"]
        self.assertEqual(len(drift), 1, events)
        e = drift[0]
        self.assertEqual(e["specversion"], "1.0")
        self.assertEqual(e["source"], "/cairn")
        self.assertEqual(e["subject"], "data/flights:3")
        self.assertEqual(e["datacontenttype"], "application/json")
        self.assertEqual(e["data"], {"feature": "delay"})
        self.assertRegex(e["time"], RFC3339_MS)
        self.assertTrue(any(x["type"] == "RunCompleted" for x in events), events)

        # Filter by type; page by the last id seen.
        completed = self.events(type="RunCompleted")["events"]
        self.assertTrue(completed and all(x["type"] == "RunCompleted" for x in completed))
        first = self.events(max_results=1)
        self.assertEqual(len(first["events"]), 1)
        rest = self.events(after_id=first["next_after_id"], max_results=1000)["events"]
        self.assertEqual([first["events"][0]["id"]] + [x["id"] for x in rest],
                         [x["id"] for x in events])
        self.assertEqual(self.events(after_id=ids[-1])["events"], [])

        # The CLI: a table by default, the REST answer with --json.
        table = self.cli("event", "list", "--type", "DatasetDriftDetected").stdout
        self.assertIn("DatasetDriftDetected", table)
        self.assertIn("data/flights:3", table)
        self.assertEqual(self.cli_json("event", "list")["events"], events)

    def test_bad_requests_are_clear_errors(self):
        status, body = self.server.get("events/list", {"max_results": 0}, prefix=CAIRN)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error_code"], "INVALID_PARAMETER_VALUE")
        self.assertIn("max_results", body["message"])
        # Cairn's own event types cannot be forged.
        p = self.cli("event", "publish", "--type", "RunCompleted", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("reserved", p.stderr + p.stdout)
        p = self.cli("event", "publish", "--type", "Fine", "--data", "[1]", expect=2)
        self.assertIn("JSON object", p.stderr + p.stdout)
        self.cli("event", "list", "--max-results", "5000", expect=2)


if __name__ == "__main__":
    unittest.main()
