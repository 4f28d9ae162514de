#!/usr/bin/env python3
"""Fault-injecting, recording HTTP proxy for imgflush's tests (Python 3 standard library only).

Sits in front of any emulator (Prism, moto/cloudfront_proxy, the Fastly and Bunny
fakes) and forwards every request unchanged (method, path, query, every header
including Host, body) to --upstream, copying the answer back, unless a fault is armed.

Control (never forwarded, never recorded):
  POST /__fault  JSON object, or a list of them (a queue, applied in order):
      {"mode":"429","retry_after":2,"times":1}   429 + Retry-After, provider-shaped body
      {"mode":"500","times":2}                   500 (any 3-digit status works: "502", "503"...)
      {"mode":"hang","seconds":30,"times":1}     hold the request `seconds`, then close
                                                 the connection without an answer
      {"mode":"reset","times":1}                 close the connection at once, no answer
      {"mode":"refuse_token","times":1}          401/403 + the --provider's auth error body
      {"mode":"none"}                            clear every armed fault
    "times" omitted = until {"mode":"none"}. Optional "path_prefix":"/zones/" limits a
    fault to requests whose path starts with it (others pass through and do not count).
    Answers {"armed":[...]}.
  GET  /__fault  the armed queue.
  GET|DELETE /__requests   what this proxy received: [{method, path, query, headers,
                 body, ts_ms, fault}] (fault = the mode applied or null).
  GET|DELETE /__upstream/__requests   the upstream's own /__requests, passed through.

--require-header NAME[=PREFIX] (repeatable): a request without that header (or whose
value does not start with PREFIX) is answered like refuse_token without forwarding;
e.g. --require-header "Authorization=EG1-HMAC-SHA256 " for Akamai, whose OpenAPI
document declares no security scheme that Prism could check.

Usage: fault_proxy.py --port N --upstream http://127.0.0.1:M
                      --provider cloudflare|fastly|akamai|bunny|cloudfront
Prints READY <port>; exits on SIGTERM.
"""
import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Handler, add_common_args, serve  # noqa: E402

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailers", "transfer-encoding", "upgrade"}


def _cloudfront_xml(code, message, type_="Sender"):
    return ('<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            "<Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" % (type_, code, message, uuid.uuid4()))


def provider_body(provider, kind, status, path=""):
    """(status, content_type, body) in the provider's own error format.

    Sources: Cloudflare's v4 envelope {success, errors[{code,message}], messages, result}
    (code 10000 "Authentication error", developers.cloudflare.com/fundamentals/api/
    troubleshooting/); Fastly {"msg": ...} (docs.fastly.com/api/auth: a bad or expired
    token answers 401); Akamai: CCU v3 examples in akamai/akamai-apis
    apis/ccu/v3/examples/{403,500,url-429}.json, and the EdgeGrid gateway's
    problem+json 401 (techdocs.akamai.com/developer/docs/troubleshooting);
    bunny.net: ASP.NET's 401 message and ApiErrorData {ErrorKey, Field, Message};
    CloudFront: the AWS query-API XML ErrorResponse (InvalidClientTokenId 403,
    Throttling 400/429, ServiceUnavailable 503).
    """
    ct = "application/json"
    if kind == "refuse_token":
        if provider == "cloudflare":
            return 403, ct, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
                             "messages": [], "result": None}
        if provider == "fastly":
            return 401, ct, {"msg": "Provided credentials are missing or invalid"}
        if provider == "akamai":
            return 401, "application/problem+json", {
                "type": "https://problems.luna.akamaiapis.net/-/pep-authn/deny",
                "title": "Not authorized", "status": 401,
                "detail": "The signature does not match",
                "instance": "https://akab-emulator.luna.akamaiapis.net" + path,
                "method": "POST", "requestId": uuid.uuid4().hex[:8],
                "requestTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if provider == "bunny":
            return 401, ct, {"Message": "Authorization has been denied for this request."}
        if provider == "cloudfront":
            return 403, "text/xml", _cloudfront_xml(
                "InvalidClientTokenId", "The security token included in the request is invalid.")
        return 401, ct, {"error": "unauthorized"}
    if kind == "429":
        if provider == "cloudflare":
            return 429, ct, {"success": False, "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}],
                             "messages": [], "result": None}
        if provider == "fastly":
            return 429, ct, {"msg": "Too many requests", "detail": "Rate limit exceeded"}
        if provider == "akamai":
            return 429, ct, {"supportId": "edup-" + uuid.uuid4().hex[:22], "title": "URL Rate Limit exceeded",
                             "httpStatus": 429, "describedBy": "https://techdocs.akamai.com/purge-cache/reference/api-errors",
                             "detail": "", "rateLimit": 10000, "rateLimitCurrentRequestSize": 110,
                             "rateLimitRemaining": 94}
        if provider == "bunny":
            return 429, ct, {"ErrorKey": "ratelimit.exceeded", "Field": "", "Message": "Too many requests"}
        if provider == "cloudfront":
            return 429, "text/xml", _cloudfront_xml("Throttling", "Rate exceeded")
        return 429, ct, {"error": "too many requests"}
    # generic status
    if provider == "cloudflare":
        return status, ct, {"success": False, "errors": [{"code": 10000 + status, "message": "Internal error (emulated %d)" % status}],
                            "messages": [], "result": None}
    if provider == "fastly":
        return status, ct, {"msg": "Internal server error", "detail": "emulated %d" % status}
    if provider == "akamai":
        return status, ct, {"describedBy": "https://techdocs.akamai.com/purge-cache/reference/api-errors",
                            "detail": "If problem persists over multiple requests, please contact Customer Care",
                            "httpStatus": status, "supportId": "edcp-" + uuid.uuid4().hex[:22], "title": "internal error"}
    if provider == "bunny":
        return status, ct, {"ErrorKey": "server.error", "Field": "", "Message": "Internal server error"}
    if provider == "cloudfront":
        return status, "text/xml", _cloudfront_xml("ServiceUnavailable" if status == 503 else "InternalError",
                                                    "Emulated %d" % status, "Receiver")
    return status, ct, {"error": "emulated %d" % status}


class FaultState:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []

    def arm(self, spec):
        specs = spec if isinstance(spec, list) else [spec]
        with self.lock:
            for s in specs:
                if not isinstance(s, dict) or "mode" not in s:
                    raise ValueError("each fault needs a mode")
                mode = str(s["mode"])
                if mode == "none":
                    self.queue.clear()
                    continue
                if mode not in ("hang", "reset", "refuse_token") and not (mode.isdigit() and len(mode) == 3):
                    raise ValueError("unknown mode %r" % mode)
                self.queue.append(dict(s, mode=mode))
            return list(self.queue)

    def take(self, path):
        """The fault to apply to this request (consuming one of its times), or None."""
        with self.lock:
            for f in self.queue:
                if path.startswith(f.get("path_prefix", "")):
                    if "times" in f:
                        f["times"] = int(f["times"]) - 1
                        if f["times"] <= 0:
                            self.queue.remove(f)
                    return dict(f)
            return None


class FaultHandler(Handler):
    upstream = None  # (host, port)
    provider = "generic"
    state = None
    required = []  # [(header, prefix)]
    timeout = 120
    strip_prefix = ""  # the provider's base path, which Prism does not serve

    def should_record(self):
        return not self.path_only.startswith("/__fault") and not self.path_only.startswith("/__upstream/")

    def _forward(self, path=None):
        host, port = self.upstream
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            # skip_host / skip_accept_encoding: send exactly the client's headers
            path = path or self.path
            if self.strip_prefix and path.startswith(self.strip_prefix + "/"):
                path = path[len(self.strip_prefix):]
            conn.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                conn.putheader(k, v)
            if self.body or self.command in ("POST", "PUT", "PATCH") or "Content-Length" in self.headers:
                conn.putheader("Content-Length", str(len(self.body)))
            conn.endheaders(self.body if self.body else None)
            resp = conn.getresponse()
            data = resp.read()
            self.log_request(resp.status)
            self.send_response_only(resp.status, resp.reason)  # upstream's own Server and Date follow
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            if resp.status not in (204, 304):
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)
        except (ConnectionError, socket.timeout, OSError) as e:
            self.send(502, {"error": "upstream unreachable: %s" % e})
        finally:
            conn.close()

    def _fault_answer(self, kind, status, extra_headers=None):
        st, ct, body = provider_body(self.provider, kind, status, self.path_only)
        self.send(st, body if isinstance(body, (dict, list)) else body.encode(), content_type=ct,
                  headers=extra_headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def route(self):
        p = self.path_only
        if p == "/__fault":
            if self.command == "GET":
                with self.state.lock:
                    return self.send(200, {"armed": list(self.state.queue)})
            if self.command == "POST":
                try:
                    armed = self.state.arm(self.json_body())
                except ValueError as e:
                    return self.send(400, {"error": str(e)})
                return self.send(200, {"armed": armed})
            return self.send(405, {"error": "GET or POST"})
        if p.startswith("/__upstream/"):
            return self._forward(path=self.path[len("/__upstream"):])
        for name, prefix in self.required:
            v = self.headers.get(name)
            if v is None or not v.startswith(prefix):
                self._mark("refuse_token(required header)")
                return self._fault_answer("refuse_token", 401)
        f = self.state.take(p)
        if f is None:
            return self._forward()
        mode = f["mode"]
        self._mark(mode)
        if mode == "hang":
            time.sleep(float(f.get("seconds", 30)))
            return self._drop()
        if mode == "reset":
            return self._drop()
        if mode == "refuse_token":
            return self._fault_answer("refuse_token", 401)
        status = int(mode)
        headers = {}
        if "retry_after" in f:
            headers["Retry-After"] = f["retry_after"]
        return self._fault_answer("429" if status == 429 else "status", status, headers)

    def _mark(self, mode):
        if self.entry is not None:
            self.entry["fault"] = mode

    def record_entry(self):
        e = super().record_entry()
        e["fault"] = None
        return e


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--upstream", required=True, help="http://127.0.0.1:N")
    p.add_argument("--provider", default="generic",
                   choices=["cloudflare", "fastly", "akamai", "bunny", "cloudfront", "generic"])
    p.add_argument("--require-header", action="append", default=[], metavar="NAME[=PREFIX]")
    p.add_argument("--timeout", type=float, default=120, help="upstream timeout in seconds")
    p.add_argument("--strip-prefix", default="", metavar="/client/v4",
                   help="remove this base path before forwarding (the API's server path, which Prism does not serve), "
                        "so clients call the provider's real paths")
    a = p.parse_args()
    u = urlsplit(a.upstream)
    if u.scheme != "http" or not u.hostname:
        p.error("--upstream must be http://host:port")
    FaultHandler.upstream = (u.hostname, u.port or 80)
    FaultHandler.provider = a.provider
    FaultHandler.state = FaultState()
    FaultHandler.required = [(r.split("=", 1)[0], r.split("=", 1)[1] if "=" in r else "") for r in a.require_header]
    FaultHandler.timeout = a.timeout
    FaultHandler.strip_prefix = a.strip_prefix.rstrip("/")
    FaultHandler.quiet = not a.verbose
    FaultHandler.die_with_parent = a.die_with_parent
    return serve(FaultHandler, a.host, a.port)


if __name__ == "__main__":
    sys.exit(main())
