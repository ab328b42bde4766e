// serving/python_adapter.cc: Cairn's Python adapter for Azure-ML-style scoring
// scripts, embedded in the binary so a fresh clone and an installed `cairn`
// both have it. Run as `python -u -c <source> <score.py>`; stdlib only.
// Protocol (docs/serving.md): frames are a 4-byte big-endian length and that
// many bytes, over the Unix socket at file descriptor $CAIRN_WORKER_FD.
//   worker -> cairn, once:  "R" (init() done) | "E" + traceback (init failed)
//   cairn -> worker:        the request body (raw_data, UTF-8)
//   worker -> cairn:        "O" + JSON of run()'s result | "E" + error text
//   cairn -> worker:        a header of length 0xFFFFFFFF, no payload: a
//                           liveness ping, answered "P"
#include "serving/worker_runtime.h"

namespace cairn::serving {

const std::string& PythonAdapterSource() {
  static const std::string kSource = R"PY(
import importlib.util, json, os, socket, struct, sys, traceback

def _default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError("run() returned a %s, which is not JSON serializable" % type(o).__name__)

def main():
    script = os.path.abspath(sys.argv[1])
    sock = socket.socket(fileno=int(os.environ.get("CAIRN_WORKER_FD", "3")))

    def send(payload):
        sock.sendall(struct.pack(">I", len(payload)) + payload)

    def recv_exact(n):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = sock.recv_into(view[got:], n - got)
            if k == 0:
                return None
            got += k
        return bytes(buf)

    sys.path.insert(0, os.path.dirname(script))
    sys.argv = [script]
    try:
        spec = importlib.util.spec_from_file_location("score", script)
        module = importlib.util.module_from_spec(spec)
        sys.modules["score"] = module
        spec.loader.exec_module(module)
        if hasattr(module, "init"):
            module.init()
        run = getattr(module, "run")
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        send(b"E" + text.encode("utf-8", "replace"))
        return 1
    send(b"R")
    while True:
        head = recv_exact(4)
        if head is None:
            return 0
        length = struct.unpack(">I", head)[0]
        if length == 0xFFFFFFFF:  # liveness ping
            send(b"P")
            continue
        body = recv_exact(length)
        if body is None:
            return 0
        try:
            result = run(body.decode("utf-8", "replace"))
            out = b"O" + json.dumps(result, default=_default).encode("utf-8")
        except BaseException as e:
            traceback.print_exc()
            out = b"E" + ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")
        send(out)

sys.exit(main())
)PY";
  return kSource;
}

}  // namespace cairn::serving
