"""Alerts that reach a person (issue 15, part 3): a real Prometheus and a real Alertmanager,
started by scripts/prometheus.sh and scripts/alertmanager.sh against the e2e stack. The
test stops notification-service and checks that its ServiceDown alert arrives

  - as an email from Alertmanager, through the stack's SMTP server (the in-process sink),
  - as a ServiceNow-shaped incident webhook call: Alertmanager posts to alerting-service's
    /api/v1/alertmanager, which posts the incident to its incident webhook (here an HTTP
    sink of this test),

no earlier than the rule's `for` after the stop, and that the resolved notice follows both
ways (same correlation_id) once the service is back.

Timing: Prometheus scrapes and evaluates every second, ServiceDown's `for` is 5 s instead of
1 m (a copy of deploy/prometheus/alerts.yml with only that changed, passed as
ORDERFLOW_PROMETHEUS_RULES), and Alertmanager groups with group_wait 1 s / group_interval
2 s (ORDERFLOW_ALERTMANAGER_GROUP_*). The relay is an alerting-service of its own (own port,
data folder and consumer group, with ORDERFLOW_ALERT_WEBHOOK_URL set), so the stack's one
stays as the other tests expect it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import yaml

from conftest import PORT_VARS
from support import HTTP_TIMEOUT, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
VICTIM = "notification-service"
RULE_FOR_S = 5
ONCALL = "oncall-am@orderflow.test"  # Alertmanager's recipient, apart from the DLQ alerts' one
ALERT_TIMEOUT_S = 90


class IncidentSink:
    """The incident webhook (ServiceNow's Table API stand-in): keeps every JSON body."""

    def __init__(self):
        self.calls: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    sink.calls.append((time.time(), json.loads(body)))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"result":{"sys_id":"e2e"}}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/now/table/incident"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def incidents(self, prefix: str) -> list[tuple[float, dict]]:
        with self.lock:
            return [(t, b) for t, b in self.calls
                    if b.get("category") == "orderflow-prometheus" and b["short_description"].startswith(prefix)
                    and "ServiceDown" in b["short_description"] and f"job={VICTIM}" in b["description"]]


def run_script(script: str, command: str, env: dict) -> None:
    result = subprocess.run([str(SCRIPTS / script), command], env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{script} {command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def relay(stack, tmp_path_factory):
    """An alerting-service with an incident webhook: Alertmanager's webhook receiver."""
    sink = IncidentSink()
    port = free_port()
    data = tmp_path_factory.mktemp("alertmanager-relay")
    env = dict(stack.env)
    env.update({"ORDERFLOW_HTTP_PORT": str(port), "ORDERFLOW_DATA_DIR": str(data / "data"),
                "ORDERFLOW_MAIL_DIR": str(data / "mail"), "ORDERFLOW_ALERT_WEBHOOK_URL": sink.url,
                "ORDERFLOW_CONSUMER_GROUP": f"alertmanager-relay-{uuid.uuid4().hex[:8]}",
                # Its own DLQ alerts (it reads every *.dlq topic too) go to an address no test counts.
                "ORDERFLOW_ALERT_EMAIL_TO": "relay-dlq@orderflow.test"})
    log_path = data / "alerting-service.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([str(Path(env["ORDERFLOW_BUILD_DIR"]) / "bin" / "alerting-service")], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        assert proc.poll() is None, f"exited ({proc.returncode}): {log_path.read_text(errors='replace')}"
        return requests.get(f"{url}/actuator/health", timeout=2).status_code == 200
    try:
        wait_until(healthy, 60, "the relay alerting-service to be healthy")
        yield port, sink, url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sink.server.shutdown()


@pytest.fixture(scope="module")
def monitoring(stack, smtp, relay, tmp_path_factory):
    """Alertmanager, then Prometheus, both through the project's scripts."""
    relay_port, _, _ = relay
    work = tmp_path_factory.mktemp("monitoring")
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    service_down = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "ServiceDown"]
    assert len(service_down) == 1
    service_down[0]["for"] = f"{RULE_FOR_S}s"
    (work / "alerts.yml").write_text(yaml.safe_dump(rules, sort_keys=False))

    am_port, prom_port = free_port(), free_port()
    env = dict(os.environ)
    env.update({var: str(urlparse(stack.urls[svc]).port) for svc, var in PORT_VARS.items()})
    env.update({
        "ORDERFLOW_ALERTING_HTTP_PORT": str(relay_port),
        "ORDERFLOW_SMTP_URL": smtp.url,
        "ORDERFLOW_ALERT_EMAIL_TO": ONCALL,
        "ORDERFLOW_ALERTMANAGER_PORT": str(am_port),
        "ORDERFLOW_ALERTMANAGER_DIR": str(work / "alertmanager"),
        "ORDERFLOW_ALERTMANAGER_GROUP_WAIT": "1s",
        "ORDERFLOW_ALERTMANAGER_GROUP_INTERVAL": "2s",
        "ORDERFLOW_ALERTMANAGER_REPEAT_INTERVAL": "1h",
        "ORDERFLOW_PROMETHEUS_PORT": str(prom_port),
        "ORDERFLOW_PROMETHEUS_DIR": str(work / "prometheus"),
        "ORDERFLOW_PROMETHEUS_SCRAPE_INTERVAL": "1s",
        "ORDERFLOW_PROMETHEUS_RULES": str(work / "alerts.yml"),
        "NO_COLOR": "1",
    })
    started = []
    try:
        for script in ("alertmanager.sh", "prometheus.sh"):
            run_script(script, "start", env)
            started.append(script)
        yield f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}"
    finally:
        for script in reversed(started):
            subprocess.run([str(SCRIPTS / script), "stop"], env=env, capture_output=True, text=True)


def victim_up(prom: str) -> float | None:
    r = requests.get(f"{prom}/api/v1/query", params={"query": f'up{{job="{VICTIM}"}}'}, timeout=HTTP_TIMEOUT)
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def mails(smtp, status: str):
    return [m for m in smtp.to(ONCALL) if f"[{status}" in m.subject and "ServiceDown" in m.subject
            and VICTIM in m.subject]


def test_service_down_reaches_a_person_by_mail_and_incident_and_resolves(stack, smtp, relay, monitoring):
    prom, am = monitoring
    _, sink, _ = relay
    # Prometheus scrapes the victim and knows its Alertmanager before anything is stopped.
    wait_until(lambda: victim_up(prom) == 1.0, 60, f"Prometheus to scrape {VICTIM}")
    wait_until(lambda: requests.get(f"{prom}/api/v1/alertmanagers", timeout=HTTP_TIMEOUT)
               .json()["data"]["activeAlertmanagers"], 30, "Prometheus to know its Alertmanager")
    assert not mails(smtp, "FIRING") and not sink.incidents("[FIRING"), "ServiceDown fired before the stop"

    pid = stack.pid(VICTIM)
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
               .lower(), 20, f"{VICTIM} to exit")
    stopped = time.time()
    try:
        wait_until(lambda: victim_up(prom) == 0.0, 30, f"Prometheus to see {VICTIM} down")
        firing_mail = wait_until(lambda: mails(smtp, "FIRING"), ALERT_TIMEOUT_S, "the ServiceDown email")[0]
        mailed_at = time.time()
        firing = wait_until(lambda: sink.incidents("[FIRING"), ALERT_TIMEOUT_S, "the ServiceDown incident")[0]
        # Not before the rule's `for`: the alert was pending first.
        assert mailed_at - stopped >= RULE_FOR_S and firing[0] - stopped >= RULE_FOR_S, \
            (mailed_at - stopped, firing[0] - stopped)
        incident = firing[1]
        assert incident["urgency"] == "1" and incident["impact"] == "1", incident  # severity critical
        assert incident["short_description"] == f"[FIRING:1] ServiceDown: {VICTIM} is down", incident
        assert incident["correlation_id"].startswith("alertmanager:"), incident
        assert VICTIM in firing_mail.text()
        print(f"ServiceDown of {VICTIM}: mailed {mailed_at - stopped:.1f}s and incident "
              f"{firing[0] - stopped:.1f}s after the stop (for: {RULE_FOR_S}s); subject: {firing_mail.subject}")
    finally:
        stack.restart(VICTIM)
    restarted = time.time()

    resolved_mail = wait_until(lambda: mails(smtp, "RESOLVED"), ALERT_TIMEOUT_S, "the resolved email")[0]
    resolved = wait_until(lambda: sink.incidents("[RESOLVED]"), ALERT_TIMEOUT_S, "the resolved incident")[0]
    assert resolved[0] >= restarted
    assert resolved[1]["correlation_id"] == incident["correlation_id"], "the notices of one alert pair up"
    assert len(sink.incidents("[FIRING")) == 1 and len(mails(smtp, "FIRING")) == 1, "one firing notice each way"
    print(f"resolved: mailed and incident {resolved[0] - restarted:.1f}s after the restart; "
          f"subject: {resolved_mail.subject}")


def test_the_relay_mails_when_asked_and_refuses_what_is_not_alertmanagers(smtp, relay):
    """A stack without an SMTP server has alerting-service write Alertmanager's emails
    (?email=true, scripts/alertmanager.sh); here its mailer is the SMTP sink."""
    _, sink, url = relay
    group = f"{{}}:{{alertname=\"E2eProbe\", run=\"{uuid.uuid4().hex[:8]}\"}}"
    body = {"status": "firing", "groupKey": group, "version": "4",
            "commonLabels": {"alertname": "E2eProbe", "severity": "warning"},
            "commonAnnotations": {"summary": "a probe of the relay"},
            "alerts": [{"status": "firing", "labels": {"alertname": "E2eProbe", "severity": "warning"},
                        "annotations": {"summary": "a probe of the relay"}, "startsAt": "2026-01-01T00:00:00Z"}]}
    r = requests.post(f"{url}/api/v1/alertmanager?email=true", json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["forwarded"] is True and r.json()["emailed"] is True
    correlation = r.json()["correlationId"]
    with sink.lock:
        posted = [b for _, b in sink.calls if b.get("correlation_id") == correlation]
    assert len(posted) == 1 and posted[0]["short_description"] == "[FIRING:1] E2eProbe: a probe of the relay"
    assert posted[0]["urgency"] == "2"
    mail = wait_until(lambda: [m for m in smtp.to("relay-dlq@orderflow.test")
                               if m.subject == "[orderflow] [FIRING:1] E2eProbe: a probe of the relay"], 30,
                      "the relay's email")
    assert correlation in mail[0].text()

    for bad, status in (({"status": "firing"}, 422), ("[]", 422), ("{", 400)):
        data = bad if isinstance(bad, str) else json.dumps(bad)
        r = requests.post(f"{url}/api/v1/alertmanager", data=data, headers={"Content-Type": "application/json"},
                          timeout=HTTP_TIMEOUT)
        assert r.status_code == status, (bad, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/problem+json")
