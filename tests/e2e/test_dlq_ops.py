"""DLQ operations on alerting-service (SPEC §7): browsing a DLQ topic, dry-run and real
replays to the original topic with `dlq-replayed-from`, the replay audit, the admin token,
and 404s for unknown topics and positions.

The record replayed is the tok_processingError order's, placed at session start by the
`gateway_error_order` fixture. It failed with payment-gateway-unavailable, so
payment-service takes the replayed OrderCreated as a new attempt (SPEC §5): the gateway is
asked again, the token fails again, and the order stays FAILED with no charge. The full
recovery (outage, replay, every order CONFIRMED once) is in test_zz_faults.py."""

from __future__ import annotations

import requests

from conftest import ADMIN_TOKEN, ADMIN_TOKEN_NAME
from support import (HTTP_TIMEOUT, Record, assert_problem, charges, committed_offset,
                     gateway_attempts, read_topic, wait_until, SESSION_STARTED_MS)

DLQ = "payment-service.dlq"
# Gateway errors are retried for about a minute before the record reaches the DLQ.
DLQ_SETTLE_S = 120
FOLLOW_S = 30
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def messages_url(stack, topic: str = DLQ) -> str:
    return f"{stack.alerting}/api/v1/dlq/{topic}/messages"


def replay_url(stack, topic: str = DLQ) -> str:
    return f"{stack.alerting}/api/v1/dlq/{topic}/replay"


def replays_url(stack) -> str:
    return f"{stack.alerting}/api/v1/dlq/replays"


def browse(stack, topic: str = DLQ, **params) -> requests.Response:
    return requests.get(messages_url(stack, topic), params=params, headers=AUTH,
                        timeout=HTTP_TIMEOUT)


def replay(stack, body, topic: str = DLQ) -> requests.Response:
    return requests.post(replay_url(stack, topic), json=body, headers=AUTH, timeout=60)


def audit(stack) -> list[dict]:
    r = requests.get(replays_url(stack), params={"topic": DLQ}, headers=AUTH,
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def dlq_partitions(stack) -> list[dict]:
    """The DLQ topic's partitions with their watermarks, once the topic exists."""
    def listed():
        r = browse(stack, limit=1)
        return r.status_code == 200 and r.json()["partitions"]
    return wait_until(listed, FOLLOW_S, f"{DLQ} to exist")


def records_with_key(bootstrap: str, topic: str, key: str) -> list[Record]:
    """Every record of `topic` with this key, up to each partition's high watermark of now."""
    return [r for r in read_topic(bootstrap, topic, SESSION_STARTED_MS) if r.key == key]


# --------------------------------------------------------------------------- admin token


def test_dlq_operations_need_the_admin_token(stack):
    for method, url in (("GET", messages_url(stack)), ("POST", replay_url(stack)),
                        ("GET", replays_url(stack))):
        for headers in ({}, {"Authorization": "Bearer wrong-token"},
                        {"Authorization": f"Basic {ADMIN_TOKEN}"}):
            r = requests.request(method, url, headers=headers, json={"all": True, "dryRun": True},
                                 timeout=HTTP_TIMEOUT)
            assert_problem(r, 401)
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    # GET /api/v1/dlq (topics and depths) stays open, as before.
    assert requests.get(f"{stack.alerting}/api/v1/dlq", timeout=HTTP_TIMEOUT).status_code == 200


# --------------------------------------------------------------------------- bad input


def test_unknown_topics_and_positions_are_404(stack):
    parts = dlq_partitions(stack)
    for topic in ("no-such-service.dlq", "order-events"):  # the latter exists but is no DLQ
        assert_problem(browse(stack, topic), 404)
        assert_problem(replay(stack, {"all": True, "dryRun": True}, topic), 404)

    p0 = parts[0]
    beyond = p0["high"] + 1000
    body = assert_problem(browse(stack, partition=p0["partition"], offset=beyond), 404)
    assert str(beyond) in body["detail"], body
    body = assert_problem(replay(stack, {"offsets": [{"partition": p0["partition"],
                                                      "offset": beyond}]}), 404)
    assert str(beyond) in body["detail"], body
    missing_partition = len(parts) + 100
    body = assert_problem(browse(stack, partition=missing_partition), 404)
    assert f"partition {missing_partition}" in body["detail"], body
    body = assert_problem(replay(stack, {"offsets": [{"partition": missing_partition,
                                                      "offset": 0}]}), 404)
    assert f"partition {missing_partition}" in body["detail"], body

    for params in ({"limit": 0}, {"limit": 501}, {"limit": "x"}, {"offset": -1}):
        assert_problem(browse(stack, **params), 400)
    r = requests.post(replay_url(stack), data="{not json", headers={
        **AUTH, "Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
    assert_problem(r, 400)
    body = assert_problem(replay(stack, {"offsets": [{"partition": -1}], "dryrun": True}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"offsets[0].partition", "offsets[0].offset", "dryrun"} <= fields, body


# --------------------------------------------------------------------------- browse + replay


def test_browse_dry_run_and_replay_of_a_dead_lettered_order(stack, gateway_error_order):
    assert gateway_error_order.error is None, gateway_error_order.error
    assert gateway_error_order.response.status_code == 202, gateway_error_order.response.text
    order_id = gateway_error_order.response.json()["orderId"]

    # Where its record sits in the DLQ: the alert says so.
    def alert_for_order():
        r = requests.get(f"{stack.alerting}/api/v1/alerts", params={"orderId": order_id},
                         timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text
        return [a for a in r.json() if a["topic"] == DLQ]
    alert = wait_until(alert_for_order, DLQ_SETTLE_S, f"an alert for order {order_id}")[0]
    position = {"partition": alert["partition"], "offset": alert["offset"]}

    # Browse: the record with its key, JSON value and every header.
    r = browse(stack, partition=position["partition"], offset=position["offset"], limit=1)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["topic"] == DLQ and page["complete"] is True, page
    [rec] = page["records"]
    assert (rec["partition"], rec["offset"]) == (position["partition"], position["offset"])
    assert rec["key"] == order_id, rec
    assert rec["valueFormat"] == "json" and rec["value"]["orderId"] == order_id, rec
    assert rec["timestamp"], rec
    headers = {h["key"]: h["value"] for h in rec["headers"]}
    assert headers.get("dlq-reason") == "gateway-unavailable", headers
    for name in ("dlq-original-topic", "dlq-original-partition", "dlq-original-offset",
                 "dlq-consumer-group", "dlq-error-message", "dlq-attempts",
                 "dlq-first-failure-time", "dlq-last-failure-time", "ce_id", "ce_type",
                 "ce_correlationid", "traceparent"):
        assert headers.get(name), (name, headers)
    original_topic = headers["dlq-original-topic"]
    # The whole-topic listing (default limit 20) has the same shape.
    listing = browse(stack).json()
    assert 1 <= len(listing["records"]) <= 20, listing
    assert {p["partition"] for p in listing["partitions"]} >= {position["partition"]}

    charges_before = charges(stack.gateway, order_id)
    attempts_before = gateway_attempts(stack.gateway, order_id)
    assert not [c for c in charges_before if c.get("status") == "succeeded"], charges_before

    # A dry run says what it would do and publishes nothing.
    r = replay(stack, {"offsets": [position], "dryRun": True})
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["dryRun"] is True and dry["count"] == 1, dry
    assert dry["replayed"] == [{**position, "originalTopic": original_topic, "key": order_id,
                                "ceId": headers["ce_id"]}], dry
    assert dry["alreadyReplayed"] == [] and dry["remaining"] == 0, dry
    assert not [x for x in records_with_key(stack.kafka, original_topic, order_id)
                if "dlq-replayed-from" in x.headers]

    # The real replay: re-published to the original topic, acknowledged, audited.
    r = replay(stack, {"offsets": [position]})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["dryRun"] is False and done["count"] == 1, done
    assert done["replayed"][0]["originalTopic"] == original_topic, done
    replayed_from = f"{DLQ}:{position['partition']}:{position['offset']}"
    copies = [x for x in records_with_key(stack.kafka, original_topic, order_id)
              if x.headers.get("dlq-replayed-from") == replayed_from]
    assert len(copies) == 1, copies
    copy = copies[0]
    for name in ("ce_id", "ce_correlationid", "traceparent", "ce_type"):
        assert copy.headers.get(name) == headers[name], (name, copy.headers, headers)
    assert not [h for h in copy.headers if h.startswith("dlq-") and h != "dlq-replayed-from"], \
        copy.headers
    assert copy.json()["orderId"] == order_id

    entries = {a["id"]: a for a in audit(stack)}
    assert entries[done["replayId"]]["dryRun"] is False, entries
    assert entries[done["replayId"]]["count"] == 1
    assert entries[done["replayId"]]["offsets"] == [position]
    assert entries[done["replayId"]]["who"] == ADMIN_TOKEN_NAME
    assert entries[done["replayId"]]["time"]
    assert entries[dry["replayId"]]["dryRun"] is True, entries
    assert dry["replayId"] < done["replayId"]

    # A second replay of the same record is reported and skipped.
    r = replay(stack, {"offsets": [position]})
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["count"] == 0 and again["alreadyReplayed"] == [position], again
    assert len([x for x in records_with_key(stack.kafka, original_topic, order_id)
                if x.headers.get("dlq-replayed-from") == replayed_from]) == 1

    # payment-service reads the copy as a new attempt (the order failed with the gateway
    # unreachable): the gateway is called again, the token fails again, nothing is charged.
    group = "payment-service"  # its consumer group on order-events (the stack's default)
    wait_until(lambda: committed_offset(stack.kafka, group, original_topic, copy.partition)
               > copy.offset, FOLLOW_S, f"{group} to consume the replayed record")
    wait_until(lambda: len(gateway_attempts(stack.gateway, order_id)) > len(attempts_before), FOLLOW_S,
               "a new gateway attempt for the replayed order")
    charges_after = charges(stack.gateway, order_id)
    assert not [c for c in charges_after if c.get("status") == "succeeded"], charges_after
    assert len(charges_after) == len(charges_before), (charges_before, charges_after)
    order = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()
    assert order["status"] == "FAILED", order
