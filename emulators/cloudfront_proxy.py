#!/usr/bin/env python3
"""CloudFront behaviour proxy in front of moto_server (Python 3 standard library only).

moto completes an invalidation at once, never deduplicates CallerReference and never
answers TooManyInvalidationsInProgress. This proxy forwards every request UNCHANGED
(method, path, query, every header including Host, body) to moto, so moto still checks
the SigV4 signature (the client signs for the proxy's host:port; the Host header is
passed through as received), and then reshapes moto's answers:

 (a) an invalidation reads `InProgress` (in CreateInvalidation's answer, GetInvalidation
     and ListInvalidations) until it has been polled with GetInvalidation more than
     --polls times (default 2: InProgress, InProgress, Completed) or --complete-after
     seconds have passed (default 300);
 (b) CreateInvalidation with a CallerReference already used on that distribution:
     same paths -> 201 with the existing invalidation (no new one, as CloudFront does);
     different paths -> 409 InvalidationBatchAlreadyExists;
 (c) more than --max-in-progress invalidations in progress on the distribution (default
     100), or in-flight wildcard paths over --max-wildcards (15), or in-flight paths over
     --max-paths (3000), counting the new batch -> 400 TooManyInvalidationsInProgress.
Errors use CloudFront's XML: <ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/
2020-05-31/"><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>
<RequestId>..</RequestId></ErrorResponse> (docs.aws.amazon.com/cloudfront/latest/
APIReference/API_CreateInvalidation.html lists both codes and their HTTP statuses).

The signature is checked first: (b) and (c) are decided only after moto accepted the
request (moto's 403 passes through unchanged). moto therefore also records the
refused/deduplicated batches; the proxy hides those "ghost" invalidations from
ListInvalidations and answers 404 NoSuchInvalidation for them.

A request without an Authorization header is answered 403 MissingAuthenticationToken by
the proxy itself (moto would route it to its S3 backend and answer 500).

Also: GET|DELETE /__requests (what the proxy received), GET /__invalidations (the
proxy's view: id, distribution, caller_reference, paths, polls, status).

Usage: cloudfront_proxy.py --port N --upstream http://127.0.0.1:<moto port>
         [--polls 2] [--complete-after 300] [--max-in-progress 100] [--max-wildcards 15]
         [--max-paths 3000]
"""
import argparse
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Handler, add_common_args, serve  # noqa: E402

NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailers", "transfer-encoding", "upgrade"}
CREATE_RE = re.compile(r"^/(\d{4}-\d{2}-\d{2})/distribution/([^/]+)/invalidation/?$")
GET_RE = re.compile(r"^/(\d{4}-\d{2}-\d{2})/distribution/([^/]+)/invalidation/([^/]+)$")


def error_xml(code, message, type_="Sender"):
    return ('<?xml version="1.0"?>\n<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
            "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
            % (NS, type_, code, message, uuid.uuid4())).encode()


class Inv:
    def __init__(self, inv_id, dist, caller_ref, paths, body, location):
        self.id = inv_id
        self.dist = dist
        self.caller_ref = caller_ref
        self.paths = paths
        self.body = body  # moto's CreateInvalidation answer, replayed on dedupe
        self.location = location
        self.polls = 0
        self.created = time.time()

    def status(self, cfg):
        if self.polls > cfg.polls or time.time() - self.created >= cfg.complete_after:
            return "Completed"
        return "InProgress"

    def view(self, cfg):
        return {"id": self.id, "distribution": self.dist, "caller_reference": self.caller_ref,
                "paths": self.paths, "polls": self.polls, "status": self.status(cfg)}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_id = {}
        self.by_ref = {}
        self.ghosts = set()


def set_status(body, status):
    return re.sub(rb"<Status>[^<]*</Status>", b"<Status>" + status.encode() + b"</Status>", body)


class CloudFrontHandler(Handler):
    upstream = None
    cfg = None
    state = None

    def should_record(self):
        return self.path_only != "/__invalidations"

    def upstream_call(self):
        host, port = self.upstream
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                conn.putheader(k, v)
            if self.body or self.command in ("POST", "PUT", "PATCH") or "Content-Length" in self.headers:
                conn.putheader("Content-Length", str(len(self.body)))
            conn.endheaders(self.body if self.body else None)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            return resp.status, resp.reason, headers, data
        finally:
            conn.close()

    def reply(self, status, reason, headers, data):
        self.log_request(status)
        self.send_response_only(status, reason)  # upstream's own Server and Date follow
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def cf_error(self, status, code, message):
        self.send(status, error_xml(code, message), content_type="text/xml",
                  headers={"x-amz-request-id": str(uuid.uuid4())})

    def route(self):
        if self.path_only == "/__invalidations" and self.command == "GET":
            with self.state.lock:
                return self.send(200, [i.view(self.cfg) for i in self.state.by_id.values()])
        if "Authorization" not in self.headers:
            # moto routes an unsigned request to its S3 backend and answers 500; CloudFront says 403
            return self.cf_error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        try:
            status, reason, headers, data = self.upstream_call()
        except (ConnectionError, socket.timeout, OSError) as e:
            return self.send(502, {"error": "moto unreachable: %s" % e})
        p = self.path_only
        m_create = CREATE_RE.match(p)
        m_get = GET_RE.match(p)
        if not (200 <= status < 300) or not (m_create or m_get):
            return self.reply(status, reason, headers, data)
        if m_create and self.command == "POST":
            return self.on_create(m_create.group(2), status, reason, headers, data)
        if m_create and self.command == "GET":
            return self.on_list(status, reason, headers, data)
        if m_get and self.command == "GET":
            return self.on_get(m_get.group(3), status, reason, headers, data)
        return self.reply(status, reason, headers, data)

    def on_create(self, dist, status, reason, headers, data):
        try:
            req = ET.fromstring(self.body)
            paths = [e.text or "" for e in req.iterfind(".//{*}Path")]
            ref = next((e.text or "" for e in req.iterfind(".//{*}CallerReference")), "")
            resp_xml = ET.fromstring(data)
            new_id = next(e.text for e in resp_xml.iterfind(".//{*}Id"))
        except (ET.ParseError, StopIteration):
            return self.reply(status, reason, headers, data)
        cfg = self.cfg
        with self.state.lock:
            prev = self.state.by_ref.get((dist, ref))
            if prev is not None:
                self.state.ghosts.add(new_id)
                if sorted(prev.paths) != sorted(paths):
                    return self.cf_error(409, "InvalidationBatchAlreadyExists",
                                         "Invalidation batch specified in the request already exists.")
                hdrs = [(k, v) for k, v in headers if k.lower() != "location"] + [("Location", prev.location)]
                return self.reply(201, "Created", hdrs, set_status(prev.body, prev.status(cfg)))
            in_flight = [i for i in self.state.by_id.values()
                         if i.dist == dist and i.status(cfg) == "InProgress"]
            n_paths = sum(len(i.paths) for i in in_flight) + len(paths)
            n_wild = sum(1 for i in in_flight for x in i.paths if "*" in x) + sum(1 for x in paths if "*" in x)
            if len(in_flight) + 1 > cfg.max_in_progress or n_wild > cfg.max_wildcards or n_paths > cfg.max_paths:
                self.state.ghosts.add(new_id)
                return self.cf_error(400, "TooManyInvalidationsInProgress",
                                     "You have exceeded the maximum number of allowable InProgress "
                                     "invalidation batch requests, or invalidation objects.")
            location = dict((k.lower(), v) for k, v in headers).get("location", "")
            inv = Inv(new_id, dist, ref, paths, data, location)
            self.state.by_id[new_id] = inv
            self.state.by_ref[(dist, ref)] = inv
            body = set_status(data, inv.status(cfg))
        return self.reply(status, reason, headers, body)

    def on_get(self, inv_id, status, reason, headers, data):
        with self.state.lock:
            if inv_id in self.state.ghosts:
                return self.cf_error(404, "NoSuchInvalidation", "The specified invalidation does not exist.")
            inv = self.state.by_id.get(inv_id)
            if inv is None:
                return self.reply(status, reason, headers, data)
            inv.polls += 1
            body = set_status(data, inv.status(self.cfg))
        return self.reply(status, reason, headers, body)

    def on_list(self, status, reason, headers, data):
        try:
            ET.register_namespace("", NS)
            root = ET.fromstring(data)
        except ET.ParseError:
            return self.reply(status, reason, headers, data)
        with self.state.lock:
            items = root.find("{*}Items")
            if items is not None:
                for summary in list(items):
                    sid = summary.find("{*}Id")
                    if sid is None:
                        continue
                    if sid.text in self.state.ghosts:
                        items.remove(summary)
                    elif sid.text in self.state.by_id:
                        st = summary.find("{*}Status")
                        if st is not None:
                            st.text = self.state.by_id[sid.text].status(self.cfg)
                q = root.find("{*}Quantity")
                if q is not None:
                    q.text = str(len(items))
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
        return self.reply(status, reason, headers, body)


def make_handler(upstream, polls=2, complete_after=300.0, max_in_progress=100, max_wildcards=15, max_paths=3000):
    cfg = argparse.Namespace(polls=polls, complete_after=complete_after, max_in_progress=max_in_progress,
                             max_wildcards=max_wildcards, max_paths=max_paths)
    u = urlsplit(upstream)
    return type("CloudFrontProxyHandler", (CloudFrontHandler,),
                {"upstream": (u.hostname, u.port or 80), "cfg": cfg, "state": State()})


def add_proxy_args(p):
    p.add_argument("--polls", type=int, default=2, help="GetInvalidation polls answered InProgress")
    p.add_argument("--complete-after", type=float, default=300.0, help="seconds after which an invalidation completes anyway")
    p.add_argument("--max-in-progress", type=int, default=100, help="in-progress invalidations allowed per distribution")
    p.add_argument("--max-wildcards", type=int, default=15, help="wildcard paths allowed in flight")
    p.add_argument("--max-paths", type=int, default=3000, help="paths allowed in flight")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--upstream", required=True, help="moto_server, http://127.0.0.1:N")
    add_proxy_args(p)
    a = p.parse_args()
    h = make_handler(a.upstream, a.polls, a.complete_after, a.max_in_progress, a.max_wildcards, a.max_paths)
    h.quiet = not a.verbose
    h.die_with_parent = a.die_with_parent
    return serve(h, a.host, a.port)


if __name__ == "__main__":
    sys.exit(main())
