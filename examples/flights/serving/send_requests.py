#!/usr/bin/env python3
"""Sends N single-row scoring requests for held-out flights to an endpoint and
prints, per deployment that answered (the azureml-model-deployment response
header), the count and latency percentiles. Standard library only.
Usage: send_requests.py URL ENDPOINT KEY TEST.csv N
"""
import csv
import http.client
import json
import sys
import time
import urllib.parse


def value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main():
    url, endpoint, key, test_csv, n = sys.argv[1:6]
    with open(test_csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for _, r in zip(range(1000), reader)]
    keep = [i for i, name in enumerate(header) if name != "delayed"]
    columns = [header[i] for i in keep]
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    by_deployment, failures = {}, 0
    for i in range(int(n)):
        row = rows[i % len(rows)]
        body = json.dumps({"dataframe_split": {"columns": columns,
                                               "data": [[value(row[j]) for j in keep]]}})
        start = time.perf_counter()
        conn.request("POST", f"/endpoints/{endpoint}/invocations", body,
                     {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        ms = (time.perf_counter() - start) * 1000
        if resp.status != 200:
            failures += 1
            continue
        by_deployment.setdefault(resp.getheader("azureml-model-deployment", "?"), []).append(ms)
    for name, times in sorted(by_deployment.items()):
        times.sort()
        p50 = times[len(times) // 2]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"  {name:<6} {len(times):>5} requests  p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    print(f"  failed {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
