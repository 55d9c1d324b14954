"""No card data anywhere (SPEC §2: raw card numbers are rejected, never stored or logged).
Runs last, after every other test has pushed its orders, retries, DLQ records, replays and
crashes through the stack: scans the services' logs, their databases (the raw SQLite files,
WAL included), the mail they wrote and the SMTP server received, and every record (value,
key and headers) of every orderflow topic, DLQs included, for Luhn-valid 13–19 digit
numbers with a card-network first digit — and finds none. Before that, it tries to get one
in: an order carrying a card number in each text field is refused."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

from support import HTTP_TIMEOUT, SESSION_STARTED_MS, new_order, read_topic

# A digit run (optionally in groups of 4 split by one space or dash) not glued to letters
# or digits: a hex trace id or a UUID does not yield false candidates.
_CANDIDATE = re.compile(rb"(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7})(?![0-9A-Za-z])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# W3C traceparent values: their ids are random hex, and a 16-hex span id is now and then all
# decimal digits (and Luhn-valid) — generated ids, not card data.
_TRACEPARENT = re.compile(rb"\b00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b")


def card_numbers(data: bytes) -> list[str]:
    """Luhn-valid 13–19 digit numbers whose first digit is a card network's (2–6: Mastercard,
    Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay). Epoch timestamps in ms, µs or ns
    start with 1 until 2033, so they are not candidates."""
    found = []
    for match in _CANDIDATE.finditer(_TRACEPARENT.sub(b"", data)):
        digits = re.sub(rb"[ -]", b"", match.group()).decode()
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits):
            found.append(digits)
    return found


# A mailer's own Message-Id ("<unix-nanos.random-uint64@host>", Alertmanager's): a random
# 19-digit number that passes the card checks about one time in twenty, and no card data.
_MESSAGE_ID = re.compile(rb"^Message-Id:.*$", re.IGNORECASE | re.MULTILINE)


def mail_card_numbers(raw: bytes) -> list[str]:
    """card_numbers() of an email, its Message-Id header left out."""
    return card_numbers(_MESSAGE_ID.sub(b"", raw))


def test_the_scanner_finds_card_numbers_and_ignores_ids_and_timestamps():
    assert card_numbers(b'{"pan":"4242424242424242"}') == ["4242424242424242"]
    mail = b"Message-Id: <1765080000123456789.3529801130476674693@am>\r\nSubject: x\r\n\r\ncard 4242424242424242\r\n"
    assert card_numbers(mail) == ["3529801130476674693", "4242424242424242"]
    assert mail_card_numbers(mail) == ["4242424242424242"]
    assert card_numbers(b"card 5555 5555 5555 4444 used") == ["5555555555554444"]
    assert card_numbers(b"amex=378282246310005;") == ["378282246310005"]
    assert card_numbers(b"4242424242424241") == []  # fails Luhn
    assert card_numbers(b"ts=1795720922042 us=1795720922042123") == []  # epoch ms / us
    assert card_numbers(b"trace 4bf92f3577b34da6a3ce929d0e0e4736 id 4242424242424242ab") == []
    assert card_numbers(b"00-4242424242424242424242424242424242-00f067aa0ba902b7-01") == []
    assert card_numbers(b"traceparent=00-f9bbfa483c1431dc9b282d9508ac9bb0-4964790784076962-01") == []
    assert card_numbers(b"traceparent=00-f9bbfa483c1431dc9b282d9508ac9bb0-4964790784076962-01 "
                        b"pan=4242424242424242") == ["4242424242424242"]


@pytest.mark.parametrize("field", ["customerId", "customerEmail", "paymentToken", "currency"])
def test_a_card_number_in_any_field_is_refused(stack, field):
    body = new_order()
    body[field] = "4000056655665556" if field != "customerEmail" else "4000056655665556@example.com"
    r = requests.post(f"{stack.order}/place-order", json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code in (400, 422), r.text
    assert "4000056655665556" not in r.text


def _topic_bytes(bootstrap: str) -> tuple[int, dict[str, list[str]]]:
    """Every record of every orderflow topic (not Kafka's internal ones, nor the integration
    tests' it-* topics) produced since the test session began, read to the end; returns the
    record count and what was found."""
    topics = [t for t in AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
              if t in ("order-events", "payment-events") or t.endswith((".dlq", ".retry"))]
    assert "order-events" in topics and "payment-service.dlq" in topics, topics
    found: dict[str, list[str]] = {}
    count = 0
    for topic in topics:
        for r in read_topic(bootstrap, topic, SESSION_STARTED_MS):
            count += 1
            blob = "\n".join([r.key or "", *(f"{k}={v}" for k, v in r.headers.items())]).encode() + b"\n" + (r.value or b"")
            if hits := card_numbers(blob):
                found[f"{topic}/{r.partition}@{r.offset}"] = hits
    return count, found


# Columns holding hashes a service computes, never client text: order-service's request
# fingerprint is 16 hex characters, now and then all decimal digits and Luhn-valid (one CI run
# flagged "5990854395029888"). Skipped like traceparent ids; they are still counted.
_DIGEST_COLUMNS = {("idempotency_keys", "fingerprint")}


def _database_cells(path: Path) -> tuple[int, dict[str, list[str]]]:
    """Every cell of every table of a SQLite database (its WAL included), scanned one by one:
    a file's raw bytes put neighbouring columns side by side (a client's X-Correlation-ID
    "533105232082" next to a "2026-…" timestamp reads as one 16-digit number)."""
    found: dict[str, list[str]] = {}
    cells = 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row):
                    if value is None:
                        continue
                    cells += 1
                    if (table, column) in _DIGEST_COLUMNS:
                        continue
                    data = value if isinstance(value, bytes) else str(value).encode()
                    if hits := card_numbers(data):
                        found.setdefault(f"{path.name}:{table}", []).extend(hits)
    finally:
        db.close()
    return cells, found


def test_no_card_number_in_logs_databases_mail_or_topics(stack, smtp):
    entries = [p for p in stack.run_dir.rglob("*") if p.is_file()]
    databases = [p for p in entries if p.name.endswith(".db")]
    sqlite_files = [p for p in entries if p.name.endswith((".db", ".db-wal", ".db-shm", ".db-journal"))]
    files = [p for p in entries if p not in sqlite_files]
    logs = [p for p in files if "logs" in p.parts]
    assert logs and databases, f"nothing to scan in {stack.run_dir}"
    found = {str(p): card_numbers(p.read_bytes()) for p in files}
    cells = 0
    for db in databases:
        n, hits = _database_cells(db)
        cells += n
        found.update(hits)
    mails = [m.text().encode() for m in smtp.messages]  # raw and decoded parts
    found.update({f"smtp message {i}": mail_card_numbers(m) for i, m in enumerate(mails)})
    records, topic_hits = _topic_bytes(stack.kafka)
    found.update(topic_hits)
    found = {where: hits for where, hits in found.items() if hits}
    print(f"card-data scan: {len(files)} files ({len(logs)} logs, {sum(p.stat().st_size for p in files)} bytes), "
          f"{len(databases)} databases ({cells} cells), {len(mails)} emails, "
          f"{records} topic records: {sum(len(h) for h in found.values())} card numbers")
    assert not found, "card numbers found:\n" + json.dumps(found, indent=1)[:3000]
