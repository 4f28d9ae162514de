#!/usr/bin/env python3
"""Cut a provider's published OpenAPI document down to the purge-related operations,
keeping every component they reference (transitively) and the security schemes, and
write it as YAML with a header comment naming the source. Needs PyYAML (in the
emulator venv). This is how cloudflare.yaml and akamai-ccu-v3.yaml were made:

  git --git-dir=<mirror of cloudflare/api-schemas> show \
      cca3064f1aba08cc6cef52fc7b3d3064a9eafcc9:openapi.json > /tmp/cf.json
  python cut.py --amend=cloudflare /tmp/cf.json cloudflare.yaml "github cloudflare/api-schemas, openapi.json, commit cca3064f1aba08cc6cef52fc7b3d3064a9eafcc9 (2024-08-06)" \
      "post /zones/{zone_id}/purge_cache" "get /user/tokens/verify" "get /zones/{zone_id}"
  git --git-dir=<mirror of akamai/akamai-apis> show \
      21f102c4701e230b76b843e3eae11afecc9d92ac:apis/ccu/v3/openapi.json > /tmp/ak.json
  python cut.py /tmp/ak.json akamai-ccu-v3.yaml "github akamai/akamai-apis, apis/ccu/v3/openapi.json, commit 21f102c4701e230b76b843e3eae11afecc9d92ac (2025-06-11)" \
      "post /invalidate/url/{network}" "post /invalidate/cpcode/{network}" "post /invalidate/tag/{network}" \
      "post /delete/url/{network}" "post /delete/cpcode/{network}" "post /delete/tag/{network}"
"""
import json
import sys

import yaml


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            out.add(tuple(r[len("#/components/"):].split("/", 1)))
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


AMENDMENTS = {
    # Local changes to the Cloudflare cut, each listed in the output's header comment.
    "cloudflare": [
        "POST /zones/{zone_id}/purge_cache: security gains `api_token` (Authorization: Bearer), "
        "which the published document omits there although Cloudflare's API accepts API tokens "
        "for purging (and the document lists api_token for GET /zones/{zone_id})",
        "the six cache-purge_* request-body schemas gain `required: [<their one property>]` and "
        "`additionalProperties: false`: as published, every branch of the anyOf accepts any "
        "object, so Prism could never refuse a body ({} or {\"tags\":\"a\"} passed)",
        "POST /zones/{zone_id}/purge_cache: zone_id must be 32 lowercase hex digits "
        "(the document's cache-purge_identifier is a bare string)",
    ],
}


def amend(name, cut):
    if name != "cloudflare":
        return
    op = cut["paths"]["/zones/{zone_id}/purge_cache"]["post"]
    op["security"] = [{"api_token": []}] + op["security"]
    schemas = cut["components"]["schemas"]
    for key in ("cache-purge_Everything", "cache-purge_FlexPurgeByHostnames", "cache-purge_FlexPurgeByPrefixes",
                "cache-purge_FlexPurgeByTags", "cache-purge_SingleFile", "cache-purge_SingleFileWithUrlAndHeaders"):
        sch = schemas[key]
        sch["required"] = list(sch["properties"])
        sch["additionalProperties"] = False
    for prm in op["parameters"]:
        if prm["name"] == "zone_id":
            prm["schema"] = {"type": "string", "pattern": "^[0-9a-f]{32}$"}


def main():
    args = sys.argv[1:]
    amend_name = None
    if args and args[0].startswith("--amend="):
        amend_name = args.pop(0).split("=", 1)[1]
    src, dst, source_note, *ops = args
    doc = json.load(open(src))
    paths = {}
    for op in ops:
        method, path = op.split(" ", 1)
        item = doc["paths"][path]
        keep = paths.setdefault(path, {k: v for k, v in item.items() if k in ("parameters", "servers", "summary", "description")})
        keep[method] = item[method]
    comps = doc.get("components", {})
    wanted, seen = set(), set()
    refs(paths, wanted)
    while wanted - seen:
        kind, name = sorted(wanted - seen)[0]
        seen.add((kind, name))
        refs(comps[kind][name], wanted)
    out_comps = {}
    for kind, name in sorted(seen):
        out_comps.setdefault(kind, {})[name] = comps[kind][name]
    if "securitySchemes" in comps:
        out_comps["securitySchemes"] = comps["securitySchemes"]
    cut = {k: doc[k] for k in ("openapi", "info", "servers", "security", "externalDocs") if k in doc}
    cut["paths"] = paths
    if out_comps:
        cut["components"] = out_comps
    amend(amend_name, cut)
    notes = AMENDMENTS.get(amend_name, [])
    header = ("# Cut of the provider's published OpenAPI document, for the Prism mock in imgflush's tests.\n"
              "# Source: %s.\n"
              "# Kept: %s, and every component they reference (plus the security schemes).\n"
              "# Made with emulators/openapi/cut.py%s.\n" % (source_note, "; ".join(ops),
                                                                " --amend=" + amend_name if amend_name else ""))
    if notes:
        header += "# LOCAL AMENDMENTS (everything else is as published):\n" + "".join(
            "#  - %s\n" % n for n in notes)
    else:
        header += "# Nothing else is changed.\n"
    with open(dst, "w") as f:
        f.write(header)
        yaml.safe_dump(cut, f, sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    main()
