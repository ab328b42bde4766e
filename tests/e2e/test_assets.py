"""Versioned assets over HTTP against the real binary: the content-addressed upload round trip,
the artifact path-traversal CVE patterns applied to the asset routes, the artifact proxy's
read-only view of assets/, and atomicity under kill -9 (a half-received blob never becomes
visible; an acknowledged data version survives).

Run: CAIRN_BIN=build/cairn /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_assets.py' -v
"""

import hashlib
import os
import socket
import sys
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runnable by file path too

from harness import ARTIFACTS_API, CairnServer, ServerTestCase  # noqa: E402

CAIRN = "/api/2.0/cairn"
SECRET = b"top secret canary"


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class AssetsTestCase(ServerTestCase):

    def put_blob(self, data):
        h = sha256(data)
        r = self.server.request("PUT", f"{CAIRN}/blobs/{h}", body=data)
        self.assertEqual(r.status, 200, f"PUT blobs/{h}: {r}")
        self.assertEqual(r.json, {"sha256": h, "size": len(data)})
        return {"sha256": h, "size": len(data)}

    def create_data(self, name, files, **extra):
        """Uploads {path: bytes} and registers them as a data version; returns the asset."""
        manifest = []
        for path, data in files.items():
            manifest.append(dict(self.put_blob(data), path=path))
        body = dict(name=name, files=manifest, **extra)
        return self.ok(self.server.post("/data/create", body, prefix=CAIRN),
                       f"data/create {name}")["asset"]

    def canary(self):
        """A file outside the workspace that no request may read, change or delete."""
        path = os.path.join(self.server.root, "secret.txt")
        with open(path, "wb") as f:
            f.write(SECRET)
        return path


class TestRoundTrip(AssetsTestCase):

    def test_blobs_missing_put_create_files_download(self):
        srv = self.server
        a, b = os.urandom(3000), b"label,value\n1,2\n"
        ha, hb = sha256(a), sha256(b)
        missing = self.ok(srv.post("/blobs/missing", {"sha256": [ha, hb, ha]}, prefix=CAIRN),
                          "blobs/missing")["missing"]
        self.assertEqual(sorted(missing), sorted({ha, hb}))
        self.put_blob(a)
        missing = self.ok(srv.post("/blobs/missing", {"sha256": [ha, hb]}, prefix=CAIRN),
                          "blobs/missing after upload")["missing"]
        self.assertEqual(missing, [hb])
        self.put_blob(b)
        name = uniq("rt")
        manifest = [{"path": "raw/a.bin", "sha256": ha, "size": len(a)},
                    {"path": "labels.csv", "sha256": hb, "size": len(b)}]
        created = self.ok(srv.post("/data/create", {"name": name, "files": manifest,
                                                    "tags": {"team": "ml"}}, prefix=CAIRN),
                          "data/create")
        self.assertTrue(created["created"])
        asset = created["asset"]
        self.assertEqual((asset["version"], asset["type"], asset["file_count"]),
                         ("1", "uri_folder", 2))
        self.assertEqual(asset["tags"], {"team": "ml"})
        again = self.ok(srv.post("/data/create", {"name": name, "version": "1",
                                                  "files": list(reversed(manifest))},
                                 prefix=CAIRN), "data/create again")
        self.assertFalse(again["created"])
        self.err(srv.post("/data/create", {"name": name, "version": "1", "files": manifest[:1]},
                          prefix=CAIRN), 400, "RESOURCE_ALREADY_EXISTS", "changed content")

        listed = self.ok(srv.get("/data/files", {"ref": f"{name}:1"}, prefix=CAIRN),
                         "data/files")["files"]
        self.assertEqual([(f["path"], f["size"], f["sha256"]) for f in listed],
                         [("labels.csv", len(b), hb), ("raw/a.bin", len(a), ha)])
        for path, data in (("raw/a.bin", a), ("labels.csv", b)):
            r = srv.request("GET", f"{CAIRN}/data/download",
                            params={"ref": f"azureml:{name}@latest", "path": path})
            self.assertEqual(r.status, 200, f"download {path}: {r}")
            self.assertEqual(r.body, data, f"download {path}: bytes differ")

        # A PUT whose bytes do not hash to the name is refused and stores nothing.
        bogus = sha256(b"promised")
        r = srv.request("PUT", f"{CAIRN}/blobs/{bogus}", body=b"delivered")
        self.assertEqual(r.status, 400, r)
        missing = self.ok(srv.post("/blobs/missing", {"sha256": [bogus, sha256(b"delivered")]},
                                   prefix=CAIRN), "missing after bad PUT")["missing"]
        self.assertEqual(sorted(missing), sorted([bogus, sha256(b"delivered")]))

    def test_unnamed_put_is_stored_under_the_hash_of_its_bytes(self):
        # Large enough to be spooled (hashed while it arrives), and a small one
        # that arrives in memory: both are named by their content.
        for data in (os.urandom(3 << 20) + b"tail", b"small body"):
            r = self.server.request("PUT", f"{CAIRN}/blobs", body=data)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"sha256": sha256(data), "size": len(data)})
            missing = self.ok(self.server.post("/blobs/missing", {"sha256": [sha256(data)]},
                                               prefix=CAIRN), "missing")["missing"]
            self.assertEqual(missing, [])
        asset = self.create_data(uniq("unnamed"), {"f.bin": b"small body"})
        self.assertEqual(asset["size_bytes"], len(b"small body"))

    def test_manifest_naming_a_missing_blob_is_refused(self):
        h = sha256(uuid.uuid4().bytes)
        body = self.err(self.server.post("/data/create", {
            "name": uniq("gap"), "files": [{"path": "x", "sha256": h, "size": 16}]},
            prefix=CAIRN), 400, "INVALID_STATE", "missing blob")
        self.assertIn(h, body["message"])


class TestAssetPathSafety(AssetsTestCase):
    """MLflow's artifact path-traversal CVE family, aimed at the asset routes."""

    def setUp(self):
        self.secret = self.canary()
        self.asset = self.create_data(uniq("safe"), {"in.csv": b"inside"})
        code = [dict(self.put_blob(b"print(1)\n"), path="train.py")]
        self.code = self.ok(self.server.post("/code/create", {"files": code}, prefix=CAIRN),
                            "code/create")["asset"]

    def check_untouched(self, problems, where, r):
        if SECRET in r.body:
            problems.append(f"SECURITY: {where} returned the canary outside the workspace")
        try:
            with open(self.secret, "rb") as f:
                if f.read() != SECRET:
                    problems.append(f"SECURITY: {where} changed the canary")
        except FileNotFoundError:
            problems.append(f"SECURITY: {where} deleted the canary")
        with open(self.secret, "wb") as f:
            f.write(SECRET)

    def test_download_paths(self):
        srv = self.server
        rel = "../" * 16 + self.secret.lstrip("/")
        paths = [rel, self.secret, "in.csv/../" + rel, "%2e%2e/" * 16 + self.secret.lstrip("/"),
                 "..%2f" * 16 + self.secret.lstrip("/"), "..\\..\\secret.txt",
                 "in.csv\x00.txt", "file:" + self.secret, "../../../cairn.db",
                 "../" * 3 + "secret.txt"]
        problems = []
        for kind, ref in (("data", f"{self.asset['name']}:1"),
                          ("code", self.code["content_hash"])):
            for path in paths:
                params = {"ref": ref, "path": path}
                r = srv.request("GET", f"{CAIRN}/{kind}/download", params=params)
                where = f"GET {kind}/download?{urllib.parse.urlencode(params)}"
                self.check_untouched(problems, where, r)
                if r.status != 400 or (r.json or {}).get("error_code") != \
                        "INVALID_PARAMETER_VALUE":
                    problems.append(f"{where}: expected 400 INVALID_PARAMETER_VALUE, got {r}")
            # Double encoding in the raw query string: decoded once, it is still refused.
            raw = (f"{CAIRN}/{kind}/download?ref={urllib.parse.quote(ref)}&path="
                   + "%252e%252e%252f" * 16 + urllib.parse.quote(self.secret.lstrip("/")))
            r = srv.request("GET", raw)
            self.check_untouched(problems, f"GET {raw}", r)
            if r.status != 400:
                problems.append(f"GET {raw}: expected 400, got {r}")
        # Unknown entities are 404, whatever the path.
        for kind, ref in (("data", "nope:1"), ("code", sha256(b"unknown"))):
            r = srv.request("GET", f"{CAIRN}/{kind}/download", params={"ref": ref, "path": rel})
            self.check_untouched(problems, f"{kind}/download unknown", r)
            if r.status not in (400, 404):
                problems.append(f"{kind}/download of unknown {ref}: expected 400/404, got {r}")
        if problems:
            self.fail("asset download path traversal:\n" + "\n".join(problems))

    def test_manifest_paths_in_data_and_code_create(self):
        srv = self.server
        blob = self.put_blob(b"evil bytes")
        outside = srv.root.lstrip("/")
        problems = []
        for tmpl in ["../" * 16 + outside + "/{m}", "/" + outside + "/{m}", "a/../../{m}",
                     "%2e%2e/" * 16 + outside + "/{m}", "..%2f{m}", "a\\..\\..\\{m}",
                     "x\x00/{m}", "file:/{m}", "./{m}", "a//../{m}"]:
            marker = uniq("pwned")
            path = tmpl.format(m=marker)
            for endpoint, body in (("/data/create", {"name": uniq("trav"),
                                                     "files": [dict(blob, path=path)]}),
                                   ("/code/create", {"files": [dict(blob, path=path)]})):
                status, resp = srv.post(endpoint, body, prefix=CAIRN)
                hits = self.files_outside_workspace(marker)
                if hits:
                    problems.append(f"SECURITY: {endpoint} path {path!r} wrote {hits}")
                if status != 400 or (resp or {}).get("error_code") != "INVALID_PARAMETER_VALUE":
                    problems.append(f"{endpoint} path {path!r}: expected 400 "
                                    f"INVALID_PARAMETER_VALUE, got {status} {resp}")
        if problems:
            self.fail("manifest path traversal:\n" + "\n".join(problems))

    def test_blob_names(self):
        srv = self.server
        outside = srv.root.lstrip("/")
        problems = []
        for tmpl in ["{m}", "../../{m}", "..%2f..%2f" + outside + "/{m}",
                     "%2e%2e%2f" * 16 + outside + "/{m}", "%2F" + outside + "/{m}",
                     "ab/" + "0" * 64, sha256(b"x").upper(), sha256(b"x")[:63] + "{m}"]:
            marker = uniq("pwned")
            path = f"{CAIRN}/blobs/" + tmpl.format(m=marker)
            r = srv.request("PUT", path, body=b"evil")
            hits = self.files_outside_workspace(marker)
            if hits:
                problems.append(f"SECURITY: PUT {path} wrote {hits}")
            if r.status not in (400, 404):
                problems.append(f"PUT {path}: expected 400 (or 404), got {r}")
        # Names that are not SHA-256 hashes never reach the store.
        for bad in (["../../etc/passwd"], ["G" * 64], [sha256(b"x")[:10]], "notalist"):
            status, body = srv.post("/blobs/missing", {"sha256": bad}, prefix=CAIRN)
            if status != 400:
                problems.append(f"blobs/missing {bad!r}: expected 400, got {status} {body}")
        if problems:
            self.fail("blob name traversal:\n" + "\n".join(problems))

    def test_datastore_uris(self):
        srv = self.server
        root = os.path.join(srv.root, "lake")
        os.makedirs(os.path.join(root, "folder"), exist_ok=True)
        with open(os.path.join(root, "folder", "ok.csv"), "wb") as f:
            f.write(b"ok")
        os.symlink(self.secret, os.path.join(root, "folder", "leak.txt"))
        os.symlink(self.secret, os.path.join(root, "leak.txt"))
        ds = uniq("lake")
        self.ok(srv.post("/datastores/create", {"name": ds, "path": root}, prefix=CAIRN),
                "datastores/create")
        self.err(srv.post("/datastores/create", {"name": uniq("rel"), "path": "relative/dir"},
                          prefix=CAIRN), 400, "INVALID_PARAMETER_VALUE", "relative root")
        problems = []
        for uri in [f"azureml://datastores/{ds}/paths/../secret.txt",
                    f"azureml://datastores/{ds}/paths/../..",
                    f"azureml://datastores/{ds}/paths/folder/../../secret.txt",
                    f"azureml://datastores/{ds}/paths/%2e%2e/secret.txt",
                    f"azureml://datastores/{ds}/paths/leak.txt",
                    f"azureml://datastores/{ds}/paths/folder",
                    f"cairn://datastores/{ds}/paths/" + "../" * 16 + self.secret.lstrip("/"),
                    f"azureml://datastores/../{ds}/paths/folder",
                    "file://" + self.secret, self.secret]:
            status, body = srv.post("/data/create", {"name": uniq("esc"), "path": uri},
                                    prefix=CAIRN)
            if status != 400:
                problems.append(f"data/create path={uri}: expected 400, got {status} {body}")
            if SECRET in repr(body).encode():
                problems.append(f"SECURITY: data/create path={uri} echoed the canary")
        missing = self.ok(srv.post("/blobs/missing", {"sha256": [sha256(SECRET)]}, prefix=CAIRN),
                          "blobs/missing canary")["missing"]
        if missing != [sha256(SECRET)]:
            problems.append("SECURITY: the canary's bytes were copied into the blob store")
        status, body = srv.post("/data/create", {"name": uniq("ok"),
                                                 "path": f"azureml://datastores/{ds}/paths/"
                                                         "folder/ok.csv"}, prefix=CAIRN)
        if status != 200:
            problems.append(f"a file inside the datastore was refused: {status} {body}")
        if problems:
            self.fail("datastore path traversal:\n" + "\n".join(problems))


class TestArtifactProxyOverAssets(AssetsTestCase):

    def test_proxy_reads_but_never_writes_assets(self):
        srv = self.server
        asset = self.create_data(uniq("proxy"), {"f.csv": b"asset bytes"})
        path = f"{ARTIFACTS_API}/{asset['storage_path']}/f.csv"
        r = srv.request("GET", path)
        self.assertEqual(r.status, 200, f"GET {path}: {r}")
        self.assertEqual(r.body, b"asset bytes")
        for method, target in (("PUT", path), ("PUT", f"{ARTIFACTS_API}/assets/data/new.bin"),
                               ("PUT", f"{ARTIFACTS_API}/assets"), ("DELETE", path),
                               ("DELETE", f"{ARTIFACTS_API}/assets"),
                               ("DELETE", f"{ARTIFACTS_API}/assets/{asset['storage_path'][7:]}/"),
                               ("PUT", f"{ARTIFACTS_API}/assets//data/x")):
            r = srv.request(method, target, body=b"overwrite" if method == "PUT" else None)
            self.assertEqual(r.status, 403, f"{method} {target}: {r}")
            self.assertEqual((r.json or {}).get("error_code"), "PERMISSION_DENIED", r)
        # Other spellings are refused as malformed before they could name assets/.
        for method, target in (("DELETE", f"{ARTIFACTS_API}//assets/data"),
                               ("PUT", f"{ARTIFACTS_API}/x/../{asset['storage_path']}/f.csv"),
                               ("DELETE", f"{ARTIFACTS_API}/%2e/assets")):
            r = srv.request(method, target, body=b"overwrite" if method == "PUT" else None)
            self.assertIn(r.status, (400, 403), f"{method} {target}: {r}")
        r = srv.request("GET", path)
        self.assertEqual(r.body, b"asset bytes", "the asset changed through the proxy")
        r = srv.request("GET", f"{CAIRN}/data/download",
                        params={"ref": f"{asset['name']}:1", "path": "f.csv"})
        self.assertEqual(r.body, b"asset bytes")


class TestAtomicityUnderKill9(unittest.TestCase):
    """Each test owns its server, since it kills it."""

    def setUp(self):
        self.server = CairnServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def blob_files(self):
        """Blob files outside the temp area: {name: path}."""
        root = os.path.join(self.server.workspace, "artifacts", "blobs")
        out = {}
        for dirpath, dirs, files in os.walk(root):
            if os.path.relpath(dirpath, root).split(os.sep)[0] == "tmp":
                dirs[:] = []
                continue
            for f in files:
                out[f] = os.path.join(dirpath, f)
        return out

    def spooled_bytes(self):
        tmp = os.path.join(self.server.workspace, "artifacts", "blobs", "tmp")
        total = 0
        for f in os.listdir(tmp) if os.path.isdir(tmp) else []:
            try:
                total += os.path.getsize(os.path.join(tmp, f))
            except OSError:
                pass
        return total

    def verify(self):
        status, body = self.server.post("/artifacts/verify", {}, prefix=CAIRN)
        self.assertEqual(status, 200, body)
        self.assertTrue(body.get("ok"), f"artifacts verify after kill -9: {body}")
        return body

    def test_kill9_mid_blob_upload_leaves_no_visible_blob(self):
        srv = self.server
        size = 50 * 1024 * 1024
        data = os.urandom(1024 * 1024) * 50
        h = sha256(data)
        head = (f"PUT {CAIRN}/blobs/{h} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n")
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            sock.sendall(head.encode() + data[:size // 2])
            # Wait (bounded) until the server has spooled part of the body.
            deadline = time.monotonic() + 10
            while self.spooled_bytes() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertGreater(self.spooled_bytes(), 0, "the upload never reached the spool")
            srv.kill()
        finally:
            sock.close()
        self.assertNotIn(h, self.blob_files(), "a half-written blob is visible after kill -9")

        srv.start()
        missing = srv.post("/blobs/missing", {"sha256": [h]}, prefix=CAIRN)
        self.assertEqual(missing, (200, {"missing": [h]}))
        self.assertNotIn(h, self.blob_files())
        self.verify()
        # The interrupted upload can simply be sent again.
        r = srv.request("PUT", f"{CAIRN}/blobs/{h}", body=data, timeout=60)
        self.assertEqual(r.status, 200, r)
        self.assertIn(h, self.blob_files())
        self.assertEqual(srv.post("/blobs/missing", {"sha256": [h]}, prefix=CAIRN),
                         (200, {"missing": []}))
        self.verify()

    def test_acknowledged_data_version_survives_kill9(self):
        srv = self.server
        data = b"durable,bytes\n" * 100
        h = sha256(data)
        r = srv.request("PUT", f"{CAIRN}/blobs/{h}", body=data)
        self.assertEqual(r.status, 200, r)
        status, body = srv.post("/data/create", {"name": "durable", "files": [
            {"path": "d.csv", "sha256": h, "size": len(data)}]}, prefix=CAIRN)
        self.assertEqual(status, 200, body)
        srv.kill()
        srv.start()
        status, body = srv.get("/data/get", {"ref": "durable:1"}, prefix=CAIRN)
        self.assertEqual(status, 200, f"acknowledged data version lost after kill -9: {body}")
        # The content hash is the SHA-256 of the manifest text ("<sha256> <size> <path>\n").
        self.assertEqual(body["asset"]["content_hash"], sha256(f"{h} {len(data)} d.csv\n".encode()))
        r = srv.request("GET", f"{CAIRN}/data/download", params={"ref": "durable@latest",
                                                                   "path": "d.csv"})
        self.assertEqual((r.status, r.body), (200, data))
        self.verify()


if __name__ == "__main__":
    unittest.main()
