#!/usr/bin/env python3
"""bunny.net purge API fake for imgflush's tests (Python 3 standard library only).

bunny.net's OpenAPI document (core-api-public-docs.b-cdn.net/docs/v3/public.json) is
not reachable from here, so this is a FAKE written from bunny.net's Core API reference
(docs.bunny.net/api-reference/core/pull-zone/purge-cache, .../core/purge/purge-url,
.../core/pull-zone/get-pull-zone, and docs.bunny.net/cdn/purge-cache for the tag
example). The reference's example requests and answers are in fixtures/bunny/.

Endpoints (base URL = http://127.0.0.1:<port>, in place of https://api.bunny.net):
  POST /pullzone/{id}/purgeCache   optional JSON {"CacheTag":"..."}: 204 No Content;
                                   unknown zone 404; malformed JSON / non-string tag 400
  POST|GET /purge?url=<encoded absolute http(s) URL>[&async=true|false]
                                   200 (empty body); a trailing * purges the prefix;
                                   missing or non-absolute url 400
  GET  /pullzone/{id}              pull zone details (the Test button); unknown 404
Every call needs header `AccessKey: <key>` (one of --key); missing or wrong -> 401.
Plus /__requests (see common.py).

Usage: bunny_fake.py --port N [--key K ...] [--zone ID ...] [--zone-name NAME]
"""
import argparse
import json
import os
import sys
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Handler, add_common_args, serve  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "bunny")


def fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


class BunnyHandler(Handler):
    keys = set()
    zones = set()
    zone_name = "my-pull-zone"

    def route(self):
        if self.header("AccessKey") not in self.keys:
            return self.send(401, fixture("error_unauthorized.json"))
        parts = [p for p in self.path_only.split("/")[1:]]
        m = self.command
        if parts == ["purge"] and m in ("GET", "POST"):
            url = (self.query.get("url") or [""])[0]
            u = urlsplit(url)
            if u.scheme not in ("http", "https") or not u.netloc:
                return self.send(400, fixture("error_bad_request.json"))
            return self.send(200, b"", content_type="application/json")
        if len(parts) >= 2 and parts[0].lower() == "pullzone":
            zone = parts[1]
            if zone not in self.zones:
                return self.send(404, fixture("error_not_found.json"))
            if m == "GET" and len(parts) == 2:
                body = fixture("pullzone_response.json")
                body["Id"] = int(zone) if zone.isdigit() else zone
                body["Name"] = self.zone_name
                body["Hostnames"][0]["Value"] = self.zone_name + ".b-cdn.net"
                return self.send(200, body)
            if m == "POST" and len(parts) == 3 and parts[2].lower() == "purgecache":
                if self.body.strip():
                    try:
                        data = self.json_body()
                    except ValueError:
                        return self.send(400, {"ErrorKey": "validation.error", "Field": "body",
                                               "Message": "The request body is not valid JSON"})
                    tag = data.get("CacheTag") if isinstance(data, dict) else 0
                    if tag is not None and not isinstance(tag, str):
                        return self.send(400, {"ErrorKey": "validation.error", "Field": "CacheTag",
                                               "Message": "CacheTag must be a string"})
                return self.send(204)
        return self.send(404, {"ErrorKey": "route.not_found", "Field": "", "Message": "Not found"})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--key", action="append", help="valid AccessKey (repeatable; default test-key)")
    p.add_argument("--zone", action="append", help="known pull zone id (repeatable; default 12345)")
    p.add_argument("--zone-name", default="my-pull-zone")
    a = p.parse_args()
    BunnyHandler.die_with_parent = a.die_with_parent
    BunnyHandler.keys = set(a.key or ["test-key"])
    BunnyHandler.zones = set(a.zone or ["12345"])
    BunnyHandler.zone_name = a.zone_name
    BunnyHandler.quiet = not a.verbose
    return serve(BunnyHandler, a.host, a.port)


if __name__ == "__main__":
    sys.exit(main())
