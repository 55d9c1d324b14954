"""Metrics, end to end: a real Prometheus (Debian's, started by scripts/prometheus.sh)
scrapes this test's stack and the broker's JMX exporter; after a few orders, every PromQL
expression of the Grafana dashboard and of the alert rules must return data, so no panel
is blank and no alert watches a metric that does not exist. Also: `promtool check metrics`
on every service's exposition, and `promtool check rules` / `promtool test rules` on
deploy/prometheus."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from conftest import KAFKA_BOOTSTRAP, PORT_VARS
from support import HTTP_TIMEOUT, free_port, new_order, wait_until

ROOT = Path(__file__).resolve().parents[2]
PROM_DEPLOY = ROOT / "deploy" / "prometheus"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
# Where scripts/kafka.sh puts the broker's JMX exporter (scripts/lib.sh: Kafka port - 2021).
JMX_PORT = int(os.environ.get("ORDERFLOW_KAFKA_JMX_PORT") or int(KAFKA_BOOTSTRAP.rsplit(":", 1)[1]) - 2021)
JMX_URL = f"http://127.0.0.1:{JMX_PORT}/metrics"
# Broker metrics come from the JMX exporter, not from the services.
BROKER_METRIC = re.compile(r"\bkafka_(server|network|log|controller)_")
# "<query> <comparison> <number>" -> "<query>" (alerts.yml keeps every rule in that shape).
COMPARISON = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*-?[0-9.]+(e[+-]?[0-9]+)?\s*$")
# The gateway-error order needs the payment retries to run out before it is dead-lettered.
DATA_TIMEOUT_S = 100

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("prometheus") is None,
                                reason="Debian's prometheus package is not installed (make deps)")


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, cwd=PROM_DEPLOY)


def dashboard_exprs() -> list[tuple[str, str]]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                out.append((f"{path.name}: {panel['title']}", target["expr"]))
    return out


def alert_exprs() -> list[tuple[str, str]]:
    # One-line `alert:` / `expr:` pairs (alerts.yml keeps that shape; no YAML parser needed).
    text = (PROM_DEPLOY / "alerts.yml").read_text()
    pairs = re.findall(r"^\s*- alert: (\S+)\s*\n\s*expr: (.+)$", text, re.M)
    assert pairs, "no rules found in alerts.yml"
    return [(f"alert {name}", COMPARISON.sub("", expr.strip())) for name, expr in pairs]


def jmx_exporter_answers() -> bool:
    try:
        return requests.get(JMX_URL, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    port = free_port()
    env = dict(os.environ)
    env.update({var: str(urlparse(stack.urls[svc]).port) for svc, var in PORT_VARS.items()})
    env.update({
        "ORDERFLOW_PROMETHEUS_PORT": str(port),
        "ORDERFLOW_PROMETHEUS_DIR": str(tmp_path_factory.mktemp("prometheus")),
        "ORDERFLOW_PROMETHEUS_SCRAPE_INTERVAL": "1s",
        "ORDERFLOW_KAFKA_JMX_PORT": str(JMX_PORT),
        # Its alerts go nowhere (a free port), never to a developer's Alertmanager.
        "ORDERFLOW_ALERTMANAGER_PORT": str(free_port()),
        "NO_COLOR": "1",
    })
    script = ROOT / "scripts" / "prometheus.sh"
    started = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    yield f"http://127.0.0.1:{port}"
    subprocess.run([str(script), "stop"], env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def orders(stack):
    """A success, a decline and a gateway error, so every outcome's series exists."""
    ids = []
    for token in ("tok_visa", "tok_chargeDeclined", "tok_processingError"):
        r = requests.post(f"{stack.order}/place-order", json=new_order(token), timeout=HTTP_TIMEOUT)
        assert r.status_code == 202, r.text
        ids.append(r.json()["orderId"])
    return ids


def query(prom: str, expr: str) -> list:
    r = requests.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"{expr}: {r.text}"
    return r.json()["data"]["result"]


def wait_for_data(prom: str, exprs: list[tuple[str, str]]) -> None:
    missing = list(exprs)

    def all_have_data():
        missing[:] = [(where, e) for where, e in missing if not query(prom, e)]
        return not missing

    try:
        wait_until(all_have_data, DATA_TIMEOUT_S, "every expression to return data", interval=1)
    except AssertionError:
        pytest.fail("PromQL expressions without data (blank panels / alerts on nothing):\n" +
                    "\n".join(f"  {where}: {e}" for where, e in missing), pytrace=False)


def targets(prom: str) -> dict[str, str]:
    r = requests.get(f"{prom}/api/v1/targets", timeout=HTTP_TIMEOUT)
    return {t["labels"]["job"]: t["health"] for t in r.json()["data"]["activeTargets"]}


def test_alert_rules_pass_promtool_check_and_unit_tests():
    check = promtool("check", "rules", "alerts.yml")
    assert check.returncode == 0, check.stdout + check.stderr
    unit = promtool("test", "rules", "alerts_test.yml")
    assert unit.returncode == 0, unit.stdout + unit.stderr
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_dashboards_use_the_provisioned_datasource():
    exprs = dashboard_exprs()
    assert exprs, "no dashboard expressions found"
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "prometheus", panel["title"]


@pytest.mark.parametrize("service", sorted(PORT_VARS))
@pytest.mark.parametrize("path", ["/metrics", "/actuator/prometheus"])
def test_service_exposition_passes_promtool(stack, orders, service, path):
    r = requests.get(stack.urls[service] + path, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    check = promtool("check", "metrics", stdin=r.text)
    assert check.returncode == 0, f"{service}{path}:\n{check.stdout}{check.stderr}"


def test_every_service_target_is_up_and_rules_load(prometheus):
    wait_until(lambda: all(targets(prometheus).get(s) == "up" for s in PORT_VARS), 30,
               "every service target to be up")
    r = requests.get(f"{prometheus}/api/v1/rules", timeout=HTTP_TIMEOUT)
    rules = [rule for g in r.json()["data"]["groups"] for rule in g["rules"]]
    assert len(rules) == len(alert_exprs()), rules
    assert all(rule["health"] != "err" for rule in rules), rules


def test_every_dashboard_and_alert_expression_returns_data(prometheus, orders):
    exprs = [(w, e) for w, e in dashboard_exprs() + alert_exprs() if not BROKER_METRIC.search(e)]
    wait_for_data(prometheus, exprs)
    for svc in PORT_VARS:  # the Kafka client gauges come from every Kafka-using service
        if svc != "payment-gateway":
            assert query(prometheus, f'kafka_client_request_latency_seconds{{job="{svc}"}}'), svc


def test_broker_target_and_broker_panels(prometheus, orders):
    if not jmx_exporter_answers():
        pytest.skip(f"the broker runs without the JMX exporter ({JMX_URL}); restart it with "
                    "scripts/kafka.sh stop && scripts/kafka.sh start")
    check = promtool("check", "metrics", stdin=requests.get(JMX_URL, timeout=HTTP_TIMEOUT).text)
    assert check.returncode == 0, check.stdout + check.stderr
    wait_until(lambda: targets(prometheus).get("kafka") == "up", 30, "the kafka (JMX) target to be up")
    wait_for_data(prometheus, [(w, e) for w, e in dashboard_exprs() + alert_exprs() if BROKER_METRIC.search(e)])
