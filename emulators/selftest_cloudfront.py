#!/usr/bin/env python3
"""Self-test of moto_launch.py + cloudfront_proxy.py (run with the emulator venv's python;
called by selftest.sh). Args: <proxy_port> <key_id> <secret> <distribution_id> <moto_port>."""
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

P, K, S, D, MP = sys.argv[1:6]
failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else "  " + str(detail)))
    if not cond:
        failures.append(name)


def client(secret=S, port=P):
    return boto3.client("cloudfront", endpoint_url="http://127.0.0.1:%s" % port, region_name="us-east-1",
                        aws_access_key_id=K, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def err(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return None


def batch(paths, ref):
    return {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": ref}


c = client()
r = c.create_invalidation(DistributionId=D, InvalidationBatch=batch(["/a.jpg", "/b/*"], "ref1"))
iid = r["Invalidation"]["Id"]
check("CreateInvalidation 201 InProgress", r["ResponseMetadata"]["HTTPStatusCode"] == 201
      and r["Invalidation"]["Status"] == "InProgress", r["Invalidation"]["Status"])
st = [c.get_invalidation(DistributionId=D, Id=iid)["Invalidation"]["Status"] for _ in range(3)]
check("GetInvalidation InProgress x2 then Completed", st == ["InProgress", "InProgress", "Completed"], st)
r2 = c.create_invalidation(DistributionId=D, InvalidationBatch=batch(["/b/*", "/a.jpg"], "ref1"))
check("same CallerReference + same paths -> the existing invalidation",
      r2["ResponseMetadata"]["HTTPStatusCode"] == 201 and r2["Invalidation"]["Id"] == iid, r2["Invalidation"]["Id"])
e = err(lambda: c.create_invalidation(DistributionId=D, InvalidationBatch=batch(["/c.jpg"], "ref1")))
check("same CallerReference + other paths -> 409 InvalidationBatchAlreadyExists",
      e == (409, "InvalidationBatchAlreadyExists"), e)
e = err(lambda: client("wrong-secret").create_invalidation(DistributionId=D, InvalidationBatch=batch(["/c.jpg"], "ref9")))
check("wrong secret -> 403 SignatureDoesNotMatch (checked by moto)", e is not None and e[0] == 403, e)
# a signature made for moto's host:port is refused by moto when sent via the proxy's host:port
e = err(lambda: client("wrong-secret", MP).get_distribution(Id=D))
check("moto itself refuses a bad signature", e is not None and e[0] == 403, e)
try:
    urllib.request.urlopen("http://127.0.0.1:%s/2020-05-31/distribution/%s" % (P, D), timeout=10)
    check("unsigned request refused", False)
except urllib.error.HTTPError as x:
    check("unsigned request -> 403 MissingAuthenticationToken", x.code == 403 and b"MissingAuthenticationToken" in x.read(), x.code)
n = 0
e = None
for i in range(20):  # 1 wildcard path (/b/*) of ref1 is done; each of these adds one in flight
    e = err(lambda: c.create_invalidation(DistributionId=D, InvalidationBatch=batch(["/w%d/*" % i], "w%d" % i)))
    if e:
        break
    n += 1
check("16th wildcard path in flight -> 400 TooManyInvalidationsInProgress",
      n == 15 and e == (400, "TooManyInvalidationsInProgress"), (n, e))
lst = c.list_invalidations(DistributionId=D)["InvalidationList"]
ids = [x["Id"] for x in lst.get("Items", [])]
check("ListInvalidations hides refused/deduplicated batches", lst["Quantity"] == 16 and len(set(ids)) == 16,
      (lst["Quantity"], len(ids)))
check("GetDistribution works signed", c.get_distribution(Id=D)["Distribution"]["Id"] == D)
sys.exit(1 if failures else 0)
