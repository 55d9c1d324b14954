"""The system under test: the five release binaries, started by scripts/stack.sh in a
run folder of their own, on free ports, mailing to an in-process SMTP server. Kafka must
already be running at ORDERFLOW_KAFKA_BOOTSTRAP (`make test` starts it; by hand:
`make kafka-up`)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from support import HTTP_TIMEOUT, MailSink, free_port, new_order

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack.sh"
KAFKA_BOOTSTRAP = os.environ.get(
    "ORDERFLOW_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('ORDERFLOW_KAFKA_PORT', '9092')}")
ALERT_EMAIL_TO = "ops-e2e@orderflow.test"
# alerting-service's DLQ operations need an admin token (<name>:<token>; tests/e2e/test_dlq_ops.py).
ADMIN_TOKEN_NAME, ADMIN_TOKEN = "e2e-operator", "e2e-admin-token"

PORT_VARS = {
    "order-service": "ORDERFLOW_ORDER_HTTP_PORT",
    "payment-service": "ORDERFLOW_PAYMENT_HTTP_PORT",
    "notification-service": "ORDERFLOW_NOTIFICATION_HTTP_PORT",
    "alerting-service": "ORDERFLOW_ALERTING_HTTP_PORT",
    "payment-gateway": "ORDERFLOW_GATEWAY_HTTP_PORT",
}
# The operator console (services/console): started by scripts/stack.sh with the others, but
# not one of the five services Prometheus scrapes (test_metrics.py iterates PORT_VARS).
CONSOLE_PORT_VAR = "ORDERFLOW_CONSOLE_PORT"


@dataclass
class Stack:
    urls: dict[str, str]
    run_dir: Path
    kafka: str
    alert_email_to: str
    zipkin: str = ""  # Zipkin's base URL (its API: /api/v2/...)
    env: dict[str, str] = field(default_factory=dict)  # what scripts/stack.sh runs with

    def restart(self, *services: str) -> None:
        """Starts the named services again after a crash (scripts/stack.sh up only starts
        what is not running and returns once they are healthy)."""
        result = subprocess.run([str(STACK), "up", *services], env=self.env, capture_output=True, text=True)
        assert result.returncode == 0, f"restart of {services} failed:\n{result.stdout}\n{result.stderr}"

    def pid(self, service: str) -> int:
        return int((self.run_dir / "pids" / f"{service}.pid").read_text().strip())

    @property
    def order(self) -> str:
        return self.urls["order-service"]

    @property
    def gateway(self) -> str:
        return self.urls["payment-gateway"]

    @property
    def notification(self) -> str:
        return self.urls["notification-service"]

    @property
    def alerting(self) -> str:
        return self.urls["alerting-service"]

    @property
    def console(self) -> str:
        return self.urls["console"]

    def log(self, service: str) -> str:
        path = self.run_dir / "logs" / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""


ZIPKIN = ROOT / "scripts" / "zipkin.sh"


@pytest.fixture(scope="session")
def zipkin(tmp_path_factory) -> str:
    """A real Zipkin server's base URL: the one on ORDERFLOW_ZIPKIN_PORT (9411) when it
    answers (`make test` starts it), else one started here on a free port."""
    base = f"http://127.0.0.1:{os.environ.get('ORDERFLOW_ZIPKIN_PORT', '9411')}"
    try:
        if requests.get(f"{base}/health", timeout=2).status_code == 200:
            yield base
            return
    except requests.RequestException:
        pass
    env = dict(os.environ)
    env.update({"ORDERFLOW_ZIPKIN_PORT": str(free_port()),
                "ORDERFLOW_ZIPKIN_DIR": str(tmp_path_factory.mktemp("zipkin")), "NO_COLOR": "1"})
    result = subprocess.run([str(ZIPKIN), "start"], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"scripts/zipkin.sh start failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    yield f"http://127.0.0.1:{env['ORDERFLOW_ZIPKIN_PORT']}"
    subprocess.run([str(ZIPKIN), "stop"], env=env, capture_output=True, text=True)


def _require_kafka() -> None:
    try:
        AdminClient({"bootstrap.servers": KAFKA_BOOTSTRAP}).list_topics(timeout=10)
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"no Kafka broker at {KAFKA_BOOTSTRAP} ({exc}); start one with "
                    "`make kafka-up` (make test does it for you)", returncode=2)


def _refuse_shared_consumer_groups() -> None:
    """A development stack (make up / make run) on the same broker would share the
    services' consumer groups with the stack under test and take some of its records."""
    pids = ROOT / ".run" / "pids"
    running = []
    for pid_file in sorted(pids.glob("*.pid")) if pids.is_dir() else []:
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):
            continue
        if pid_file.stem.encode() in cmdline:
            running.append(pid_file.stem)
    if running:
        pytest.exit("the development stack is running (" + ", ".join(running) + "): it would "
                    "consume the test stack's Kafka records; stop it with `make down`",
                    returncode=2)


# The stack's consumer groups and the topics they read (SPEC §4; the services' defaults).
STACK_GROUPS = {
    "order-service": ["payment-events"],
    "payment-service": ["order-events"],
    "payment-service-retry": ["payment-service.retry"],
    "notification-service": ["order-events"],
    # the operator console indexes every topic (services/console)
    "console": ["order-events", "payment-events", "payment-service.retry", "payment-service.dlq",
                "notification-service.dlq", "order-service.dlq"],
}


def _start_groups_at_the_end() -> None:
    """On a broker that outlives test runs, a run that stopped half-way leaves records its
    services never consumed; the next stack (same consumer groups) would process them — for
    orders its own database does not know. Committing each group's offsets at the topics'
    current ends makes the stack under test start from here, as on a fresh broker."""
    for group, topics in STACK_GROUPS.items():
        consumer = Consumer({"bootstrap.servers": KAFKA_BOOTSTRAP, "group.id": group,
                             "enable.auto.commit": False})
        try:
            ends = []
            for topic in topics:
                md = consumer.list_topics(topic, timeout=10).topics.get(topic)
                if md is None or md.error is not None:
                    continue  # not created yet: nothing left over
                for p in md.partitions:
                    high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    ends.append(TopicPartition(topic, p, high))
            if ends:
                consumer.commit(offsets=ends, asynchronous=False)
        except KafkaException:
            pass  # the group still has members (a stack that just died): best effort
        finally:
            consumer.close()


LOG_TAIL_LINES = 40
_REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for section in _REPORT:
        title, _, text = section.partition("\n")
        terminalreporter.section(title, sep="-")
        terminalreporter.write_line(text)


@pytest.fixture(scope="session")
def smtp():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.url = f"smtp://127.0.0.1:{controller.port}"
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def stack(request, smtp, zipkin, tmp_path_factory) -> Stack:
    _require_kafka()
    _refuse_shared_consumer_groups()
    _start_groups_at_the_end()
    run_dir = tmp_path_factory.mktemp("orderflow-run")
    env = dict(os.environ)
    env.update({
        "ORDERFLOW_RUN_DIR": str(run_dir),
        "ORDERFLOW_BUILD_DIR": os.environ.get("ORDERFLOW_BUILD_DIR", str(ROOT / "build" / "release")),
        "ORDERFLOW_KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP,
        "ORDERFLOW_SMTP_URL": smtp.url,
        "ORDERFLOW_ZIPKIN_URL": f"{zipkin}/api/v2/spans",
        "ORDERFLOW_TRACING_FLUSH_INTERVAL_MS": "200",
        "ORDERFLOW_ALERT_EMAIL_TO": ALERT_EMAIL_TO,
        "ORDERFLOW_ADMIN_TOKEN": f"{ADMIN_TOKEN_NAME}:{ADMIN_TOKEN}",
        "NO_COLOR": "1",
        # Shorter retry timings than the defaults (about a minute in all) keep the suite
        # fast; two in-process attempts make tok_flaky need a round through the retry topic.
        "ORDERFLOW_CHARGE_ATTEMPTS": "2",
        "ORDERFLOW_RETRY_ROUNDS": "3",
        "ORDERFLOW_RETRY_TOPIC_BACKOFF_MS": "500",
        "ORDERFLOW_RETRY_TOPIC_BACKOFF_MAX_MS": "1000",
        # payment-service's deadline per charge call; the fault suite's latency scenario
        # makes the gateway answer later than this (test_zz_faults.py).
        "ORDERFLOW_GATEWAY_TIMEOUT_MS": "2000",
        "ORDERFLOW_BREAKER_FAILURE_THRESHOLD": "50",
        "ORDERFLOW_BREAKER_OPEN_MS": "1000",
        # A service killed by the crash tests leaves its consumer group member behind until
        # the session times out: 6 s (the broker's minimum) instead of 10 s, unless the
        # environment says otherwise (make test-cluster runs with the services' own 10 s).
        "ORDERFLOW_KAFKA_PROP_SESSION_TIMEOUT_MS": os.environ.get("ORDERFLOW_KAFKA_PROP_SESSION_TIMEOUT_MS", "6000"),
        # The order API in demo mode (no credentials, no rate limit) for the suite at large;
        # test_auth.py restarts order-service with authentication and rate limits on.
        "ORDERFLOW_AUTH_MODE": "none",
        "ORDERFLOW_RATE_LIMIT_RPS": "0",
    })
    for var in ("ORDERFLOW_GATEWAY_URL", "ORDERFLOW_DATA_DIR", "ORDERFLOW_MAIL_DIR",
                "ORDERFLOW_HTTP_PORT", "ORDERFLOW_ALERT_WEBHOOK_URL", "ORDERFLOW_API_KEYS",
                "ORDERFLOW_API_KEYS_FILE", "ORDERFLOW_JWT_HS256_SECRET", "ORDERFLOW_JWT_RS256_PUBLIC_KEY_FILE",
                "ORDERFLOW_CONSOLE", "ORDERFLOW_CONSOLE_DEMO_SIGN_IN", "ORDERFLOW_PROMETHEUS_URL"):
        env.pop(var, None)
    urls = {}
    for service, var in PORT_VARS.items():
        port = free_port()
        env[var] = str(port)
        urls[service] = f"http://127.0.0.1:{port}"
    env[CONSOLE_PORT_VAR] = str(free_port())
    urls["console"] = f"http://127.0.0.1:{env[CONSOLE_PORT_VAR]}"
    # Where the console asks Prometheus (test_console.py starts one there).
    env["ORDERFLOW_PROMETHEUS_PORT"] = str(free_port())

    def down() -> None:
        result = subprocess.run([str(STACK), "down"], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            _REPORT.append(f"scripts/stack.sh down failed:\n{result.stdout}\n{result.stderr}")
        if request.session.testsfailed:
            # pytest keeps the run folder, but a CI machine is gone afterwards: show the
            # service logs in the terminal summary (pytest_terminal_summary below).
            for service in [*PORT_VARS, "console"]:
                log = run_dir / "logs" / f"{service}.log"
                if log.exists():
                    tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                    _REPORT.append(f"{log} (last {LOG_TAIL_LINES} lines)\n" + "\n".join(tail))

    request.addfinalizer(down)
    result = subprocess.run([str(STACK), "up"], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"scripts/stack.sh up failed ({result.returncode}):\n{result.stdout}\n"
                    f"{result.stderr}", pytrace=False)
    return Stack(urls=urls, run_dir=run_dir, kafka=KAFKA_BOOTSTRAP, alert_email_to=ALERT_EMAIL_TO,
                 zipkin=zipkin, env=env)


@dataclass
class EarlyOrder:
    body: dict
    response: requests.Response | None
    error: Exception | None


@pytest.fixture(scope="session", autouse=True)
def gateway_error_order(stack) -> EarlyOrder:
    """The tok_processingError order is placed as soon as the stack is up: its retries
    and DLQ hand-off take the longest, so they run while the other tests do. Its test
    (test_gateway_error_goes_to_dlq_and_alerts) checks the outcome."""
    body = new_order("tok_processingError")
    try:
        resp = requests.post(f"{stack.order}/place-order", json=body, timeout=HTTP_TIMEOUT)
        return EarlyOrder(body, resp, None)
    except requests.RequestException as exc:
        return EarlyOrder(body, None, exc)
