#!/usr/bin/env python3
"""Helpers for deploy/prometheus/check.sh (standard library only; PyYAML if present).

  promql_names.py dashboard FILE      checks the Grafana dashboard: valid JSON, the
                                      ${datasource} variable, every panel titled with
                                      at least one target carrying an expr
  promql_names.py names FILE...       prints every metric name used by the PromQL
                                      expressions of rule files (.yml) and dashboards
                                      (.json), one a line, sorted
  promql_names.py query PROMETHEUS_URL DASHBOARD
                                      runs every panel's expr (Grafana's variables
                                      replaced) as an instant query; exits 1 when
                                      Prometheus refuses one
  promql_names.py missing NAMES_JSON FILE...
                                      prints the names of FILE... that are absent from
                                      a /api/v1/label/__name__/values answer; exits 1
                                      when any is
"""

import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# Words of PromQL that look like identifiers but are not metric names.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan", "start", "end",
}


def names_in(expr):
    """Metric names in one PromQL expression (functions, labels, keywords,
    durations and Grafana's $variables left out)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'|`[^`]*`", '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    # Label lists of aggregations and vector matching.
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    found = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        word, before = m.group(0), s[: m.start()]
        if before.endswith("$") or re.search(r"[0-9.]$", before):
            continue  # $variable, or the exponent/unit of a number (1e3, 5m)
        if s[m.end():].lstrip().startswith("("):
            continue  # a function
        if word.lower() in KEYWORDS:
            continue
        found.add(word)
    return found


def rule_exprs(path):
    text = open(path, encoding="utf-8").read()
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        return exprs_without_yaml(text)
    doc = yaml.safe_load(text)
    out = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            out.append(str(rule["expr"]))
    return out


def exprs_without_yaml(text):
    """`expr:` values, inline or block scalars, of a rule file as this repository writes them."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?expr:\s*(.*)$", lines[i])
        i += 1
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2).strip()
        if rest[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            out.append(" ".join(block))
        else:
            out.append(rest.strip("'\""))
    return out


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels


def dashboard_exprs(path):
    d = json.load(open(path, encoding="utf-8"))
    out = [t["expr"] for p in panels_of(d) for t in p.get("targets", []) if t.get("expr")]
    for var in d.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            q = var.get("query")
            q = q.get("query", "") if isinstance(q, dict) else (q or "")
            m = re.match(r"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", q)
            if m:
                out.append(m.group(1))
    return out


def exprs_of(path):
    return dashboard_exprs(path) if path.endswith(".json") else rule_exprs(path)


def check_dashboard(path):
    problems = []
    try:
        d = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        return [f"{path}: not valid JSON: {e}"]
    if not isinstance(d.get("schemaVersion"), int):
        problems.append("schemaVersion is missing")
    if not d.get("title") or not d.get("uid"):
        problems.append("the dashboard needs a title and a uid")
    variables = d.get("templating", {}).get("list", [])
    ds = [v for v in variables if v.get("name") == "datasource"]
    if not ds or ds[0].get("type") != "datasource" or ds[0].get("query") != "prometheus":
        problems.append("no `datasource` variable of type datasource with query prometheus")
    ids = set()
    count = 0
    for p in panels_of(d):
        if p.get("type") == "row":
            if not p.get("title"):
                problems.append(f"row {p.get('id')} has no title")
            continue
        count += 1
        name = p.get("title") or f"panel {p.get('id')}"
        if not p.get("title"):
            problems.append(f"{name} has no title")
        if p.get("id") in ids:
            problems.append(f"{name}: id {p.get('id')} is used twice")
        ids.add(p.get("id"))
        targets = [t for t in p.get("targets", []) if str(t.get("expr", "")).strip()]
        if not targets:
            problems.append(f"{name} has no target with an expr")
        for t in p.get("targets", []):
            if (t.get("datasource") or {}).get("uid") != "${datasource}":
                problems.append(f"{name}: target {t.get('refId')} does not use ${{datasource}}")
        if (p.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"{name}: the panel does not use ${{datasource}}")
        if "gridPos" not in p:
            problems.append(f"{name} has no gridPos")
    if count == 0:
        problems.append("the dashboard has no panels")
    return problems


# What Grafana puts in place of its variables, for a query outside Grafana.
GRAFANA_VARS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$project": ".*",
}


def query_panels(base, path):
    d = json.load(open(path, encoding="utf-8"))
    failed = 0
    count = 0
    for p in panels_of(d):
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace("${" + var[1:] + "}", value).replace(var, value)
            url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            count += 1
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    answer = json.load(r)
                ok = answer.get("status") == "success"
                why = answer.get("error", "")
            except urllib.error.HTTPError as e:
                ok, why = False, e.read().decode("utf-8", "replace")
            if not ok:
                failed += 1
                print(f"REFUSED  {p.get('title')} {t.get('refId')}: {expr}\n         {why}")
    print(f"{path}: {count - failed} of {count} panel queries accepted by Prometheus")
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "dashboard":
        problems = check_dashboard(argv[1])
        for p in problems:
            print(f"dashboard: {p}")
        if not problems:
            d = json.load(open(argv[1], encoding="utf-8"))
            n = sum(1 for p in panels_of(d) if p.get("type") != "row")
            print(f"dashboard: {n} panels, each titled with a PromQL target")
        return 1 if problems else 0
    if len(argv) >= 2 and argv[0] == "names":
        names = set()
        for path in argv[1:]:
            exprs = exprs_of(path)
            if not exprs:
                print(f"no expressions found in {path}", file=sys.stderr)
                return 1
            for e in exprs:
                names |= names_in(e)
        print("\n".join(sorted(names)))
        return 0
    if len(argv) == 3 and argv[0] == "query":
        return query_panels(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "missing":
        answer = json.load(open(argv[1], encoding="utf-8"))
        if answer.get("status") != "success":
            print(f"Prometheus answered: {answer}", file=sys.stderr)
            return 1
        known = set(answer["data"])
        missing = 0
        for path in argv[2:]:
            used = set()
            for e in exprs_of(path):
                used |= names_in(e)
            for name in sorted(used - known):
                print(f"MISSING  {name}  (used in {path})")
                missing += 1
            print(f"{path}: {len(used) - len(used - known)} of {len(used)} metric names exported")
        return 1 if missing else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
