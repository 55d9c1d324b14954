"""Smoke test of the Spring Boot peer (bench/peers/spring-boot/, issue 12): the three apps
start against the test broker next to orderflow's payment-gateway binary, and
  tok_visa            -> CONFIRMED, one email;
  tok_chargeDeclined  -> FAILED (card_declined), one email;
  tok_processingError -> its OrderCreated in the peer's DLT, the order FAILED, one email.
Every wait polls an observable condition. The peer's Maven build is cached after its first run."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from confluent_kafka import Consumer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import peer  # noqa: E402
from support import MailSink, free_port, wait_until  # noqa: E402

KAFKA = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('ORDERFLOW_KAFKA_PORT', '9092')}")
BIN_DIR = Path(os.environ.get("ORDERFLOW_BUILD_DIR", ROOT / "build" / "release")) / "bin"


@pytest.fixture(scope="module")
def smtp():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def stack(smtp, tmp_path_factory):
    if not (BIN_DIR / "payment-gateway").exists():
        pytest.fail(f"{BIN_DIR / 'payment-gateway'} is not built (make build)", pytrace=False)
    peer.build()
    s = peer.PeerStack(tmp_path_factory.mktemp("peer"), KAFKA, BIN_DIR, "test-admin-token",
                       prefix=f"peer-test-{uuid.uuid4().hex[:8]}.", smtp_port=smtp[1])
    try:
        s.up()
        yield s
    finally:
        s.down()


def place(stack, token: str, email: str) -> str:
    r = requests.post(f"http://{stack.url('order-service')}/place-order", timeout=10, json={
        "customerId": "c-peer", "customerEmail": email, "currency": "EUR",
        "items": [{"sku": "BOOK-1", "quantity": 2, "unitPrice": "12.50"}], "paymentToken": token})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "PENDING" and body["totalAmount"] == "25.00" and body["currency"] == "EUR"
    assert r.headers["Location"] == f"/api/v1/orders/{body['orderId']}"
    return body["orderId"]


def final(stack, order_id: str, timeout: float = 60) -> dict:
    def done():
        o = requests.get(f"http://{stack.url('order-service')}/api/v1/orders/{order_id}", timeout=10).json()
        return o if o["status"] != "PENDING" else None
    return wait_until(done, timeout, f"order {order_id} to end")


def dlt_keys(stack) -> dict[str, dict]:
    topic = stack.order_events + "-dlt"
    c = Consumer({"bootstrap.servers": KAFKA, "group.id": f"peer-test-{uuid.uuid4()}", "enable.auto.commit": False})
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
        found = {}
        while (m := c.poll(2)) is not None:
            if not m.error():
                found[m.key().decode()] = {k: (v or b"").decode(errors="replace") for k, v in (m.headers() or [])}
        return found
    finally:
        c.close()


def test_health_and_metrics(stack):
    for app in peer.APPS:
        assert requests.get(f"http://{stack.url(app)}/actuator/health", timeout=10).json()["status"] == "UP"
        r = requests.get(f"http://{stack.url(app)}/actuator/prometheus", timeout=10)
        assert r.status_code == 200 and "jvm_memory_used_bytes" in r.text


def test_invalid_order_is_422(stack):
    r = requests.post(f"http://{stack.url('order-service')}/place-order", timeout=10, json={
        "customerId": "c", "customerEmail": "not-an-email", "currency": "EUR", "items": [],
        "paymentToken": "tok_visa"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"customerEmail", "items"}


def test_outcomes_dlt_and_one_email_each(stack, smtp):
    sink = smtp[0]
    run = uuid.uuid4().hex[:8]
    emails = {t: f"{t}-{run}@example.com" for t in ("tok_visa", "tok_chargeDeclined", "tok_processingError")}
    ids = {t: place(stack, t, e) for t, e in emails.items()}

    ok = final(stack, ids["tok_visa"])
    assert ok["status"] == "CONFIRMED", ok
    assert [h["status"] for h in ok["history"]] == ["PENDING", "CONFIRMED"]

    declined = final(stack, ids["tok_chargeDeclined"])
    assert declined["status"] == "FAILED" and declined["failureReason"] == "card_declined", declined

    broken = final(stack, ids["tok_processingError"])
    assert broken["status"] == "FAILED" and broken["failureReason"] == "payment-gateway-unavailable", broken
    dlt = wait_until(lambda: dlt_keys(stack).get(ids["tok_processingError"]), 30, "the DLT record")
    assert dlt["ce_type"] == "OrderCreated"
    assert dlt["kafka_dlt-original-topic"] == stack.order_events
    assert ids["tok_visa"] not in dlt_keys(stack)

    # The gateway's ledger: one charge per order, whatever the retries.
    gw = f"http://{stack.url(peer.GATEWAY)}/v1/charges"
    charges = requests.get(gw, params={"orderId": ids["tok_visa"]}, timeout=10).json()
    if isinstance(charges, dict):
        charges = charges.get("data", charges.get("charges"))
    assert len(charges) == 1, charges

    wait_until(lambda: all(sink.to(e) for e in emails.values()), 30, "an email per outcome")
    for token, address in emails.items():
        mails = sink.to(address)
        assert len(mails) == 1, (token, [m.subject for m in mails])
    assert "confirmed" in sink.to(emails["tok_visa"])[0].subject
    assert "could not be completed" in sink.to(emails["tok_chargeDeclined"])[0].subject


def test_paused_listeners_take_nothing_until_resumed(stack, smtp):
    """The bench's catch-up figure pauses the peer's consumers (ListenerControl): the JVMs stay
    up, orders pile up on the topic, and after resume every one of them is charged and mailed."""
    sink = smtp[0]
    for app in peer.APPS:
        states = peer.listeners(stack, app, "pause")
        assert states and set(states.values()) == {"paused"}, (app, states)
    run = uuid.uuid4().hex[:8]
    emails = [f"paused-{i}-{run}@example.com" for i in range(3)]
    ids = [place(stack, "tok_visa", e) for e in emails]

    def created_on_topic():
        c = Consumer({"bootstrap.servers": KAFKA, "group.id": f"peer-test-{uuid.uuid4()}", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        try:
            c.subscribe([stack.order_events])
            seen = set()
            while (m := c.poll(2)) is not None:
                if not m.error() and m.key():
                    seen.add(m.key().decode())
            return set(ids) <= seen
        finally:
            c.close()
    wait_until(created_on_topic, 30, "the OrderCreated records on the topic")
    for app in peer.APPS:
        states = requests.get(f"http://{stack.url(app)}/admin/listeners", timeout=10).json()
        assert set(states.values()) == {"paused"}, (app, states)
    for order_id in ids:
        o = requests.get(f"http://{stack.url('order-service')}/api/v1/orders/{order_id}", timeout=10).json()
        assert o["status"] == "PENDING", o
    assert not any(sink.to(e) for e in emails)

    for app in peer.APPS:
        assert set(peer.listeners(stack, app, "resume").values()) <= {"running", "resume requested"}, app
    for order_id in ids:
        assert final(stack, order_id)["status"] == "CONFIRMED"
    wait_until(lambda: all(sink.to(e) for e in emails), 30, "an email per order")
    assert all(len(sink.to(e)) == 1 for e in emails)
