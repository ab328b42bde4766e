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
