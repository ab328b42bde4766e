"""Data statistics, schema inference and validation of stored data versions over HTTP against
the real binary: stats computed once and stored by content hash (then served, and shared by
versions with the same content), schema inference, validation with TFDV-named anomalies against
a schema, a reference version and reference statistics, and clear errors for bad input. Also
drives `cairn data stats|schema|validate` against the same server.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_data_validation.py' -v
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ARTIFACTS_API, ServerTestCase, cairn_bin  # noqa: E402

CAIRN = "/api/2.0/cairn"

TRAIN = b"age,color,score\n" + b"".join(
    f"{20 + i % 50},{['red', 'green', 'blue'][i % 3]},{i / 10}\n".encode() for i in range(300))
# Same columns, but new colors, ages out of the schema's bounds, a non-numeric score and an
# extra column.
SERVE = b"age,color,score,extra\n" + b"".join(
    f"{200 if i % 10 == 0 else 30},{'purple' if i % 2 else 'red'},"
    f"{'oops' if i == 5 else i / 10},{i}\n".encode() for i in range(100))


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class DataValidationTestCase(ServerTestCase):

    def create_data(self, name, files):
        manifest = []
        for path, data in files.items():
            h = hashlib.sha256(data).hexdigest()
            r = self.server.request("PUT", f"{CAIRN}/blobs/{h}", body=data)
            self.assertEqual(r.status, 200, f"PUT blob: {r}")
            manifest.append({"path": path, "sha256": h, "size": len(data)})
        return self.ok(self.server.post("/data/create", {"name": name, "files": manifest},
                                        prefix=CAIRN), "data/create")["asset"]

    def stats(self, name, version, method="POST"):
        if method == "GET":
            return self.ok(self.server.get("/data/stats", {"name": name, "version": version},
                                           prefix=CAIRN), "GET data/stats")
        return self.ok(self.server.post("/data/stats", {"name": name, "version": version},
                                        prefix=CAIRN), "POST data/stats")

    def cli(self, *args, expect=0):
        p = subprocess.run([cairn_bin(), "--server", self.server.base_url, *args],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, expect,
                         f"cairn {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p.stdout + p.stderr


class TestStats(DataValidationTestCase):

    def test_computed_once_then_served_and_shared_by_content(self):
        name = uniq("train")
        asset = self.create_data(name, {"train.csv": TRAIN})
        first = self.stats(name, "1")
        self.assertTrue(first["computed"])
        s = first["stats"]
        self.assertEqual(s["format"], "cairn.stats/1")
        self.assertEqual(s["num_rows"], 300)
        self.assertEqual(s["source"], f"{name}:1")
        self.assertEqual([f["name"] for f in s["features"]], ["age", "color", "score"])
        self.assertEqual(first["content_hash"], asset["content_hash"])
        again = self.stats(name, "1", method="GET")
        self.assertFalse(again["computed"], "the second request must read the stored stats")
        self.assertEqual(again["stats"], s)
        # Stored under assets/stats/<content hash>.json, readable through the artifact proxy.
        r = self.server.request(
            "GET", f"{ARTIFACTS_API}/assets/stats/{asset['content_hash']}.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body)["num_rows"], 300)
        # and not writable through it.
        r = self.server.request(
            "PUT", f"{ARTIFACTS_API}/assets/stats/{asset['content_hash']}.json", body=b"{}")
        self.assertNotEqual(r.status, 200, "the artifact proxy must refuse writes under assets/")
        # Another data asset with the same content shares the stored statistics.
        other = uniq("copy")
        self.create_data(other, {"train.csv": TRAIN})
        shared = self.stats(other, "1")
        self.assertFalse(shared["computed"])
        self.assertEqual(shared["stats"]["source"], f"{other}:1")

    def test_errors(self):
        self.err(self.server.post("/data/stats", {"name": uniq("none"), "version": "1"},
                                  prefix=CAIRN), 404, "RESOURCE_DOES_NOT_EXIST", "unknown data")
        self.err(self.server.post("/data/stats", {}, prefix=CAIRN), 400,
                 "INVALID_PARAMETER_VALUE", "no name")
        name = uniq("two")
        self.create_data(name, {"a.csv": b"x\n1\n", "b.csv": b"x\n2\n"})
        body = self.err(self.server.post("/data/stats", {"name": name, "version": "1"},
                                         prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "two tables")
        self.assertIn("holds 2 table files", body["message"])
        bad = uniq("bad")
        self.create_data(bad, {"bad.csv": b'a,b\n1,"x\n'})
        body = self.err(self.server.post("/data/stats", {"name": bad, "version": "1"},
                                         prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "malformed")
        self.assertIn(f"{bad}:1/bad.csv:2:3", body["message"])


class TestSchemaAndValidate(DataValidationTestCase):

    def setUp(self):
        self.train = uniq("train")
        self.serve = uniq("serve")
        self.create_data(self.train, {"train.csv": TRAIN})
        self.create_data(self.serve, {"serve.csv": SERVE})

    def schema(self):
        body = self.ok(self.server.post("/data/schema/infer", {"name": self.train},
                                        prefix=CAIRN), "schema/infer")
        return body["schema"]

    def test_infer(self):
        schema = self.schema()
        self.assertEqual(schema["format"], "cairn.schema/1")
        by_name = {f["name"]: f for f in schema["features"]}
        self.assertEqual(by_name["age"]["type"], "INT")
        self.assertEqual(by_name["age"]["presence"]["min_fraction"], 1)
        self.assertEqual(by_name["color"]["domain"], ["blue", "green", "red"])
        self.assertEqual(by_name["score"]["type"], "FLOAT")

    def test_clean_against_itself(self):
        report = self.ok(self.server.post(
            "/data/validate", {"name": self.train, "version": "1", "schema": self.schema(),
                               "reference": {"name": self.train, "version": "1"}},
            prefix=CAIRN), "validate")
        self.assertEqual(report["anomalies"], [])
        self.assertTrue(report["clean"])

    def test_anomalies(self):
        schema = self.schema()
        for f in schema["features"]:
            if f["name"] == "age":
                f["max"] = 100
            if f["name"] == "color":
                f["drift_comparator"] = {"l_infinity": 0.1}
        report = self.ok(self.server.post(
            "/data/validate", {"name": self.serve, "schema": schema,
                               "reference": {"name": self.train, "version": "1"}},
            prefix=CAIRN), "validate")
        self.assertFalse(report["clean"])
        got = {(a["feature"], a["type"]): a for a in report["anomalies"]}
        self.assertIn(("age", "INT_TYPE_BIG_INT"), got)
        enum = got[("color", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")]
        self.assertEqual(enum["examples"], [{"value": "purple", "count": 50}])
        self.assertEqual(enum["fraction"], 0.5)
        self.assertEqual(enum["severity"], "ERROR")
        notfloat = got[("score", "FLOAT_TYPE_STRING_NOT_FLOAT")]
        self.assertEqual(notfloat["examples"], [{"value": "oops", "count": 1}])
        self.assertEqual(got[("extra", "SCHEMA_NEW_COLUMN")]["severity"], "WARNING")
        self.assertIn(("color", "COMPARATOR_L_INFTY_HIGH"), got)
        # The reference as statistics JSON gives the same comparator answer.
        ref_stats = self.stats(self.train, "1")["stats"]
        report2 = self.ok(self.server.post(
            "/data/validate", {"name": self.serve, "schema": schema,
                               "reference_stats": ref_stats}, prefix=CAIRN), "validate")
        self.assertEqual(report2["anomalies"], report["anomalies"])

    def test_bad_requests(self):
        self.err(self.server.post("/data/validate", {"name": self.serve}, prefix=CAIRN), 400,
                 "INVALID_PARAMETER_VALUE", "no schema")
        body = self.err(self.server.post(
            "/data/validate", {"name": self.serve, "schema": {"format": "cairn.schema/1",
                                                              "features": [{"name": "a"}]}},
            prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "feature without a type")
        self.assertIn("needs a 'type'", body["message"])
        self.err(self.server.post("/data/validate",
                                  {"name": self.serve, "schema": self.schema(), "role": "sideways"},
                                  prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "bad role")
        self.err(self.server.post("/data/validate",
                                  {"name": self.serve, "schema": self.schema(),
                                   "reference_stats": {"format": "nope"}},
                                  prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "bad ref stats")
        self.err(self.server.post("/data/validate",
                                  {"name": self.serve, "schema": self.schema(),
                                   "reference": {"name": uniq("none")}},
                                  prefix=CAIRN), 404, "RESOURCE_DOES_NOT_EXIST", "unknown ref")


class TestCli(DataValidationTestCase):

    def test_cli_round_trip(self):
        train, serve = uniq("train"), uniq("serve")
        self.create_data(train, {"train.csv": TRAIN})
        self.create_data(serve, {"serve.csv": SERVE})
        with tempfile.TemporaryDirectory() as tmp:
            local_train = os.path.join(tmp, "train.csv")
            local_serve = os.path.join(tmp, "serve.csv")
            with open(local_train, "wb") as f:
                f.write(TRAIN)
            with open(local_serve, "wb") as f:
                f.write(SERVE)
            out = self.cli("data", "stats", f"{train}:1")
            self.assertIn(f"{train}:1: 300 rows", out)
            remote = json.loads(self.cli("data", "stats", f"{train}:1", "--json"))
            local = json.loads(self.cli("data", "stats", local_train, "--json", "--top-k", "100"))
            self.assertEqual(remote["features"], local["features"])

            schema_yml = os.path.join(tmp, "schema.yml")
            self.cli("data", "schema", "infer", f"{train}:1", "-o", schema_yml)
            schema_json = os.path.join(tmp, "schema.json")
            self.cli("data", "schema", "infer", local_train, "-o", schema_json)
            out = self.cli("data", "schema", "show", schema_yml)
            self.assertIn("color", out)
            self.assertIn("blue, green, red", out)
            shown = json.loads(self.cli("data", "schema", "show", schema_json, "--json"))
            self.assertEqual(shown, json.loads(self.cli("data", "schema", "show", schema_yml,
                                                        "--json")))

            self.cli("data", "validate", local_train, "--schema", schema_yml)
            self.cli("data", "validate", f"{train}:1", "--schema", schema_yml,
                     "--reference", local_train)
            out = self.cli("data", "validate", local_serve, "--schema", schema_yml, expect=1)
            self.assertIn("ENUM_TYPE_UNEXPECTED_STRING_VALUES", out)
            self.assertIn("purple (~50%)", out)
            remote = json.loads(self.cli("data", "validate", f"{serve}:1", "--schema",
                                         schema_json, "--json", expect=1))
            local = json.loads(self.cli("data", "validate", local_serve, "--schema",
                                        schema_json, "--json", expect=1))
            self.assertEqual(remote, local)
            # Reference statistics stored as JSON work as --reference.
            ref_json = os.path.join(tmp, "ref-stats.json")
            with open(ref_json, "w") as f:
                f.write(self.cli("data", "stats", f"{train}:1", "--json"))
            self.cli("data", "validate", local_train, "--schema", schema_yml,
                     "--reference", ref_json)
            # Usage and input errors exit 2.
            out = self.cli("data", "validate", local_serve, "--schema",
                           os.path.join(tmp, "none.yml"), expect=2)
            bad = os.path.join(tmp, "bad.yml")
            with open(bad, "w") as f:
                f.write("format: cairn.schema/1\nfeatures:\n  - name: a\n    type: DECIMAL\n")
            out = self.cli("data", "validate", local_serve, "--schema", bad, expect=2)
            self.assertIn("bad.yml:4:11", out)
            self.cli("data", "schema", "infer", local_train, "-o", os.path.join(tmp, "s.txt"),
                     expect=2)


if __name__ == "__main__":
    unittest.main()
