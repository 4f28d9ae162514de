"""Shared plumbing for the imgflush test emulators (Python 3 standard library only).

Every emulator built on this module:
  * listens on 127.0.0.1 (--host to change; tests must keep to loopback) on --port
    (0 = let the OS pick; the chosen port is printed);
  * prints exactly one line `READY <port>` on stdout (flushed) once it accepts connections;
  * exits cleanly (status 0) on SIGTERM or SIGINT;
  * records every request it receives: `GET /__requests` answers a JSON list of
    {method, path, query, headers, body, ts_ms}; `DELETE /__requests` clears it.
    The /__requests calls themselves are not recorded.
"""
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs


class Recorder:
    def __init__(self):
        self._lock = threading.Lock()
        self._items = []

    def add(self, entry):
        with self._lock:
            self._items.append(entry)

    def list(self):
        with self._lock:
            return list(self._items)

    def clear(self):
        with self._lock:
            self._items.clear()


class Handler(BaseHTTPRequestHandler):
    """Base handler: reads the body once, records the request, dispatches to route()."""

    protocol_version = "HTTP/1.1"
    server_version = "imgflush-emulator"
    sys_version = ""
    recorder = None  # set by serve()
    quiet = True

    def log_message(self, fmt, *args):  # keep stdout for the READY line only
        if not self.quiet:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    # ---- request helpers -------------------------------------------------
    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    @property
    def path_only(self):
        return urlsplit(self.path).path

    @property
    def query(self):
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def record_entry(self):
        return {
            "method": self.command,
            "path": self.path_only,
            "query": urlsplit(self.path).query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": self.body.decode("utf-8", "replace"),
            "ts_ms": int(time.time() * 1000),
        }

    # ---- responses -------------------------------------------------------
    def send(self, status, body=b"", content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def json_body(self):
        """Parsed JSON body, or raises ValueError."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body.decode("utf-8"))

    # ---- dispatch --------------------------------------------------------
    def _handle(self):
        self.body = self._read_body()
        if self.path_only == "/__requests":
            if self.command == "GET":
                return self.send(200, self.recorder.list())
            if self.command == "DELETE":
                self.recorder.clear()
                return self.send(200, {"status": "cleared"})
        self.entry = None
        if self.should_record():
            self.entry = self.record_entry()
            self.recorder.add(self.entry)
        try:
            self.route()
        except BrokenPipeError:
            pass

    def should_record(self):
        return True

    def route(self):  # overridden
        self.send(404, {"error": "not found"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def serve(handler_cls, host, port, on_ready=None):
    """Start the server, print READY <port>, block until SIGTERM/SIGINT."""
    handler_cls.recorder = Recorder()
    if getattr(handler_cls, "die_with_parent", False):
        die_with_parent()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer((host, port), handler_cls)
    httpd.recorder = handler_cls.recorder
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    actual = httpd.server_address[1]
    if on_ready:
        on_ready(actual)
    else:
        print("READY %d" % actual, flush=True)
    while not stop.is_set():
        stop.wait(0.2)
    httpd.shutdown()
    httpd.server_close()
    return 0


def die_with_parent():
    """Linux: get SIGTERM when the process (thread) that spawned us goes away."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # not Linux: nothing to do
        pass


def add_common_args(parser):
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only in tests)")
    parser.add_argument("--die-with-parent", action="store_true",
                        help="Linux: exit when the spawning thread exits (PR_SET_PDEATHSIG)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    parser.add_argument("--verbose", action="store_true", help="log requests on stderr")
