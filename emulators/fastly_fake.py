#!/usr/bin/env python3
"""Fastly purge API fake for imgflush's tests (Python 3 standard library only).

Fastly publishes no OpenAPI document reachable from here, so this is a FAKE written
from Fastly's API reference (developer.fastly.com/reference/api/purging/ and
/reference/api/services/service/, as mirrored in Fastly's generated clients:
github fastly/fastly-js docs/PurgeApi.md, docs.rs fastly-api docs/PurgeApi.md,
and docs.fastly.com/api/auth for the Fastly-Key header and 401 on a bad token).
The reference's own example requests and answers are in fixtures/fastly/ and shape
what this fake answers.

Endpoints (base URL = http://127.0.0.1:<port>, in place of https://api.fastly.com):
  POST /service/{service_id}/purge            JSON {"surrogate_keys":[...]} (1..256 keys,
                                              else 400) or header Surrogate-Key: k1 k2;
                                              answer {"<key>": "<purge id>", ...}
  POST /service/{service_id}/purge/{key}      single key; answer {"status":"ok","id":...}
  POST /service/{service_id}/purge_all        answer {"status":"ok"}
  POST /purge/{host}/{path}                   single URL; answer {"status":"ok","id":...}
  GET  /service/{service_id}                  service details (the Test button)
Every call needs `Fastly-Key: <key>` (one of --key): missing/unknown -> 401
{"msg":"Provided credentials are missing or invalid"}; a --purge-select-key (Fastly's
purge_select scope) calling purge_all -> 403. Unknown service -> 404.
`Fastly-Soft-Purge: 1` is accepted (and recorded) on the purge calls.
Plus /__requests (see common.py).

Usage: fastly_fake.py --port N [--key K ...] [--purge-select-key K ...] [--service ID ...]
"""
import argparse
import itertools
import json
import os
import sys
import threading
import time
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Handler, add_common_args, serve  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "fastly")
MAX_KEYS = 256


def fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


_counter = itertools.count(974124)
_counter_lock = threading.Lock()


def purge_id():
    # same shape as the reference's "108-1391560174-974124": <node>-<epoch>-<seq>
    with _counter_lock:
        n = next(_counter)
    return "108-%d-%d" % (int(time.time()), n)


class FastlyHandler(Handler):
    keys = set()
    select_keys = set()
    services = set()

    def err(self, status, fixture_name, **fmt):
        body = fixture(fixture_name)
        if "detail" in body and fmt:
            body["detail"] = body["detail"].replace("SERVICE_ID", fmt.get("service", ""))
        return self.send(status, body)

    def route(self):
        key = self.header("Fastly-Key")
        if not key or key not in (self.keys | self.select_keys):
            return self.err(401, "error_unauthorized.json")
        parts = [unquote(p) for p in self.path_only.split("/")[1:]]
        method = self.command
        if method == "POST" and len(parts) >= 2 and parts[0] == "purge":
            return self.send(200, {"status": "ok", "id": purge_id()})
        if len(parts) < 2 or parts[0] != "service":
            return self.send(404, {"msg": "Record not found", "detail": "No such route"})
        service = parts[1]
        if service not in self.services:
            return self.err(404, "error_not_found.json", service=service)
        rest = parts[2:]
        if method == "GET" and rest == []:
            body = fixture("service_response.json")
            body["id"] = service
            for v in body.get("versions", []):
                v["service_id"] = service
            return self.send(200, body)
        if method == "POST" and rest == ["purge_all"]:
            if key in self.select_keys:
                return self.err(403, "error_forbidden.json")
            return self.send(200, fixture("purge_all_response.json"))
        if method == "POST" and len(rest) == 2 and rest[0] == "purge" and rest[1]:
            return self.send(200, {"status": "ok", "id": purge_id()})
        if method == "POST" and rest == ["purge"]:
            keys = None
            if self.body.strip():
                try:
                    data = self.json_body()
                    keys = data.get("surrogate_keys") if isinstance(data, dict) else None
                except ValueError:
                    return self.send(400, {"msg": "Bad request", "detail": "Body is not valid JSON"})
                if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
                    return self.send(400, {"msg": "Bad request",
                                           "detail": "surrogate_keys must be a list of non-empty strings"})
            elif self.header("Surrogate-Key"):
                keys = self.header("Surrogate-Key").split()
            if not keys:
                return self.send(400, {"msg": "Bad request", "detail": "No surrogate keys given"})
            if len(keys) > MAX_KEYS:
                return self.err(400, "error_too_many_keys.json")
            return self.send(200, {k: purge_id() for k in keys})
        return self.send(404, {"msg": "Record not found", "detail": "No such route"})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--key", action="append", help="valid Fastly-Key (repeatable; default test-key)")
    p.add_argument("--purge-select-key", action="append", default=[],
                   help="key with the purge_select scope only: purge_all answers 403")
    p.add_argument("--service", action="append", help="known service id (repeatable; default SU1Z0isxPaozGVKXdv0eY)")
    a = p.parse_args()
    FastlyHandler.die_with_parent = a.die_with_parent
    FastlyHandler.keys = set(a.key or ["test-key"])
    FastlyHandler.select_keys = set(a.purge_select_key)
    FastlyHandler.services = set(a.service or ["SU1Z0isxPaozGVKXdv0eY"])
    FastlyHandler.quiet = not a.verbose
    return serve(FastlyHandler, a.host, a.port)


if __name__ == "__main__":
    sys.exit(main())
