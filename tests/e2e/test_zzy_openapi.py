"""Each service's OpenAPI 3 description: served at /v3/api-docs exactly as kept in the
repo (services/<service>/openapi.json completed with libs/runtime/openapi/common.json),
valid OpenAPI 3, and true to the service — schemathesis generates requests from it (valid
and invalid, bounded per operation) and every answer must be no 5xx, a documented status
and content type, and a body that fits the documented schema.
Named to run after the other tests (and before the card-data scan): schemathesis reuses values
it reads from responses — real customer ids and emails among them — so the orders it places
would land in the mailboxes other tests count."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from conftest import ADMIN_TOKEN, ROOT
from support import HTTP_TIMEOUT

SERVICE_DIRS = {
    "order-service": "order",
    "payment-service": "payment",
    "payment-gateway": "payment_gateway",
    "notification-service": "notification",
    "alerting-service": "alerting",
}
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = os.environ.get("ORDERFLOW_SCHEMATHESIS_MAX_EXAMPLES", "50")
# The stack is shared by the whole session: operations that would change how it behaves for
# the tests after this one are left out, or run only where they cannot act. Fault injection
# on the gateway (a generated valid body could set an outage or a minute of latency) is
# exercised by test_zz_faults.py; DLQ replay runs without the admin token (schemathesis
# learns real topic names from the responses and would replay them): every answer is then
# a 401 problem, while browsing and the audit trail run with the token.
AUTH = f"Authorization: Bearer {ADMIN_TOKEN}"
RUNS = {
    "payment-gateway": [{"exclude": ["updateFaults", "clearFaults"], "headers": [AUTH]}],
    "alerting-service": [{"exclude": ["replayDlq"], "headers": [AUTH]}, {"include": ["replayDlq"]}],
}


def repo_document(service: str) -> dict:
    """What the service must serve: its own document completed with the common one (the
    service's entries win), as libs/runtime/openapi.cpp merges them."""
    common = json.loads((ROOT / "libs" / "runtime" / "openapi" / "common.json").read_text())
    doc = json.loads((ROOT / "services" / SERVICE_DIRS[service] / "openapi.json").read_text())
    for path, item in common["paths"].items():
        doc.setdefault("paths", {}).setdefault(path, item)
    for section, entries in common["components"].items():
        into = doc.setdefault("components", {}).setdefault(section, {})
        for name, value in entries.items():
            into.setdefault(name, value)
    return doc


@pytest.mark.parametrize("service", SERVICE_DIRS)
def test_served_document_is_the_repo_document_and_valid_openapi_3(stack, service):
    r = requests.get(f"{stack.urls[service]}/v3/api-docs", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    served = r.json()
    assert served == repo_document(service)
    assert served["openapi"].startswith("3.")
    validate(served)  # raises on an invalid OpenAPI document
    assert served["info"]["title"] == service


def test_every_route_is_described(stack):
    """No endpoint is missing from the documents: each route registered in the code
    (router.add(..., "<path>", ...)) is a path of its service's document."""
    pattern = re.compile(r'router_?\.add\(\s*http::Verb::(\w+),\s*"([^"]+)"')
    for service, folder in SERVICE_DIRS.items():
        doc = repo_document(service)
        sources = list((ROOT / "services" / folder).rglob("*.cpp")) + [ROOT / "libs" / "runtime" / "runtime.cpp"]
        routes = {(m.group(1).rstrip("_"), m.group(2)) for src in sources if "tests" not in src.parts
                  for m in pattern.finditer(src.read_text())}
        assert routes, service
        for method, path in routes:
            assert method in doc["paths"].get(path, {}), f"{service}: {method.upper()} {path} is not described"


@pytest.mark.parametrize("service", SERVICE_DIRS)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(stack, service, tmp_path):
    cli = Path(sys.executable).with_name("schemathesis")
    env = dict(os.environ, NO_COLOR="1", HYPOTHESIS_STORAGE_DIRECTORY=str(tmp_path / "hypothesis"))
    for i, run in enumerate(RUNS.get(service, [{}])):
        cmd = [str(cli), "run", f"{stack.urls[service]}/v3/api-docs",
               "--checks", CHECKS,
               "--phases", "examples,coverage,fuzzing",
               "--max-examples", MAX_EXAMPLES,
               "--workers", "1",
               "--request-timeout", "10",
               "--seed", os.environ.get("ORDERFLOW_SCHEMATHESIS_SEED", "6"),
               "--suppress-health-check", "too_slow,filter_too_much",
               "--report", "junit", "--report-dir", str(tmp_path / f"run{i}")]
        for op in run.get("exclude", []):
            cmd += ["--exclude-operation-id", op]
        for op in run.get("include", []):
            cmd += ["--include-operation-id", op]
        for header in run.get("headers", []):
            cmd += ["--header", header]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
        assert result.returncode == 0, (f"schemathesis found problems in {service}:\n"
                                        f"{result.stdout[-20000:]}\n{result.stderr[-4000:]}")
        # It really ran: its report lists the operations it tested.
        reports = list((tmp_path / f"run{i}").glob("junit*.xml"))
        assert reports and "<testcase" in reports[0].read_text(), result.stdout[-3000:]
