"""POST /api/2.0/cairn/data/compare over a real server: two stored data versions compared as
cairn.compare/1 JSON (a drifted column flagged, an unchanged one not) or as the HTML report,
and the errors for a missing side, an unknown version and a bad format.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest tests/e2e/test_data_compare_route.py -v
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ServerTestCase, cairn_bin  # noqa: E402

CAIRN = "/api/2.0/cairn"


class DataCompareRoute(ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-compare-route-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def data_version(self, name, version, shift, seed):
        rng = random.Random(seed)
        path = os.path.join(self.tmp, f"v{version}", "table.csv")
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write("dist,carrier\n")
            for _ in range(2000):
                f.write(f"{rng.gauss(shift, 1):.4f},{rng.choice(['AA', 'DL', 'UA'])}\n")
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, "data", "create",
                            "--name", name, "--version", str(version), "--path", path],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_compare_two_versions(self):
        name = f"flights-{uuid.uuid4().hex[:6]}"
        self.data_version(name, 1, 0.0, seed=1)
        self.data_version(name, 2, 3.0, seed=2)
        status, body = self.server.post("/data/compare", {"a": {"name": name, "version": "1"},
                                                          "b": {"name": name, "version": "2"}},
                                        prefix=CAIRN)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["format"], "cairn.compare/1")
        features = {f["name"]: f for f in body["features"]}
        self.assertTrue(features["dist"]["drifted"], features["dist"])
        self.assertFalse(features["carrier"]["drifted"], features["carrier"])
        self.assertIn(f"{name}:1", str(body))
        self.assertIn(f"{name}:2", str(body))

        r = self.server.request("POST", f"{CAIRN}/data/compare",
                                body={"a": {"name": name, "version": "1"},
                                      "b": {"ref": f"{name}@latest"}, "format": "html"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/html"), r.headers)
        self.assertIn(b"<svg", r.body)

        status, body = self.server.post("/data/compare", {"a": {"name": name, "version": "1"}},
                                        prefix=CAIRN)
        self.assertEqual(status, 400, body)
        self.assertIn("'b'", body["message"])
        status, body = self.server.post("/data/compare", {"a": {"name": name, "version": "1"},
                                                          "b": {"name": name, "version": "9"}},
                                        prefix=CAIRN)
        self.assertEqual(status, 404, body)
        status, body = self.server.post("/data/compare", {"a": {"name": name, "version": "1"},
                                                          "b": {"name": name, "version": "2"},
                                                          "format": "pdf"}, prefix=CAIRN)
        self.assertEqual(status, 400, body)
        self.assertIn("format", body["message"])


if __name__ == "__main__":
    unittest.main()
