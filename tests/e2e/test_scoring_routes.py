"""The scoring data plane is wired into `cairn server` on its own port: KServe V2 health,
Prometheus metrics, and the scoring routes' error shapes for endpoints that do not exist.
(Endpoints are created through the control plane's routes; scoring real models over HTTP is
covered by src/api/scoring_routes_test.cc and, once the control plane is merged, by its e2e.)"""
import unittest

from harness import ServerTestCase


class ScoringRoutesWiring(ServerTestCase):
    def test_v2_health(self):
        r = self.server.request("GET", "/v2/health/live")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"live": True})
        r = self.server.request("GET", "/v2/health/ready")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"ready": True})
        r = self.server.request("GET", "/v2")
        self.assertEqual(r.json["name"], "cairn")

    def test_metrics_are_prometheus_text(self):
        r = self.server.request("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers)
        self.assertIn(b"# TYPE cairn_serving_requests_total counter", r.body)

    def test_unknown_endpoint_errors(self):
        r = self.server.request("POST", "/v2/models/nope/infer", body={"inputs": []})
        self.assertEqual(r.status, 404, r)
        self.assertIn("nope", r.json["error"])
        r = self.server.request("GET", "/v2/models/nope")
        self.assertEqual(r.status, 404, r)
        self.assertIn("error", r.json)
        r = self.server.request("POST", "/endpoints/nope/invocations",
                                body={"dataframe_records": [{"a": 1}]})
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json["error_code"], "RESOURCE_DOES_NOT_EXIST")
        r = self.server.request("POST", "/endpoints/nope/score", body={"data": [[1]]})
        self.assertEqual(r.status, 404, r)
        r = self.server.request("POST", "/endpoints/nope/other", body={})
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
