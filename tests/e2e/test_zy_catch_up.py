"""Catch-up after an outage (issue 18): payment-service and notification-service are down
while a backlog of orders is placed; they start again and work the backlog off. Checked from
the outside, behaviour only (the bench times the drain; a test never does):
  - every order is accepted (202) while the consumers are down, and none gets final then;
  - every order ends final, as its token says (CONFIRMED, or FAILED for a decline);
  - exactly one final charge per order in the gateway ledger, a successful one <=> CONFIRMED;
  - exactly one customer email per order (the SMTP sink);
  - no consumer restarted while the backlog drained (same pids from the restart to the end:
    a service that ran out of memory or crashed on a full poll and came back would not do).
Named to run after the other tests and before the fault suite: it stops and restarts
services of the shared stack."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from confluent_kafka import Consumer, TopicPartition

from conftest import STACK
from support import HTTP_TIMEOUT, charges, committed_offset, new_order, process_alive, wait_until

BACKLOG = int(os.environ.get("ORDERFLOW_E2E_CATCH_UP_ORDERS", "2000"))
DECLINE_EVERY = 10  # every tenth order is declined: the backlog holds OrderFailed too
PLACERS = 16
DOWN = ("payment-service", "notification-service")
CONSUMERS = ("order-service", "payment-service", "notification-service", "alerting-service")
DRAIN_DEADLINE_S = 600  # generous bound for a slow CI machine; never a timing assertion
FINAL = {"OrderConfirmed": "CONFIRMED", "OrderFailed": "FAILED"}


def _stop(stack, *services: str) -> None:
    """An orderly stop (SIGTERM, as scripts/stack.sh down sends), waited for."""
    pids = {s: stack.pid(s) for s in services}
    result = subprocess.run([str(STACK), "down", *services], env=stack.env, capture_output=True, text=True)
    assert result.returncode == 0, f"stop of {services} failed:\n{result.stdout}\n{result.stderr}"
    for service, pid in pids.items():
        wait_until(lambda: not process_alive(pid), 30, f"{service} (pid {pid}) to be gone")


def _ends(consumer: Consumer, topic: str) -> dict[int, int]:
    md = consumer.list_topics(topic, timeout=10).topics[topic]
    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.partitions}


class _FinalEvents:
    """order-events from the given offsets on a thread of its own: order id -> the final
    events (OrderConfirmed / OrderFailed) seen for it."""

    def __init__(self, bootstrap: str, start: dict[int, int]):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-e2e-catch-up-reader",
                                  "enable.auto.commit": False, "enable.auto.offset.store": False})
        self.consumer.assign([TopicPartition("order-events", p, off) for p, off in start.items()])
        self.lock = threading.Lock()
        self.final: dict[str, list[str]] = {}
        self.stopping = threading.Event()
        self.more = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            for m in self.consumer.consume(500, 0.2):
                if m.error() or m.key() is None:
                    continue
                ce_type = next((v for k, v in (m.headers() or []) if k == "ce_type"), b"").decode()
                if ce_type in FINAL:
                    with self.lock:
                        self.final.setdefault(m.key().decode(), []).append(FINAL[ce_type])
                    self.more.set()
        self.consumer.close()

    def wait_for_more(self, timeout: float) -> None:
        """Returns when a final event arrived since the last call, or after `timeout`."""
        self.more.wait(timeout)
        self.more.clear()

    def of(self, order_ids) -> dict[str, list[str]]:
        with self.lock:
            return {o: list(self.final[o]) for o in order_ids if o in self.final}

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)


def _place(stack, tokens: list[str]) -> dict[str, dict]:
    """Places one order per token at once from PLACERS threads; order id -> its body.
    Every answer must be a 202: the order API does not depend on the stopped consumers."""
    local = threading.local()
    refused: list[str] = []

    def place(token: str):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        body = new_order(token)
        r = session.post(f"{stack.order}/place-order", json=body, timeout=HTTP_TIMEOUT)
        if r.status_code != 202:
            refused.append(f"{r.status_code} {r.text[:200]}")
            return None
        return r.json()["orderId"], body

    with ThreadPoolExecutor(PLACERS) as pool:
        placed = [x for x in pool.map(place, tokens) if x]
    assert not refused, f"{len(refused)} of {len(tokens)} orders refused during the outage, e.g. {refused[:3]}"
    return dict(placed)


def _restarted(stack, pids: dict[str, int]) -> list[str]:
    """The services whose process of `pids` is gone or replaced by another."""
    gone = []
    for service, pid in pids.items():
        try:
            same = stack.pid(service) == pid
        except (OSError, ValueError):
            same = False  # no pid file: stopped
        if not same or not process_alive(pid):
            gone.append(service)
    return gone


def _caught_up(stack, group: str, topic: str) -> bool:
    """The group's committed offsets have reached the topic's end: it has nothing left."""
    reader = Consumer({"bootstrap.servers": stack.kafka, "group.id": "orderflow-e2e-catch-up-probe"})
    try:
        ends = _ends(reader, topic)
    finally:
        reader.close()
    return all(committed_offset(stack.kafka, group, topic, p) >= end for p, end in ends.items() if end > 0)


def test_backlog_after_an_outage_drains_completely_once(stack, smtp):
    tokens = ["tok_chargeDeclined" if i % DECLINE_EVERY == DECLINE_EVERY - 1 else
              ("tok_visa" if i % 2 else "tok_mastercard") for i in range(BACKLOG)]
    probe = Consumer({"bootstrap.servers": stack.kafka, "group.id": "orderflow-e2e-catch-up-probe"})
    try:
        start = _ends(probe, "order-events")
    finally:
        probe.close()
    events = _FinalEvents(stack.kafka, start)
    try:
        _stop(stack, *DOWN)
        try:
            placed = _place(stack, tokens)
            assert len(placed) == BACKLOG
            # The backlog is real: with payment-service down nothing gets final. A sample
            # of the orders (through the API) and none of them on order-events.
            for order_id in list(placed)[:: max(1, BACKLOG // 20)]:
                r = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT)
                assert r.status_code == 200 and r.json()["status"] == "PENDING", r.text
            assert not events.of(placed), "orders got final while payment-service was down"
        finally:
            stack.restart(*DOWN)  # the stack is whole again, whatever happened above

        pids = {s: stack.pid(s) for s in CONSUMERS}
        expected = {o: ("FAILED" if b["paymentToken"] == "tok_chargeDeclined" else "CONFIRMED")
                    for o, b in placed.items()}

        # Until every order of the backlog is final; a consumer that died or was restarted
        # meanwhile fails the test at once (wait_until would take its assertion for "not yet").
        deadline = time.monotonic() + DRAIN_DEADLINE_S
        while len(events.of(placed)) < len(placed):
            gone = _restarted(stack, pids)
            assert not gone, f"consumer(s) {gone} restarted or died while the backlog drained"
            assert time.monotonic() < deadline, (f"after {DRAIN_DEADLINE_S} s only {len(events.of(placed))} of "
                                                 f"{len(placed)} orders of the backlog are final")
            events.wait_for_more(0.5)
        # Every consumer group has worked its topic off: nothing more is coming (no late
        # duplicate email or charge that the counts below would miss).
        for group, topic in (("payment-service", "order-events"), ("order-service", "payment-events"),
                             ("notification-service", "order-events")):
            wait_until(lambda: _caught_up(stack, group, topic), 120, f"{group} to commit the end of {topic}",
                       interval=0.5)
        emails_of = {o: b["customerEmail"] for o, b in placed.items()}
        wait_until(lambda: all(smtp.to(a) for a in emails_of.values()), 120,
                   "one email for every order of the backlog", interval=0.5)

        finals = events.of(placed)
        wrong_events = {o: f for o, f in finals.items() if f != [expected[o]]}
        assert not wrong_events, (f"{len(wrong_events)} orders with other final events than one as their token "
                                  f"says, e.g. {list(wrong_events.items())[:3]}")

        session = requests.Session()
        bad_status, bad_charges, bad_mails = [], [], []
        for order_id, want in expected.items():
            status = session.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()["status"]
            if status != want:
                bad_status.append((order_id, status, want))
            ledger = charges(stack.gateway, order_id)
            ok = [c for c in ledger if c.get("status") == "succeeded"]
            if len(ledger) != 1 or len(ok) != (1 if want == "CONFIRMED" else 0):
                bad_charges.append((order_id, want, [c.get("status") for c in ledger]))
            mails = smtp.to(emails_of[order_id])
            if len(mails) != 1:
                bad_mails.append((order_id, len(mails)))
        assert not bad_status, f"{len(bad_status)} orders not final as their token says, e.g. {bad_status[:3]}"
        assert not bad_charges, f"{len(bad_charges)} orders without exactly one charge, e.g. {bad_charges[:3]}"
        assert not bad_mails, f"{len(bad_mails)} orders without exactly one email, e.g. {bad_mails[:3]}"
        restarted = _restarted(stack, pids)
        assert not restarted, f"consumer(s) {restarted} restarted while the backlog drained"
    finally:
        events.stop()
