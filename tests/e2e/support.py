"""Helpers for the end-to-end tests: polling, an SMTP sink, reading Kafka topics,
and the order API. No fixed sleeps anywhere: every wait polls an observable condition."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import requests
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

T = TypeVar("T")

# When this test session began (epoch ms, less a margin): a test that reads a shared topic
# "from the beginning" reads from here, since everything it looks for was produced during
# the session. A long-lived development broker holds millions of earlier records (bench
# runs) that would take longer than any test's deadline to read.
SESSION_STARTED_MS = int(time.time() * 1000) - 10_000

HTTP_TIMEOUT = 10


class WaitTimeout(AssertionError):
    pass


def wait_until(predicate: Callable[[], T], timeout: float, message: str = "condition",
               interval: float = 0.1) -> T:
    """Poll `predicate` until it returns something truthy and return that value.
    Exceptions from the predicate count as "not yet"; on timeout the last value or
    exception is part of the failure message."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as exc:  # noqa: BLE001 - "not yet", reported on timeout
            last = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {message}; last: {last!r}")
        time.sleep(interval)


def process_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- SMTP


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """Headers and every text part, decoded: for "does it mention X" checks."""
        parts = [self.raw.decode("utf-8", "replace")]
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                try:
                    parts.append(part.get_content())
                except Exception:  # noqa: BLE001 - undecodable part: raw text above still counts
                    pass
        return "\n".join(parts)


@dataclass
class MailSink:
    """aiosmtpd handler that keeps every message it is given."""

    messages: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""  # smtp://host:port, set once the server listens

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append(Mail(envelope.mail_from, [r.lower() for r in envelope.rcpt_tos],
                                      msg, raw))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.messages if address.lower() in m.rcpt_tos]


# --------------------------------------------------------------------------- Kafka


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.value or b"null")


def _record(msg) -> Record:
    headers: dict[str, str] = {}
    for name, value in msg.headers() or []:
        headers[name] = value.decode("utf-8", "replace") if value is not None else ""
    key = msg.key()
    return Record(msg.topic(), msg.partition(), msg.offset(),
                  key.decode("utf-8", "replace") if key is not None else None, msg.value(), headers)


def _reader(bootstrap: str) -> Consumer:
    """A consumer in a group of its own that commits nothing and creates no topic."""
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"orderflow-e2e-reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "allow.auto.create.topics": False,
    })


def find_record(bootstrap: str, topic: str, key: str, timeout: float,
                predicate: Callable[[Record], bool] = lambda r: True) -> Record:
    """The first record of `topic` with this key that satisfies `predicate`, reading every
    partition from the beginning (each test's keys are fresh order ids, so old records in
    a long-lived development broker never match). Waits for the topic to exist."""
    consumer = _reader(bootstrap)
    deadline = time.monotonic() + timeout
    try:
        def partitions():
            md = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if md is None or md.error is not None or not md.partitions:
                return None
            return sorted(md.partitions)

        parts = wait_until(partitions, timeout, f"topic {topic} to exist")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        seen = 0
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().fatal():
                    raise KafkaException(msg.error())
                continue
            seen += 1
            rec = _record(msg)
            if rec.key == key and predicate(rec):
                return rec
        raise WaitTimeout(f"no record with key {key} (matching the predicate) in {topic} "
                          f"after {timeout}s ({seen} records read)")
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, since_ms: int | None = None,
               timeout: float = 60) -> list[Record]:
    """Every record of `topic` from `since_ms` (record timestamp, epoch ms; None: from the
    beginning) up to each partition's high watermark of now, without committing offsets.
    A topic that does not exist reads as empty."""
    consumer = _reader(bootstrap)
    try:
        md = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if md is None or md.error is not None or not md.partitions:
            return []
        parts = sorted(md.partitions)
        if since_ms is None:
            starts = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[0] for p in parts}
        else:
            found = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in parts], timeout=10)
            starts = {tp.partition: tp.offset for tp in found}
        ends: dict[int, int] = {}
        for p in parts:
            high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            if starts[p] >= 0 and high > starts[p]:  # -1: no record at or after since_ms
                ends[p] = high
        if not ends:
            return []
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in ends])
        records: list[Record] = []
        pending = set(ends)

        def drained():
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                if msg.offset() < ends[msg.partition()]:
                    records.append(_record(msg))
                if msg.offset() + 1 >= ends[msg.partition()]:
                    pending.discard(msg.partition())
            return not pending

        wait_until(drained, timeout, f"reading {topic} to its end", interval=0)
        return records
    finally:
        consumer.close()


def read_to_end(bootstrap: str, topic: str, want: Callable[[Record], bool] = lambda r: True,
                timeout: float = 60) -> list[Record]:
    """Every record of `topic` that `want` keeps, from the session's start to the end of now."""
    return [r for r in read_topic(bootstrap, topic, SESSION_STARTED_MS, timeout=timeout) if want(r)]


def committed_offset(bootstrap: str, group: str, topic: str, partition: int) -> int:
    """The group's committed offset (read without joining the group)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    try:
        [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=10)
        return tp.offset
    finally:
        consumer.close()


# --------------------------------------------------------------------------- HTTP API


def new_order(token: str = "tok_visa", **overrides: Any) -> dict[str, Any]:
    """An order body as in SPEC §2, with a customer email unique to this order so the
    emails it causes can be told apart from every other test's."""
    tag = uuid.uuid4().hex[:12]
    body: dict[str, Any] = {
        "customerId": f"c-e2e-{tag}",
        "customerEmail": f"buyer-{tag}@example.com",
        "currency": "EUR",
        "items": [{"sku": "BOOK-1", "quantity": 2, "unitPrice": "12.50"}],
        "paymentToken": token,
    }
    body.update(overrides)
    return body


def status_history(order: dict[str, Any]) -> list[str]:
    """The statuses in an order's history, oldest first (entries may be objects with a
    `status` field or plain strings)."""
    history = order.get("statusHistory", order.get("history"))
    assert isinstance(history, list), f"order has no status history list: {order}"
    return [h["status"] if isinstance(h, dict) else h for h in history]


def charges(gateway_url: str, order_id: str) -> list[dict[str, Any]]:
    """The gateway ledger for one order: a bare list or a Stripe-like {"data": [...]}."""
    r = requests.get(f"{gateway_url}/v1/charges", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"GET /v1/charges -> {r.status_code} {r.text}"
    body = r.json()
    if isinstance(body, dict):
        body = body.get("data", body.get("charges"))
    assert isinstance(body, list), f"unexpected ledger shape: {r.text}"
    return body


def gateway_attempts(gateway_url: str, order_id: str) -> list[dict[str, Any]]:
    """Every charge call the gateway processed for one order (GET /v1/attempts)."""
    r = requests.get(f"{gateway_url}/v1/attempts", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["data"] if isinstance(body, dict) else body


def assert_problem(resp: requests.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem response with this status; returns its body."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:500]}"
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", \
        f"Content-Type is {ctype!r}, body {resp.text[:300]}"
    body = resp.json()
    assert isinstance(body.get("type"), str) and body["type"], body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert body.get("status") == status, body
    return body
