#!/usr/bin/env python3
"""Start moto_server (CloudFront + IAM) with SigV4 checking on, for imgflush's tests.

Run it with the emulator venv's interpreter (scripts/tools.sh install_emulators):
    $IMGFLUSH_VENV/bin/python emulators/moto_launch.py --port 0 [--proxy-port 0]

It starts moto's server on 127.0.0.1, then, while moto still accepts unsigned calls:
  1. creates IAM user `imgflush-test` with an inline policy allowing cloudfront:* and
     an access key for it (through moto's own IAM API);
  2. creates a CloudFront distribution (origin origin.example.com);
then switches authentication on (POST /moto-api/reset-auth with 0, which is what
INITIAL_NO_AUTH_ACTION_COUNT=0 does at start-up), checks that an unsigned call is now
refused, and prints ONE line on stdout:

    READY <port> <access_key_id> <secret_access_key> <distribution_id> <moto_port>

<port> is where the client must send its requests: the CloudFront proxy
(cloudfront_proxy.py, started in this process) when --proxy-port is given (0 = any
free port), else moto itself (then <moto_port> == <port>). Sign requests with
region us-east-1, service cloudfront, for host 127.0.0.1:<port>.
Exits on SIGTERM/SIGINT (status 0).
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402  (installed with moto[server])
from botocore.config import Config  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

import cloudfront_proxy  # noqa: E402
from common import die_with_parent, serve  # noqa: E402


def patch_moto_signature_check():
    """moto 5.2.x bug: for a request with neither body nor query string, moto's
    BaseResponse sets `data` to the request HEADERS (core/responses.py: `if not
    querystring: querystring.update(headers)`), and IAMRequestBase._create_aws_request
    recomputes the signature with `data=self._body or self._data`, i.e. it hashes the
    headers as the payload. Every correctly signed GetInvalidation / GetDistribution
    then fails with SignatureDoesNotMatch (same with a query string: the parsed query
    becomes the payload). SigV4 hashes the raw payload, so use the raw body (empty)
    for GET/HEAD/DELETE. The signature is still fully checked."""
    from botocore.awsrequest import AWSRequest
    from moto.iam import access_control as ac

    orig = ac.IAMRequestBase._create_aws_request

    def _create_aws_request(self):
        if self._method in ("GET", "HEAD", "DELETE") and not self._body:
            signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
            headers = self._create_headers_for_aws_request(signed, self._headers)
            req = AWSRequest(method=self._method, url=self._path, data=b"", headers=headers)
            req.context["timestamp"] = headers["X-Amz-Date"]
            return req
        return orig(self)

    ac.IAMRequestBase._create_aws_request = _create_aws_request


def setup(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup",
              aws_secret_access_key="setup", config=Config(retries={"max_attempts": 1}))
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="imgflush-test")
    iam.put_user_policy(UserName="imgflush-test", PolicyName="cloudfront-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["cloudfront:*"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="imgflush-test")["AccessKey"]
    cf = boto3.client("cloudfront", **kw)
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": "imgflush-test-distribution",
        "Comment": "imgflush test distribution",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "origin1", "DomainName": "origin.example.com",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "origin1", "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })["Distribution"]["Id"]
    # authentication on from now: every later call must be signed with the key above
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()
    # prove it: a request signed with a wrong secret is refused now
    good = boto3.client("cloudfront", **dict(kw, aws_access_key_id=key["AccessKeyId"],
                                             aws_secret_access_key=key["SecretAccessKey"]))
    good.get_distribution(Id=dist)  # a correct signature passes (GET: see patch_moto_signature_check)
    bad = boto3.client("cloudfront", **dict(kw, aws_access_key_id=key["AccessKeyId"],
                                            aws_secret_access_key="wrong-secret"))
    try:
        bad.get_distribution(Id=dist)
        raise SystemExit("moto still accepts badly signed requests; auth did not switch on")
    except bad.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 403:
            raise
    return key["AccessKeyId"], key["SecretAccessKey"], dist


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="moto's port (0 = any free port)")
    p.add_argument("--proxy-port", type=int, default=None,
                   help="also start cloudfront_proxy.py on this port (0 = any) in front of moto")
    p.add_argument("--die-with-parent", action="store_true")
    cloudfront_proxy.add_proxy_args(p)
    a = p.parse_args()
    if a.die_with_parent:
        die_with_parent()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_moto_signature_check()
    server = ThreadedMotoServer(ip_address=a.host, port=a.port, verbose=False)
    server.start()
    moto_port = server.get_host_and_port()[1]
    endpoint = "http://%s:%d" % (a.host, moto_port)
    key_id, secret, dist = setup(endpoint)

    def ready(port):
        print("READY %d %s %s %s %d" % (port, key_id, secret, dist, moto_port), flush=True)

    if a.proxy_port is not None:
        h = cloudfront_proxy.make_handler(endpoint, a.polls, a.complete_after, a.max_in_progress,
                                          a.max_wildcards, a.max_paths)
        rc = serve(h, a.host, a.proxy_port, on_ready=ready)
    else:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        ready(moto_port)
        while not stop.is_set():
            stop.wait(0.2)
        rc = 0
    server.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
