#!/usr/bin/env python3
"""Start Prism (`@stoplight/prism-cli` 5.14.2, from end2end/node_modules) in mock mode
with request validation on one of the OpenAPI cuts in emulators/openapi/.

    python emulators/prism_launch.py --api cloudflare|akamai --port N

`prism mock --errors` is what makes a request that violates the document fail (422
UNPROCESSABLE_ENTITY for a bad body/parameter, 401 for missing credentials of the
operation's security schemes, 404 for an unknown path) instead of a logged warning.
Prism mounts the document's paths WITHOUT the server URL's base path: for Cloudflare
(server https://api.cloudflare.com/client/v4) the client uses base URL
http://127.0.0.1:N, i.e. POST http://127.0.0.1:N/zones/{id}/purge_cache; for Akamai
(server https://{hostname}/ccu/v3) POST http://127.0.0.1:N/invalidate/url/production.
Prints `READY <port>` once Prism accepts connections (Prism's own log goes to stderr),
exits on SIGTERM (stopping Prism), and exits non-zero if Prism dies.
Prism records nothing: put fault_proxy.py in front for /__requests.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import die_with_parent  # noqa: E402

DOCS = {"cloudflare": "openapi/cloudflare.yaml", "akamai": "openapi/akamai-ccu-v3.yaml"}


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", required=True, choices=sorted(DOCS))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port chosen here")
    p.add_argument("--prism", default=os.path.join(HERE, "..", "end2end", "node_modules", ".bin", "prism"))
    p.add_argument("--startup-timeout", type=float, default=60)
    p.add_argument("--die-with-parent", action="store_true")
    a = p.parse_args()
    if a.die_with_parent:
        die_with_parent()
    port = a.port or free_port(a.host)
    cmd = [a.prism, "mock", "--host", a.host, "--port", str(port), "--errors",
           os.path.join(HERE, DOCS[a.api])]
    child = subprocess.Popen(cmd, stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    stopping = []

    def stop(*_):
        stopping.append(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def kill_child():
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    deadline = time.time() + a.startup_timeout
    while True:
        if stopping:
            kill_child()
            return 0
        if child.poll() is not None:
            print("prism exited with %s before listening" % child.returncode, file=sys.stderr)
            return 1
        try:
            socket.create_connection((a.host, port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline:
                kill_child()
                print("prism did not listen within %ss" % a.startup_timeout, file=sys.stderr)
                return 1
            time.sleep(0.2)
    print("READY %d" % port, flush=True)
    while not stopping:
        if child.poll() is not None:
            print("prism exited with %s" % child.returncode, file=sys.stderr)
            return 1
        time.sleep(0.2)
    kill_child()
    return 0


if __name__ == "__main__":
    sys.exit(main())
