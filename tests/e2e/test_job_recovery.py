#!/usr/bin/env python3
"""Crash recovery of pipelines: kill -9 the server in the middle of a step, restart it on the
same workspace, and the job finishes - the running step reattached (run once), or its recorded
exit status read when it ended meanwhile, or (its process gone without a status) retried with a
note. Never silently lost, never run twice without saying so."""

import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CairnServer  # noqa: E402

CAIRN = "/api/2.0/cairn/"


class JobRecoveryTest(unittest.TestCase):

    def setUp(self):
        self.server = CairnServer()
        self.server.start()
        self.marks = os.path.join(self.server.root, "marks")
        os.makedirs(self.marks)

    def tearDown(self):
        self.server.cleanup()

    def call(self, method, endpoint, **kw):
        status, body = self.server.call(method, CAIRN + endpoint, **kw)
        self.assertEqual(status, 200, f"{endpoint}: {status} {body}\n" + self.server.logs())
        return body

    def plan(self, slow_command, max_attempts=1):
        return {"type": "pipeline", "force_rerun": True, "steps": [
            {"name": "slow", "command": slow_command, "outputs": {"o": {"type": "uri_folder"}},
             "retry": {"max_attempts": max_attempts}},
            {"name": "after", "command": f"cat ${{{{inputs.x}}}}/x > {self.marks}/after.out; "
                                         f"echo ran >> {self.marks}/after.count",
             "inputs": {"x": {"kind": "step_output", "from_step": "slow", "from_output": "o"}}},
        ]}

    def start_and_crash(self, plan):
        name = self.call("POST", "jobs/create", body={"plan": plan})["job"]["name"]
        started = os.path.join(self.marks, "slow.count")
        for _ in range(400):
            if os.path.exists(started):
                break
            time.sleep(0.025)
        self.assertTrue(os.path.exists(started), "the slow step never started\n" +
                        self.server.logs())
        # The scheduler records "Running" asynchronously (group commit): wait
        # for it, so the crash hits a step the store knows is running.
        for _ in range(200):
            job = self.call("GET", "jobs/get", params={"name": name})["job"]
            slow = job["steps"][0]
            if slow["status"] == "Running":
                break
            time.sleep(0.01)
        self.assertEqual(slow["status"], "Running", job)
        self.server.kill()  # kill -9 mid-step
        return name, slow["pid"]

    def finish(self, name):
        self.server.start()
        job = self.call("GET", "jobs/wait", params={"name": name, "timeout_seconds": 60})["job"]
        return job, {s["name"]: s for s in job["steps"]}

    def count(self, what):
        with open(os.path.join(self.marks, what + ".count")) as f:
            return len(f.read().split())

    def test_running_step_is_reattached_and_runs_once(self):
        cmd = (f"echo ran >> {self.marks}/slow.count; sleep 2; "
               "echo payload > ${{outputs.o}}/x")
        name, _ = self.start_and_crash(self.plan(cmd))
        job, st = self.finish(name)
        self.assertEqual(job["status"], "Completed", job)
        self.assertEqual(st["slow"]["attempt"], 1)
        self.assertIn("reattached to attempt 1", st["slow"]["notes"])
        self.assertEqual(self.count("slow"), 1, "the slow step ran twice")
        self.assertEqual(self.count("after"), 1)
        with open(os.path.join(self.marks, "after.out")) as f:
            self.assertEqual(f.read().strip(), "payload")
        # The MLflow runs agree.
        status, run = self.server.get("/runs/get", {"run_id": job["run_id"]})
        self.assertEqual(run["run"]["info"]["status"], "FINISHED")

    def test_step_that_ended_while_down_keeps_its_result(self):
        cmd = (f"echo ran >> {self.marks}/slow.count; sleep 0.5; "
               "echo payload > ${{outputs.o}}/x")
        name, _ = self.start_and_crash(self.plan(cmd))
        time.sleep(1.5)  # the step ends while no server runs
        job, st = self.finish(name)
        self.assertEqual(job["status"], "Completed", job)
        self.assertEqual(st["slow"]["attempt"], 1)
        self.assertIn("had ended meanwhile (exit code 0)", st["slow"]["notes"])
        self.assertEqual(self.count("slow"), 1)

    def test_lost_step_is_retried_with_a_note(self):
        cmd = (f"echo ran >> {self.marks}/slow.count; sleep 2; "
               "echo payload > ${{outputs.o}}/x")
        name, pid = self.start_and_crash(self.plan(cmd, max_attempts=2))
        # The machine "rebooted": the step's processes are gone without a trace.
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
        job, st = self.finish(name)
        self.assertEqual(job["status"], "Completed", job)
        self.assertEqual(st["slow"]["attempt"], 2)
        self.assertIn("attempt 1 failed (lost: server restarted", st["slow"]["notes"])
        self.assertEqual(self.count("slow"), 2)  # ran twice, and said so
        self.assertEqual(self.count("after"), 1)

    def test_graceful_stop_answers_waiters_and_leaves_steps_running(self):
        cmd = (f"echo ran >> {self.marks}/slow.count; sleep 2; "
               "echo payload > ${{outputs.o}}/x")
        name = self.call("POST", "jobs/create", body={"plan": self.plan(cmd)})["job"]["name"]
        started = os.path.join(self.marks, "slow.count")
        for _ in range(400):
            if os.path.exists(started):
                break
            time.sleep(0.025)
        answers = []
        waiter = threading.Thread(target=lambda: answers.append(self.server.call(
            "GET", CAIRN + "jobs/wait", params={"name": name, "timeout_seconds": 300})))
        waiter.start()
        time.sleep(0.3)
        t0 = time.time()
        self.assertEqual(self.server.stop(), 0, self.server.logs())
        self.assertLess(time.time() - t0, 10, "a pending jobs/wait held the server open")
        waiter.join(10)
        self.assertEqual(answers[0][1]["job"]["status"], "Running")
        job, st = self.finish(name)
        self.assertEqual(job["status"], "Completed", job)
        self.assertIn("reattached to attempt 1", st["slow"]["notes"])
        self.assertEqual(self.count("slow"), 1)

    def test_lost_step_without_retries_fails_the_job(self):
        cmd = f"echo ran >> {self.marks}/slow.count; sleep 2"
        name, pid = self.start_and_crash(self.plan(cmd))
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
        job, st = self.finish(name)
        self.assertEqual(job["status"], "Failed", job)
        self.assertIn("lost: server restarted", st["slow"]["error"])
        self.assertEqual(st["after"]["status"], "Canceled")


if __name__ == "__main__":
    unittest.main()
