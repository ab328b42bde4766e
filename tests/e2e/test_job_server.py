#!/usr/bin/env python3
"""Pipelines over REST: plans posted as JSON (as `cairn job create` sends them) run as local
processes. Covers a chain with outputs flowing between steps, diamond parallelism, reuse hits
and a miss after a content change, retries, timeouts, cancel, a failing step with and without
continue_on_step_failure, logs read by offset, MLflow runs and lineage."""

import hashlib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTestCase  # noqa: E402

CAIRN = "/api/2.0/cairn/"


def step(name, command, inputs=None, outputs=None, **extra):
    s = {"name": name, "command": command, "inputs": inputs or {}, "outputs": outputs or {}}
    s.update(extra)
    return s


def from_step(step_name, output):
    return {"kind": "step_output", "from_step": step_name, "from_output": output}


def literal(value):
    return {"kind": "literal", "literal": str(value)}


def folder(name="o"):
    return {name: {"type": "uri_folder"}}


def pipeline(steps, **extra):
    p = {"type": "pipeline", "steps": steps}
    p.update(extra)
    return p


class JobServerTest(ServerTestCase):

    def submit(self, plan, status=200):
        code, body = self.server.call("POST", CAIRN + "jobs/create", body={"plan": plan})
        self.assertEqual(code, status, f"jobs/create: {code} {body}")
        return body.get("job") if status == 200 else body

    def wait(self, name, timeout=60):
        job = self.ok(self.server.call("GET", CAIRN + "jobs/wait",
                                       params={"name": name, "timeout_seconds": timeout}),
                      "jobs/wait")["job"]
        self.assertIn(job["status"], ("Completed", "Failed", "Canceled"),
                      f"job {name} did not end within {timeout}s: {job}")
        return job

    def steps(self, job):
        return {s["name"]: s for s in job["steps"]}

    def log(self, name, step, offset=0):
        return self.ok(self.server.call("GET", CAIRN + "jobs/logs",
                                        params={"name": name, "step": step, "offset": offset}),
                       "jobs/logs")

    def artifact(self, run_id, path):
        r = self.server.request("GET", "/get-artifact", params={"run_id": run_id, "path": path})
        return r.status, r.body

    def test_chain_passes_outputs_and_mirrors_runs(self):
        plan = pipeline([
            step("prep", "echo hello > ${{outputs.o}}/greeting.txt; echo prepped", outputs=folder()),
            step("train", "cat ${{inputs.data}}/greeting.txt | tr a-z A-Z > ${{outputs.o}}/up.txt;"
                 " echo lr=${{inputs.lr}} $[[skip=${{inputs.absent}}]]",
                 inputs={"data": from_step("prep", "o"), "lr": literal(0.1)}, outputs=folder()),
        ], experiment_name="jobs-chain", force_rerun=True)
        job = self.submit(plan)
        self.assertEqual(job["status"], "NotStarted")
        self.assertTrue(job["run_id"])
        job = self.wait(job["name"])
        self.assertEqual(job["status"], "Completed", job)
        st = self.steps(job)
        for name in ("prep", "train"):
            self.assertEqual(st[name]["status"], "Completed", st[name])
            self.assertEqual(st[name]["exit_code"], 0)
            self.assertEqual(st[name]["attempt"], 1)
        self.assertIn("lr=0.1", self.log(job["name"], "train")["data"])
        self.assertNotIn("skip=", self.log(job["name"], "train")["data"])
        self.assertTrue(st["train"]["outputs"]["o"].startswith("mlflow-artifacts:/"))
        # Outputs and logs are the step runs' artifacts.
        code, body = self.artifact(st["train"]["run_id"], "outputs/o/up.txt")
        self.assertEqual(code, 200)
        self.assertEqual(body.strip(), b"HELLO")
        code, body = self.artifact(st["prep"]["run_id"], "user_logs/std_log.txt")
        self.assertEqual(code, 200)
        self.assertIn(b"prepped", body)
        # MLflow: parent FINISHED, children tagged with the parent.
        parent = self.ok(self.server.get("/runs/get", {"run_id": job["run_id"]}), "parent")["run"]
        self.assertEqual(parent["info"]["status"], "FINISHED")
        child = self.ok(self.server.get("/runs/get", {"run_id": st["train"]["run_id"]}),
                        "child")["run"]
        self.assertEqual(child["info"]["status"], "FINISHED")
        tags = {t["key"]: t["value"] for t in child["data"].get("tags", [])}
        self.assertEqual(tags.get("mlflow.parentRunId"), job["run_id"])
        # Lineage: the producer's run feeds the consumer's.
        lin = self.ok(self.server.call("GET", CAIRN + "lineage/show",
                                       params={"entity": "run:" + st["train"]["run_id"],
                                               "direction": "upstream"}), "lineage")
        self.assertIn("run:" + st["prep"]["run_id"], [e["from"] for e in lin["upstream"]])

    def upload(self, files):
        manifest = []
        for path, data in files.items():
            h = hashlib.sha256(data).hexdigest()
            r = self.server.request("PUT", CAIRN + "blobs/" + h, body=data)
            self.assertEqual(r.status, 200, r)
            manifest.append({"path": path, "sha256": h, "size": len(data)})
        return manifest

    def test_code_and_data_assets_are_materialized_and_keyed_by_content(self):
        code = self.ok(self.server.call("POST", CAIRN + "code/create", body={
            "files": self.upload({"run.sh": b"wc -l < \"$1\" > \"$2\"/count\n"})}),
            "code/create")["asset"]
        ref = f"{code['name']}:{code['version']}"

        def data(name, text):
            a = self.ok(self.server.call("POST", CAIRN + "data/create", body={
                "name": name, "files": self.upload({"rows.csv": text})}), "data/create")["asset"]
            return f"{a['name']}:{a['version']}"

        first = data("jobrows", b"a\nb\n")  # one file: a uri_file asset, the path is the file
        same_content = data("jobrows-copy", b"a\nb\n")  # another name, same bytes

        def plan(data_ref):
            return pipeline([step("count", "sh run.sh ${{inputs.rows}} ${{outputs.o}}",
                                  inputs={"rows": {"kind": "data_asset", "asset_ref": data_ref}},
                                  outputs=folder(), code=ref)], experiment_name="jobs-assets")

        a = self.wait(self.submit(plan(first))["name"])
        self.assertEqual(a["status"], "Completed", a)
        s = a["steps"][0]
        code_, body = self.artifact(s["run_id"], "outputs/o/count")
        self.assertEqual((code_, body.strip()), (200, b"2"))
        # Same content under another data name: reused (content, not names).
        b = self.wait(self.submit(plan(same_content))["name"])["steps"][0]
        self.assertEqual(b["reused_from"], s["run_id"])
        # New content: rerun.
        c = self.wait(self.submit(plan(data("jobrows", b"a\nb\nc\n")))["name"])["steps"][0]
        self.assertEqual(c["reused_from"], "")
        code_, body = self.artifact(c["run_id"], "outputs/o/count")
        self.assertEqual(body.strip(), b"3")
        lin = self.ok(self.server.call("GET", CAIRN + "lineage/show",
                                       params={"entity": "run:" + s["run_id"],
                                               "direction": "upstream"}), "lineage")
        sources = [e["from"] for e in lin["upstream"]]
        self.assertIn("data:" + first, sources)
        self.assertIn("code:" + code["name"], sources)
        # An unknown data version fails the step with a clear message, not the server.
        bad = self.wait(self.submit(plan("jobrows:99"))["name"])
        self.assertEqual(bad["status"], "Failed")
        self.assertIn("jobrows", bad["steps"][0]["error"])

    def test_step_sees_tracking_environment(self):
        plan = pipeline([step("main", "echo \"$MLFLOW_RUN_ID $CAIRN_URL $MLFLOW_EXPERIMENT_ID\"")],
                        type="command", experiment_name="jobs-env")
        job = self.wait(self.submit(plan)["name"])
        self.assertEqual(job["status"], "Completed", job)
        run_id, url, exp = self.log(job["name"], "main")["data"].split()
        self.assertEqual(run_id, job["steps"][0]["run_id"])
        self.assertEqual(url, self.server.base_url)
        self.assertEqual(exp, job["experiment_id"])

    def test_diamond_runs_branches_in_parallel(self):
        self.ok(self.server.call("POST", CAIRN + "computes/create",
                                 body={"name": "pair", "max_concurrency": 2}), "compute")
        # Each branch waits for the other's marker: only parallel execution completes.
        d = os.path.join(self.server.root, "diamond-%d" % time.time_ns())
        wait_for = ("touch {d}/{me}; for i in $(seq 100); do [ -e {d}/{other} ] && exit 0; "
                    "sleep 0.1; done; exit 1")
        plan = pipeline([
            step("top", f"mkdir -p {d}", outputs=folder()),
            step("left", wait_for.format(d=d, me="l", other="r"),
                 inputs={"x": from_step("top", "o")}, outputs=folder()),
            step("right", wait_for.format(d=d, me="r", other="l"),
                 inputs={"x": from_step("top", "o")}, outputs=folder()),
            step("bottom", "true", inputs={"a": from_step("left", "o"),
                                           "b": from_step("right", "o")}),
        ], default_compute="pair", force_rerun=True)
        job = self.wait(self.submit(plan)["name"])
        self.assertEqual(job["status"], "Completed", job)
        st = self.steps(job)
        self.assertLess(max(st["left"]["started"], st["right"]["started"]),
                        min(st["left"]["ended"], st["right"]["ended"]))
        self.assertGreaterEqual(st["bottom"]["started"],
                                max(st["left"]["ended"], st["right"]["ended"]))

    def test_reuse_hit_then_miss_after_content_change(self):
        marker = "reuse-%d" % time.time_ns()

        def plan(text):
            return pipeline([
                step("make", f"echo {text} > ${{{{outputs.o}}}}/v.txt", outputs=folder()),
                step("use", "cat ${{inputs.x}}/v.txt > ${{outputs.o}}/copy.txt; echo " + marker,
                     inputs={"x": from_step("make", "o")}, outputs=folder()),
            ], experiment_name="jobs-reuse")

        first = self.wait(self.submit(plan("one"))["name"])
        self.assertEqual(first["status"], "Completed", first)
        second = self.wait(self.submit(plan("one"))["name"])
        self.assertEqual(second["status"], "Completed", second)
        a, b = self.steps(first), self.steps(second)
        for name in ("make", "use"):
            self.assertEqual(b[name]["reused_from"], a[name]["run_id"], b[name])
            self.assertIn("reused from run " + a[name]["run_id"], b[name]["notes"])
            self.assertEqual(b[name]["cache_key"], a[name]["cache_key"])
        code, body = self.artifact(b["use"]["run_id"], "outputs/o/copy.txt")
        self.assertEqual((code, body.strip()), (200, b"one"))
        # Same command for "use", but its input's content changed: both steps rerun.
        third = self.wait(self.submit(plan("two"))["name"])
        c = self.steps(third)
        self.assertEqual(c["make"]["reused_from"], "")
        self.assertEqual(c["use"]["reused_from"], "")
        self.assertNotEqual(c["use"]["cache_key"], a["use"]["cache_key"])
        code, body = self.artifact(c["use"]["run_id"], "outputs/o/copy.txt")
        self.assertEqual((code, body.strip()), (200, b"two"))
        # is_deterministic: false never reuses.
        p = plan("one")
        p["steps"][0]["is_deterministic"] = False
        fourth = self.steps(self.wait(self.submit(p)["name"]))
        self.assertEqual(fourth["make"]["reused_from"], "")

    def test_identical_step_completed_a_moment_before_is_reused(self):
        # "twin" is "make" again and starts in the same scheduler pass in which
        # "make" completes, before the committer has written it: still reused.
        marks = os.path.join(self.server.root, "twin-marks")
        os.makedirs(marks, exist_ok=True)
        cmd = f"echo ran >> {marks}/count; echo v > ${{{{outputs.o}}}}/v"
        job = self.wait(self.submit(pipeline([
            step("make", cmd, outputs={"o": {"type": "uri_folder"}}),
            step("twin", cmd, outputs={"o": {"type": "uri_folder"}}, depends_on=["make"]),
        ], experiment_name="jobs-twin"))["name"])
        self.assertEqual(job["status"], "Completed", job)
        st = self.steps(job)
        self.assertEqual(st["twin"]["cache_key"], st["make"]["cache_key"])
        self.assertEqual(st["twin"]["reused_from"], st["make"]["run_id"], st["twin"])
        with open(os.path.join(marks, "count")) as f:
            self.assertEqual(len(f.read().split()), 1)
        code, body = self.artifact(st["twin"]["run_id"], "outputs/o/v")
        self.assertEqual((code, body.strip()), (200, b"v"))

    def test_named_outputs_are_registered_as_data_versions(self):
        # Azure ML's outputs: {o: {type: uri_folder, name: N, version: V}}; without a version
        # the next number is taken. Lineage: run -> data:N:V.
        name = "scores-%d" % time.time_ns()
        plan = pipeline([
            step("make", "echo 42 > ${{outputs.o}}/score.txt",
                 outputs={"o": {"type": "uri_folder", "register_as": name,
                                "register_version": "7"}}),
            # After "make" (its input), so the next number comes after 7.
            step("more", "echo 43 > ${{outputs.f}}", inputs={"x": from_step("make", "o")},
                 outputs={"f": {"type": "uri_file", "register_as": name}}),
        ], experiment_name="jobs-register")
        job = self.wait(self.submit(plan)["name"])
        self.assertEqual(job["status"], "Completed", job)
        st = self.steps(job)
        v7 = self.ok(self.server.call("GET", CAIRN + "data/files",
                                      params={"ref": name + ":7"}), "data/files")
        self.assertEqual(v7["asset"]["type"], "uri_folder")
        self.assertEqual([f["path"] for f in v7["files"]], ["score.txt"])
        self.assertIn("output 'o' registered as data:%s:7" % name, st["make"]["notes"])
        latest = self.ok(self.server.call("GET", CAIRN + "data/get",
                                          params={"ref": name + "@latest"}), "data/get")["asset"]
        self.assertEqual(latest["type"], "uri_file")
        self.assertIn("registered as data:%s:%s" % (name, latest["version"]), st["more"]["notes"])
        lin = self.ok(self.server.call("GET", CAIRN + "lineage/show",
                                       params={"entity": "data:%s:7" % name,
                                               "direction": "upstream"}), "lineage")
        self.assertIn("run:" + st["make"]["run_id"], [e["from"] for e in lin["upstream"]])
        # A version is immutable: the same name:version with other content fails the step.
        plan["steps"] = plan["steps"][:1]
        plan["steps"][0]["command"] = "echo 99 > ${{outputs.o}}/score.txt"
        again = self.wait(self.submit(plan)["name"])
        self.assertEqual(again["status"], "Failed", again)
        self.assertIn("cannot register output 'o' as data %s:7" % name,
                      self.steps(again)["make"]["error"])

    def test_retry_with_backoff_then_success(self):
        d = os.path.join(self.server.root, "retry-%d" % time.time_ns())
        cmd = (f"mkdir -p {d}; n=$(ls {d} | wc -l); touch {d}/$n; echo try $n; "
               "[ $n -ge 2 ]")
        plan = pipeline([step("flaky", cmd, retry={"max_attempts": 3, "backoff_seconds": 0.2})],
                        type="command", force_rerun=True)
        job = self.wait(self.submit(plan)["name"])
        self.assertEqual(job["status"], "Completed", job)
        s = job["steps"][0]
        self.assertEqual(s["attempt"], 3)
        self.assertIn("attempt 1 failed (exit code 1); retrying in 0.2s", s["notes"])
        self.assertIn("attempt 2 failed (exit code 1); retrying in 0.4s", s["notes"])
        data = self.log(job["name"], "flaky")["data"]
        self.assertIn("try 0", data)
        self.assertIn("try 2", data)
        # Exhausted retries fail the step.
        plan = pipeline([step("never", "exit 3", retry={"max_attempts": 2})], type="command")
        job = self.wait(self.submit(plan)["name"])
        self.assertEqual(job["status"], "Failed")
        self.assertEqual(job["steps"][0]["exit_code"], 3)
        self.assertEqual(job["steps"][0]["attempt"], 2)

    def test_timeout_kills_the_process_group(self):
        pidfile = os.path.join(self.server.root, "timeout-%d" % time.time_ns())
        plan = pipeline([step("slow", f"sleep 300 & echo $! > {pidfile}; wait",
                              timeout_seconds=1)], type="command", force_rerun=True)
        t0 = time.time()
        job = self.wait(self.submit(plan)["name"])
        self.assertLess(time.time() - t0, 20)
        self.assertEqual(job["status"], "Failed")
        self.assertIn("timed out after 1s", job["steps"][0]["error"])
        with open(pidfile) as f:
            child = int(f.read())
        time.sleep(0.2)
        try:
            with open(f"/proc/{child}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        self.assertIn(state, ("gone", "Z"), "the step's background child survived the timeout")

    def test_cancel_stops_running_and_pending_steps(self):
        plan = pipeline([
            step("long", "echo started; sleep 300", outputs=folder()),
            step("after", "true", inputs={"x": from_step("long", "o")}),
        ], force_rerun=True)
        name = self.submit(plan)["name"]
        # Wait until the step is running (its log says so).
        for _ in range(200):
            if "started" in self.log(name, "long")["data"]:
                break
            time.sleep(0.05)
        job = self.ok(self.server.call("POST", CAIRN + "jobs/cancel", body={"name": name}),
                      "cancel")["job"]
        self.assertEqual(job["status"], "Canceled", job)
        st = self.steps(job)
        self.assertEqual(st["long"]["status"], "Canceled")
        self.assertEqual(st["after"]["status"], "Canceled")
        parent = self.ok(self.server.get("/runs/get", {"run_id": job["run_id"]}), "run")["run"]
        self.assertEqual(parent["info"]["status"], "KILLED")
        self.err(self.server.call("POST", CAIRN + "jobs/cancel", body={"name": name}), 400,
                 "INVALID_STATE", "cancel an ended job")

    def test_failing_step_stops_or_continues(self):
        steps = [
            step("bad", "echo oops >&2; exit 7", outputs=folder()),
            step("child", "true", inputs={"x": from_step("bad", "o")}),
            step("slow_sibling", "sleep 0.5", outputs=folder()),
            step("independent", "true", inputs={"x": from_step("slow_sibling", "o")}),
        ]
        job = self.wait(self.submit(pipeline(steps, force_rerun=True))["name"])
        self.assertEqual(job["status"], "Failed")
        st = self.steps(job)
        self.assertEqual(st["bad"]["status"], "Failed")
        self.assertIn("exit code 7", st["bad"]["error"])
        self.assertEqual(st["child"]["status"], "Canceled")
        self.assertEqual(st["independent"]["status"], "Canceled")
        self.assertIn("continue_on_step_failure", st["independent"]["error"])
        self.assertIn("oops", self.log(job["name"], "bad")["data"])
        job = self.wait(self.submit(pipeline(steps, force_rerun=True,
                                             continue_on_step_failure=True))["name"])
        st = self.steps(job)
        self.assertEqual(job["status"], "Failed")
        self.assertEqual(st["child"]["status"], "Canceled")
        self.assertEqual(st["independent"]["status"], "Completed")

    def test_logs_by_offset_while_running(self):
        plan = pipeline([step("talk", "echo first; sleep 1; echo second")], type="command",
                        force_rerun=True)
        name = self.submit(plan)["name"]
        seen, offset, complete = "", 0, False
        deadline = time.time() + 30
        while not complete and time.time() < deadline:
            chunk = self.log(name, "talk", offset)
            self.assertEqual(chunk["next_offset"], offset + len(chunk["data"].encode()))
            seen += chunk["data"]
            offset, complete = chunk["next_offset"], chunk["complete"]
            if not complete:
                time.sleep(0.1)
        self.assertTrue(complete)
        self.assertEqual(seen, "first\nsecond\n")
        tail = self.log(name, "talk", 6)
        self.assertEqual(tail["data"], "second\n")

    def test_bad_plans_are_refused(self):
        cases = [
            (pipeline([]), "no steps"),
            (pipeline([step("a", "true"), step("a", "true")]), "unique"),
            (pipeline([step("a", "true", depends_on=["zz"])]), "not a step"),
            (pipeline([step("a", "true", inputs={"x": from_step("b", "o")}, outputs=folder()),
                       step("b", "true", inputs={"x": from_step("a", "o")}, outputs=folder())]),
             "cycle"),
            (pipeline([step("a", "true", compute="nowhere")]), "nowhere"),
            (pipeline([step("a", "true")], name="bad/name"), "invalid"),
        ]
        for plan, expect in cases:
            body = self.err(self.server.call("POST", CAIRN + "jobs/create", body={"plan": plan}),
                            400, "INVALID_PARAMETER_VALUE", expect)
            self.assertIn(expect, body["message"])
        self.err(self.server.call("GET", CAIRN + "jobs/get", params={"name": "nope"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "unknown job")
        # A user-chosen name is unique.
        self.wait(self.submit(pipeline([step("a", "true")], name="named-once"))["name"])
        self.err(self.server.call("POST", CAIRN + "jobs/create",
                                  body={"plan": pipeline([step("a", "true")],
                                                         name="named-once")}),
                 400, "RESOURCE_ALREADY_EXISTS", "duplicate job name")

    def test_computes_and_list(self):
        computes = self.ok(self.server.call("GET", CAIRN + "computes/list"), "list")["computes"]
        local = [c for c in computes if c["name"] == "local"]
        self.assertEqual(len(local), 1)
        self.assertEqual(local[0]["max_concurrency"], os.cpu_count())
        self.ok(self.server.call("POST", CAIRN + "computes/create",
                                 body={"name": "tmp-c", "max_concurrency": 3}), "create")
        got = self.ok(self.server.call("GET", CAIRN + "computes/get", params={"name": "tmp-c"}),
                      "get")["compute"]
        self.assertEqual(got["max_concurrency"], 3)
        self.ok(self.server.call("POST", CAIRN + "computes/delete", body={"name": "tmp-c"}), "del")
        self.err(self.server.call("POST", CAIRN + "computes/delete", body={"name": "local"}), 400,
                 "INVALID_STATE", "delete local")
        name = self.submit(pipeline([step("a", "true")], type="command"))["name"]
        self.wait(name)
        jobs = self.ok(self.server.call("GET", CAIRN + "jobs/list",
                                        params={"status": "Completed", "max_results": 500}),
                       "jobs/list")["jobs"]
        self.assertIn(name, [j["name"] for j in jobs])
        self.assertTrue(all(j["status"] == "Completed" for j in jobs))


if __name__ == "__main__":
    unittest.main()
