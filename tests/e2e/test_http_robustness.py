"""The HTTP layer under bad and awkward input, over raw sockets: malformed
requests get a 4xx and the server keeps serving; limits hold; keep-alive,
pipelining, chunked bodies, `Expect: 100-continue` and idle-connection
shutdown behave as HTTP/1.1 clients expect."""

import json
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import API, CairnServer, ServerTestCase


def raw(port, data, timeout=10.0, read_until_close=True):
    """Sends bytes, returns everything the server answers until it closes (or times out)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
                if not read_until_close:
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class HttpRobustnessTest(ServerTestCase):
    def assert_alive(self):
        status, body = self.server.get("/experiments/get", {"experiment_id": "0"})
        self.assertEqual(status, 200, f"server stopped answering: {status} {body}")

    def test_garbage_request_line_gets_400_and_server_survives(self):
        for junk in (b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"HELLO WORLD HTTP/9.9\r\n\r\n",
                     b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"):
            resp = raw(self.server.port, junk)
            self.assertEqual(status_of(resp), 400, f"{junk!r} -> {resp[:200]!r}")
        self.assert_alive()

    def test_oversized_headers_get_431(self):
        big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n"
        resp = raw(self.server.port, big)
        self.assertEqual(status_of(resp), 431, resp[:200])
        self.assert_alive()

    def test_truncated_body_does_not_hang_or_crash(self):
        req = (f"POST {API}/experiments/create HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\"").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)  # the client gives up mid-body
            s.recv(100)
        self.assert_alive()

    def test_keep_alive_and_pipelining(self):
        one = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        last = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        resp = raw(self.server.port, one * 3 + last)
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 4, resp)

    def test_chunked_request_body(self):
        body = json.dumps({"name": "chunked-exp"}).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        req = (f"POST {API}/experiments/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked
        resp = raw(self.server.port, req)
        self.assertEqual(status_of(resp), 200, resp)
        self.assertIn(b"experiment_id", resp)

    def test_expect_100_continue(self):
        body = json.dumps({"name": "continue-exp"}).encode()
        head = (f"POST {API}/experiments/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(head)
            interim = s.recv(1000)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue"), interim)
            s.sendall(body)
            final = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                final += b
        self.assertEqual(status_of(final), 200, final)

    def test_percent_encoded_query_and_path(self):
        status, body = self.server.get("/experiments/get-by-name",
                                       {"experiment_name": "no such & weird/name+x"})
        self.assertEqual(status, 404, body)
        self.assertIn("no such & weird/name+x", body.get("message", ""), body)

    def test_unknown_method_and_path(self):
        resp = raw(self.server.port, b"BREW /coffee HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(status_of(resp), (400, 404, 405), resp[:200])
        resp = raw(self.server.port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 404, resp[:200])
        self.assert_alive()


    # -- regressions from the review of the HTTP layer and the API ------------------------------

    def test_deeply_nested_json_is_refused_not_fatal(self):
        body = '{"run_id": ' + "[" * 100000 + "]" * 100000 + "}"
        status, resp = self.server.call("POST", f"{API}/runs/log-batch", body=body)
        self.assertEqual(status, 400, resp)
        self.assert_alive()

    def test_transfer_encoding_not_ending_in_chunked_is_refused(self):
        smuggled = (b"POST " + API.encode() + b"/experiments/search HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked, identity\r\n\r\n"
                    b"GET " + API.encode() + b"/experiments/get?experiment_id=0 HTTP/1.1\r\n"
                    b"Host: x\r\n\r\n")
        resp = raw(self.server.port, smuggled)
        self.assertEqual(status_of(resp), 400, resp[:300])
        self.assertEqual(resp.count(b"HTTP/1.1 "), 1, "the smuggled request must not run")
        resp = raw(self.server.port, b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip"
                                     b"\r\nContent-Length: 2\r\n\r\nhi")
        self.assertEqual(status_of(resp), 400, resp[:300])

    def test_head_has_no_body(self):
        resp = raw(self.server.port, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
                                     b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first, _, rest = resp.partition(b"\r\n\r\n")
        self.assertIn(b"200 OK", first)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 OK"), f"HEAD sent a body: {rest[:80]!r}")

    def test_number_overflow_and_unsigned_wrap_are_bad_requests(self):
        status, resp = self.server.call("POST", f"{API}/runs/create",
                                        body='{"experiment_id": "0", "x": 1e400}')
        self.assertEqual(status, 400, resp)
        status, resp = self.server.call("POST", f"{API}/runs/create",
                                        body='{"experiment_id": "0", "start_time": 9223372036854775808}')
        self.assertEqual(status, 400, resp)
        self.assertEqual(resp.get("error_code"), "INVALID_PARAMETER_VALUE", resp)

    def test_default_experiment_cannot_be_deleted_under_another_spelling(self):
        for spelling in ("0", "00", "000"):
            status, resp = self.server.post("/experiments/delete", {"experiment_id": spelling})
            self.assertEqual(status, 400, f"{spelling}: {resp}")
        self.assert_alive()

    def test_malformed_model_json_is_refused(self):
        status, run = self.server.post("/runs/create", {"experiment_id": "0"})
        self.assertEqual(status, 200, run)
        run_id = run["run"]["info"]["run_id"]
        status, resp = self.server.post("/runs/log-model", {
            "run_id": run_id, "model_json": '{"artifact_path": "m", oops'})
        self.assertEqual(status, 400, resp)
        status, resp = self.server.post("/runs/log-model", {
            "run_id": run_id, "model_json": '{"artifact_path": "m"}'})
        self.assertEqual(status, 200, resp)
        status, got = self.server.get("/runs/get", {"run_id": run_id})
        tags = {t["key"]: t["value"] for t in got["run"]["data"].get("tags", [])}
        self.assertEqual(json.loads(tags["mlflow.log-model.history"]), [{"artifact_path": "m"}])

    def test_metric_history_max_results_is_capped(self):
        status, run = self.server.post("/runs/create", {"experiment_id": "0"})
        run_id = run["run"]["info"]["run_id"]
        status, resp = self.server.get("/metrics/get-history", {
            "run_id": run_id, "metric_key": "m", "max_results": "9223372036854775807"})
        self.assertEqual(status, 400, resp)


    def test_large_chunked_upload_streams_to_the_store_and_back(self):
        data = os.urandom(3 * 1024 * 1024 + 5)
        path = "/api/2.0/mlflow-artifacts/artifacts/0/upload-test/artifacts/blob.bin"
        pieces = [data[i:i + 65536] for i in range(0, len(data), 65536)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        req = (f"PUT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode() + body
        resp = raw(self.server.port, req, timeout=30)
        self.assertEqual(status_of(resp), 200, resp[:300])
        got = self.server.request("GET", path)
        self.assertEqual(got.status, 200)
        self.assertEqual(got.body, data, "downloaded bytes differ from the upload")
        # An upload over the limit of a JSON route is refused before its body is read.
        resp = raw(self.server.port, (f"POST {API}/runs/search HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Length: 999999999999\r\n\r\n").encode())
        self.assertEqual(status_of(resp), 413, resp[:200])
        # Uploads stream to disk, so their cap is far higher, but there is one.
        resp = raw(self.server.port, (f"PUT {path} HTTP/1.1\r\nHost: x\r\n"
                                      f"Content-Length: {1 << 41}\r\n\r\n").encode())
        self.assertEqual(status_of(resp), 413, resp[:200])


class SlowClientTest(unittest.TestCase):
    def test_trickling_clients_cannot_starve_others_or_block_shutdown(self):
        server = CairnServer(extra_args=["--threads", "4", "--header-timeout", "2"])
        socks = []
        try:
            server.start()
            # Four connections (all the workers) that send a header line now and then.
            for _ in range(4):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                s.sendall(b"GET /health HTTP/1.1\r\n")
                socks.append(s)
            time.sleep(0.5)
            for s in socks:
                s.sendall(b"X-Slow: 1\r\n")
            # A normal client still gets an answer once the header deadline frees a worker.
            status, body = server.get("/experiments/get", {"experiment_id": "0"})
            self.assertEqual(status, 200, body)
            for s in socks:
                try:
                    data = s.recv(1000)
                except OSError:
                    data = b""
                self.assertTrue(data == b"" or b"408" in data.split(b"\r\n", 1)[0], data[:100])
            code = server.stop(timeout=30)
            self.assertEqual(code, 0, server.logs())
        finally:
            for s in socks:
                s.close()
            server.cleanup()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_with_idle_keep_alive_connection_exits_promptly(self):
        server = CairnServer()
        try:
            server.start()
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", s.recv(1000))
            # The connection now idles in keep-alive; SIGTERM must not wait for it to time out.
            started = time.monotonic()
            code = server.stop(timeout=15)
            elapsed = time.monotonic() - started
            self.assertEqual(code, 0, server.logs())
            self.assertLess(elapsed, 3.0, "shutdown waited for an idle keep-alive connection")
            self.assertEqual(s.recv(100), b"", "idle connection should be closed by shutdown")
            s.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
