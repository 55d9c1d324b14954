"""Crash safety and faults (nothing lost, nothing charged twice): services are killed with
SIGKILL at random moments while orders flow and restarted; the gateway fails 30 % of
charges; poison records sit in front of the orders; one Idempotency-Key is sent 100 times
at once. The invariants are checked from the outside:
  I1 every accepted order (a 202) ends CONFIRMED or FAILED, as its token says;
  I2 at most one successful charge per order in the gateway ledger, and CONFIRMED <=>
     exactly one;
  I3 no event in order-events, payment-events or a DLQ refers to an order that does not
     exist (read from the topics, from the scenario's start; every order id is looked up);
  I4 exactly one customer email per order: one distinct Message-ID (a crash between the
     SMTP hand-off and its record can make notification-service send the same message,
     same Message-ID, once more; mail systems fold such copies — the raw count is printed);
  I5 nothing acknowledged is missing: every accepted order has its OrderCreated and its
     final OrderConfirmed / OrderFailed in order-events, every successful charge in the
     gateway ledger its PaymentSuccess in payment-events.
The gateway scenarios also cover a reset connection after the charge was committed, latency
above payment-service's deadline, and an outage longer than the retry budget followed by a
DLQ replay that confirms every parked order exactly once.
Named to run last: it restarts services of the shared stack."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import json
import subprocess
import uuid
from pathlib import Path

import requests
from confluent_kafka import Producer

from conftest import ADMIN_TOKEN
from support import (HTTP_TIMEOUT, WaitTimeout, charges, committed_offset, find_record, new_order,
                     process_alive, read_topic, status_history, wait_until)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # operator endpoints: DLQ replay, gateway faults

ORDERS = 240
WORKERS = 6
KILLS = 3
SETTLE_S = 180
PACE_S = 0.05  # per worker: about 120 orders/s in all, so the kills land mid-load


def _place_all(stack, tokens: list[str], accepted: dict[str, str], lock: threading.Lock) -> None:
    """Places the orders at a steady pace, recording accepted order id -> token. A refused
    connection (the service is down) or a 5xx is not an acceptance: the client retries
    with the same Idempotency-Key, so an order committed just before a crash is found again
    instead of being placed twice."""

    def place(token: str) -> None:
        body = new_order(token)
        for _ in range(100):
            try:
                r = requests.post(f"{stack.order}/place-order", json=body, timeout=10,
                                  headers={"Idempotency-Key": body["customerEmail"]})
            except requests.RequestException:
                time.sleep(0.1)
                continue
            if r.status_code in (200, 202):
                with lock:
                    accepted[r.json()["orderId"]] = token
                time.sleep(PACE_S)
                return
            time.sleep(0.1)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(place, tokens))


def _killer(stack, service: str, accepted: dict[str, str], done: threading.Event, kills: list[int]) -> None:
    """Kills `service` with SIGKILL when the load is a quarter, half and three quarters
    through (plus a random few milliseconds, to land anywhere in a request's life), and
    restarts it each time."""
    rng = random.Random()
    for fraction in (0.25, 0.5, 0.75)[:KILLS]:
        while len(accepted) < ORDERS * fraction and not done.is_set():
            time.sleep(0.01)
        if done.is_set():
            return
        time.sleep(rng.uniform(0, 0.2))
        pid = stack.pid(service)
        os.kill(pid, signal.SIGKILL)
        kills.append(len(accepted))
        # SIGKILL is asynchronous: on a busy machine the process can still hold its port
        # for a moment, and stack.sh refuses to start a service whose port answers.
        wait_until(lambda: not process_alive(pid), 30, f"{service} (pid {pid}) to be gone")
        stack.restart(service)


def _now_ms() -> int:
    # A second early: record timestamps and this clock are the same machine's, but the
    # window must not miss a record stamped in the same instant.
    return int(time.time() * 1000) - 1000


def _order(stack, order_id: str) -> dict:
    return requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()


DLQ_TOPICS = ("payment-service.dlq", "order-service.dlq", "notification-service.dlq")
FINAL_EVENT = {"CONFIRMED": "OrderConfirmed", "FAILED": "OrderFailed"}


def _order_ref(record) -> str | None:
    """The order an event refers to: the payload's orderId, for a decodable event of the
    known schema version (a poison record on purpose is no event and refers to nothing)."""
    try:
        value = record.json()
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("schemaVersion") != 1:
        return None
    ref = value.get("orderId")
    return ref if isinstance(ref, str) else None


def _check_topics(stack, outcomes: dict[str, tuple[str, int]], since_ms: int, label: str) -> None:
    """I3 and I5, read from the topics (records stamped from `since_ms` on). `outcomes`:
    accepted order id -> (its final status, its successful charges), as looked up already."""
    missing: list[str] = []
    read: dict[str, list] = {}

    def complete():
        read["order-events"] = read_topic(stack.kafka, "order-events", since_ms)
        read["payment-events"] = read_topic(stack.kafka, "payment-events", since_ms)
        read["dlq"] = [r for t in DLQ_TOPICS for r in read_topic(stack.kafka, t, since_ms)]
        types: dict[str, list] = {}
        for r in read["order-events"] + read["payment-events"]:
            ref = _order_ref(r)
            if ref:
                types.setdefault(ref, []).append(r.headers.get("ce_type"))
        missing.clear()
        for order_id, (status, charged) in outcomes.items():
            seen = types.get(order_id, [])
            if "OrderCreated" not in seen or FINAL_EVENT[status] not in seen:
                missing.append(f"{order_id} {status}: {seen}")
            if charged and "PaymentSuccess" not in seen:
                missing.append(f"{order_id}: charged, no PaymentSuccess")
        return not missing

    try:
        wait_until(complete, 60, f"every accepted order's events in the topics ({label})", interval=0.5)
    except WaitTimeout:
        raise AssertionError(f"I5 ({label}): {len(missing)} orders miss events, e.g. {missing[:5]}") from None

    records = read["order-events"] + read["payment-events"] + read["dlq"]
    events = [(r, _order_ref(r)) for r in records]
    refs = {ref for _, ref in events if ref}
    wrong_key = [(r.topic, r.key, ref) for r, ref in events if ref and r.key != ref]
    assert not wrong_key, f"events keyed by something else than their order id: {wrong_key[:5]}"
    for order_id in sorted(refs - set(outcomes)):
        r = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"I3 ({label}): an event refers to order {order_id}: {r.status_code}"
    not_events = sum(1 for _, ref in events if not ref)
    charged = sum(c for _, c in outcomes.values())
    print(f"[{label}] I3 events={len(records) - not_events} orders-referred={len(refs)} all exist "
          f"(poison, not events: {not_events}); I5 order-events={len(read['order-events'])} "
          f"payment-events={len(read['payment-events'])} dlq={len(read['dlq'])}, every order created+final, "
          f"charges with PaymentSuccess={charged}")


def _check_invariants(stack, smtp, accepted: dict[str, str], label: str, unavailable_ok: bool = False,
                      since_ms: int | None = None) -> None:
    """I1, I2 and I4 for the accepted orders (order id -> token); with `since_ms`, I3 and I5
    from the topics as well. `unavailable_ok`: an injected gateway fault may have outlasted
    the retry budget, so an order may have failed with payment-gateway-unavailable."""
    def order(order_id):
        return _order(stack, order_id)

    def all_final():
        pending = [i for i in accepted if order(i)["status"] not in ("CONFIRMED", "FAILED")]
        return not pending or None

    wait_until(all_final, SETTLE_S, f"{len(accepted)} accepted orders to be final ({label})")
    confirmed = failed = charged = 0
    outcomes: dict[str, tuple[str, int]] = {}
    emails_of: dict[str, str] = {}
    for order_id, token in accepted.items():
        o = order(order_id)
        emails_of[order_id] = o["customerEmail"]
        ok = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
        assert len(ok) <= 1, f"I2: order {order_id} charged {len(ok)} times"
        if unavailable_ok and o["status"] == "FAILED" and o.get("failureReason") == "payment-gateway-unavailable":
            # every try of every round met an injected fault: failed, and never charged
            assert not ok, o
            failed += 1
        elif token == "tok_visa":
            assert o["status"] == "CONFIRMED", o
            assert len(ok) == 1, f"I2: CONFIRMED order {order_id} has {len(ok)} charges"
            confirmed += 1
        else:
            assert o["status"] == "FAILED" and o.get("failureReason") == "card_declined", o
            assert not ok
            failed += 1
        charged += len(ok)
        outcomes[order_id] = (o["status"], len(ok))

    def emails_complete():
        return all(len(smtp.to(address)) >= 1 for address in emails_of.values()) or None

    wait_until(emails_complete, 60, f"one email per order ({label})")
    emails = copies = 0
    for order_id, address in emails_of.items():
        got = smtp.to(address)
        ids = {str(m.message.get("Message-ID", "")) for m in got}
        assert len(ids) == 1 and "" not in ids, f"I4: {len(ids)} distinct emails for order {order_id}"
        emails += 1
        copies += len(got) - 1
    print(f"\n[{label}] accepted={len(accepted)} confirmed={confirmed} failed={failed} "
          f"charges={charged} emails={emails} resent-copies={copies}")
    if since_ms is not None:
        _check_topics(stack, outcomes, since_ms, label)


def _scenario(stack, smtp, service: str) -> None:
    started = _now_ms()
    tokens = [random.choice(["tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined"]) for _ in range(ORDERS)]
    accepted: dict[str, str] = {}
    lock = threading.Lock()
    done = threading.Event()
    kills: list[int] = []
    killer = threading.Thread(target=_killer, args=(stack, service, accepted, done, kills), daemon=True)
    killer.start()
    _place_all(stack, tokens, accepted, lock)
    done.set()
    killer.join(timeout=120)
    assert len(kills) == KILLS, f"{service} was killed {len(kills)} times, not {KILLS}"
    assert len(accepted) == ORDERS, f"only {len(accepted)} of {ORDERS} orders accepted"
    print(f"\n[kill -9 {service}] killed after {kills} accepted orders")
    _check_invariants(stack, smtp, accepted, f"kill -9 {service}", since_ms=started)


def test_kill_payment_service_during_load(stack, smtp):
    _scenario(stack, smtp, "payment-service")


def test_kill_order_service_during_load(stack, smtp):
    _scenario(stack, smtp, "order-service")


def test_kill_notification_service_during_load(stack, smtp):
    _scenario(stack, smtp, "notification-service")


def _place_paced(stack, count: int, tokens=("tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined")):
    accepted: dict[str, str] = {}
    _place_all(stack, [random.choice(tokens) for _ in range(count)], accepted, threading.Lock())
    assert len(accepted) == count, f"only {len(accepted)} of {count} orders accepted"
    return accepted


def test_gateway_failing_30_percent_charges_each_order_at_most_once(stack, smtp):
    started = _now_ms()
    r = requests.post(f"{stack.gateway}/admin/faults", headers=ADMIN, json={"errorRate": 0.3}, timeout=10)
    assert r.status_code == 200, r.text
    try:
        accepted = _place_paced(stack, 200)
        _check_invariants(stack, smtp, accepted, "gateway 30 % 5xx", unavailable_ok=True, since_ms=started)
    finally:
        requests.delete(f"{stack.gateway}/admin/faults", headers=ADMIN, timeout=10)


def _metric(url: str, name: str, label: str = "") -> float:
    """The sum of the samples of `name` at url/metrics whose labels contain `label`."""
    text = requests.get(f"{url}/metrics", timeout=HTTP_TIMEOUT).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " ") and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_gateway_resetting_the_connection_after_committing_never_charges_twice(stack, smtp):
    """30 % of charge calls are processed (the ledger has the charge) and then answered with
    a connection reset: payment-service must ask the gateway instead of charging again."""
    started = _now_ms()
    payment = stack.urls["payment-service"]
    resets_before = _metric(stack.gateway, "gateway_faults_injected_total", 'kind="reset"')
    lost_before = _metric(payment, "payment_gateway_request_seconds_count", 'result="io"')
    r = requests.post(f"{stack.gateway}/admin/faults", headers=ADMIN, json={"resetAfterCommitRate": 0.3}, timeout=10)
    assert r.status_code == 200, r.text
    try:
        accepted = _place_paced(stack, 200)
        # A decline whose every answer was lost can end as payment-gateway-unavailable.
        _check_invariants(stack, smtp, accepted, "gateway reset after commit", unavailable_ok=True,
                          since_ms=started)
    finally:
        requests.delete(f"{stack.gateway}/admin/faults", headers=ADMIN, timeout=10)
    resets = _metric(stack.gateway, "gateway_faults_injected_total", 'kind="reset"') - resets_before
    lost = _metric(payment, "payment_gateway_request_seconds_count", 'result="io"') - lost_before
    assert resets > 0, "no connection was reset: the fault was not injected"
    print(f"[gateway reset after commit] resets-injected={resets:.0f} "
          f"answers-lost-at-payment-service={lost:.0f} (the rest were re-sent on a fresh connection)")


LATE_ORDERS = 8


def test_gateway_answering_after_the_client_deadline_is_reconciled_not_charged_twice(stack, smtp):
    """Every charge call takes longer than payment-service waits (gateway-timeout-ms, 2 s in
    the test stack): the gateway charges after the client gave up. The lookup by order id
    finds the charge; a second POST with the same key is answered from the ledger."""
    started = _now_ms()
    payment = stack.urls["payment-service"]
    def lost_answers():  # charge calls payment-service gave up on (deadline; reported as a timeout or an I/O error)
        return sum(_metric(payment, "payment_gateway_request_seconds_count", f'result="{r}"') for r in ("timeout", "io"))

    lost_before = lost_answers()
    delayed_before = _metric(stack.gateway, "gateway_faults_injected_total", 'kind="latency"')
    r = requests.post(f"{stack.gateway}/admin/faults", headers=ADMIN, json={"latencyMs": 2500}, timeout=10)
    assert r.status_code == 200, r.text
    try:
        accepted = _place_paced(stack, LATE_ORDERS, tokens=("tok_visa",))
        _check_invariants(stack, smtp, accepted, "gateway latency above the client deadline", since_ms=started)
    finally:
        requests.delete(f"{stack.gateway}/admin/faults", headers=ADMIN, timeout=10)
    lost = lost_answers() - lost_before
    delayed = _metric(stack.gateway, "gateway_faults_injected_total", 'kind="latency"') - delayed_before
    # The gateway delays every call past the deadline: each order's first call is given up,
    # and its success comes from the lookup by order id (or a replayed answer) afterwards.
    assert delayed >= LATE_ORDERS, f"only {delayed} charge calls were delayed"
    assert lost >= LATE_ORDERS, f"only {lost} charge calls outlasted payment-service's deadline"
    print(f"[gateway latency above the client deadline] calls-delayed={delayed:.0f} calls-given-up={lost:.0f}")


OUTAGE_ORDERS = 30
DLQ = "payment-service.dlq"


def _replay(stack, body: dict) -> dict:
    r = requests.post(f"{stack.alerting}/api/v1/dlq/{DLQ}/replay", json=body, headers=ADMIN, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _notifications(stack, order_id: str) -> list[str]:
    r = requests.get(f"{stack.notification}/api/v1/notifications", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return sorted(n["outcome"] for n in r.json())


def _wait_consumed(stack, group: str, topic: str, records) -> None:
    """Until `group` has committed past every one of `records` (all of `topic`)."""
    last: dict[int, int] = {}
    for rec in records:
        last[rec.partition] = max(last.get(rec.partition, -1), rec.offset)
    wait_until(lambda: all(committed_offset(stack.kafka, group, topic, p) > o for p, o in last.items()),
               60, f"{group} to consume {len(records)} records of {topic}", interval=0.5)


def test_gateway_outage_longer_than_the_retry_budget_then_dlq_replay_confirms_each_order_once(stack, smtp):
    """The gateway is down for longer than the retry budget: every order fails with
    payment-gateway-unavailable, its OrderCreated is parked in payment-service.dlq and an
    alert is raised. The outage ends, an operator replays the DLQ records, and every order
    is charged once and CONFIRMED; its customer gets the failure email, then one
    confirmation. Replaying the same records again (forced) changes nothing."""
    started = _now_ms()
    r = requests.post(f"{stack.gateway}/admin/faults", headers=ADMIN, json={"outage": True}, timeout=10)
    assert r.status_code == 200, r.text
    try:
        accepted = _place_paced(stack, OUTAGE_ORDERS, tokens=("tok_visa",))

        def all_failed():
            return all(_order(stack, i)["status"] == "FAILED" for i in accepted) or None

        wait_until(all_failed, SETTLE_S, f"{OUTAGE_ORDERS} orders to fail during the outage")
    finally:
        requests.delete(f"{stack.gateway}/admin/faults", headers=ADMIN, timeout=10)
    for order_id in accepted:
        o = _order(stack, order_id)
        assert o["failureReason"] == "payment-gateway-unavailable", o
        assert not charges(stack.gateway, order_id)

    def parked():
        recs = [x for x in read_topic(stack.kafka, DLQ, started) if x.key in accepted]
        return recs if {x.key for x in recs} == set(accepted) else None

    parked_records = wait_until(parked, 60, "every failed order's record in the DLQ")
    assert len(parked_records) == OUTAGE_ORDERS, [(x.key, x.offset) for x in parked_records]
    assert {x.headers["dlq-reason"] for x in parked_records} == {"gateway-unavailable"}

    def alerted(order_id):
        r = requests.get(f"{stack.alerting}/api/v1/alerts", params={"orderId": order_id}, timeout=HTTP_TIMEOUT)
        return r.status_code == 200 and any(a.get("topic") == DLQ for a in r.json())

    wait_until(lambda: all(alerted(i) for i in accepted) or None, 60, "an alert for every parked order")
    wait_until(lambda: all(_notifications(stack, i) == ["FAILED"] for i in accepted) or None, 60,
               "the failure email of every order")

    # The outage is over: the operator replays the parked records.
    positions = [{"partition": x.partition, "offset": x.offset} for x in parked_records]
    done = _replay(stack, {"offsets": positions})
    assert done["count"] == OUTAGE_ORDERS, done

    def all_confirmed():
        return all(_order(stack, i)["status"] == "CONFIRMED" for i in accepted) or None

    wait_until(all_confirmed, SETTLE_S, f"{OUTAGE_ORDERS} replayed orders to be confirmed")
    outcomes: dict[str, tuple[str, int]] = {}
    for order_id in accepted:
        o = _order(stack, order_id)
        assert status_history(o) == ["PENDING", "FAILED", "CONFIRMED"], o
        assert o.get("recoveredAt"), o
        ok = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
        assert len(ok) == 1, f"I2: order {order_id} has {len(ok)} charges after the replay"
        outcomes[order_id] = (o["status"], len(ok))
    wait_until(lambda: all(_notifications(stack, i) == ["CONFIRMED", "FAILED"] for i in accepted) or None,
               60, "the confirmation email of every recovered order")

    def message_ids(order_id):
        return {str(m.message.get("Message-ID", "")) for m in smtp.to(_order(stack, order_id)["customerEmail"])}

    for order_id in accepted:
        ids = message_ids(order_id)
        assert len(ids) == 2 and any(".confirmed@" in i for i in ids), f"I4: {order_id}: {ids}"

    # The same records once more: the audit says they were replayed; forced, payment-service
    # sees the same (ce_id, dlq-replayed-from) on confirmed orders and does nothing.
    again = _replay(stack, {"offsets": positions})
    assert again["count"] == 0 and len(again["alreadyReplayed"]) == OUTAGE_ORDERS, again
    def replayed_copies():
        return {(x.partition, x.offset): x for x in read_topic(stack.kafka, "order-events", started)
                if x.key in accepted and x.headers.get("dlq-replayed-from")}

    first_copies = replayed_copies()
    forced = _replay(stack, {"offsets": positions, "force": True})
    assert forced["count"] == OUTAGE_ORDERS, forced
    copies = [x for at, x in replayed_copies().items() if at not in first_copies]
    assert len(first_copies) == len(copies) == OUTAGE_ORDERS, (len(first_copies), len(copies))
    _wait_consumed(stack, "payment-service", "order-events", copies)
    # Distinct events (a re-sent record keeps its ce_id): one success per order, no new one.
    success_events = {x.headers.get("ce_id") for x in read_topic(stack.kafka, "payment-events", started)
                      if x.key in accepted and x.headers.get("ce_type") == "PaymentSuccess"}
    assert len(success_events) == OUTAGE_ORDERS, f"{len(success_events)} PaymentSuccess for {OUTAGE_ORDERS} orders"
    charged = 0
    for order_id in accepted:
        assert _order(stack, order_id)["status"] == "CONFIRMED"
        charged += len([c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"])
        assert _notifications(stack, order_id) == ["CONFIRMED", "FAILED"]
        assert len(message_ids(order_id)) == 2
    assert charged == OUTAGE_ORDERS
    print(f"\n[gateway outage + DLQ replay] orders={OUTAGE_ORDERS} failed={OUTAGE_ORDERS} "
          f"dlq={len(parked_records)} alerted={OUTAGE_ORDERS} replayed={done['count']} "
          f"confirmed={OUTAGE_ORDERS} charges={charged} emails=failed:{OUTAGE_ORDERS}+confirmed:{OUTAGE_ORDERS}; "
          f"second replay: skipped={len(again['alreadyReplayed'])}, forced={forced['count']} "
          f"-> charges={charged} PaymentSuccess={len(success_events)} emails={2 * OUTAGE_ORDERS}")
    _check_topics(stack, outcomes, started, "gateway outage + DLQ replay")


def test_poison_and_unknown_schema_version_do_not_stop_the_partitions(stack, smtp):
    """A record that is not JSON and one with schemaVersion 2 on every partition of
    order-events, then 1,000 good orders behind them."""
    started = _now_ms()
    producer = Producer({"bootstrap.servers": stack.kafka})
    partitions = len(producer.list_topics("order-events", timeout=10).topics["order-events"].partitions)
    poison: dict[str, str] = {}
    for p in range(partitions):
        for reason, value in (("malformed-event", b"{not json"),
                              ("unsupported-schema-version",
                               json.dumps({"schemaVersion": 2, "orderId": "x"}).encode())):
            key = f"poison-{uuid.uuid4()}"
            poison[key] = reason
            producer.produce("order-events", key=key, value=value, partition=p, headers={
                "ce_specversion": "1.0", "ce_id": str(uuid.uuid4()), "ce_type": "OrderCreated",
                "ce_source": "e2e", "content-type": "application/json"})
    assert producer.flush(10) == 0
    accepted = _place_paced(stack, 1000)
    _check_invariants(stack, smtp, accepted, "poison in front of 1,000 orders", since_ms=started)
    for key, reason in poison.items():
        rec = find_record(stack.kafka, "payment-service.dlq", key, timeout=30)
        assert rec.headers["dlq-reason"] == reason, rec.headers
        assert rec.headers["dlq-attempts"] == "1"
    print(f"[poison] dead-lettered={len(poison)} (payment-service.dlq)")


def test_one_idempotency_key_sent_100_times_at_once_creates_one_order(stack):
    body, key = new_order("tok_visa"), f"e2e-burst-{uuid.uuid4()}"

    def place(_):
        return requests.post(f"{stack.order}/place-order", json=body, headers={"Idempotency-Key": key}, timeout=30)

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(place, range(100)))
    codes = [r.status_code for r in responses]
    assert codes.count(202) == 1 and codes.count(200) == 99, codes
    assert len({r.json()["orderId"] for r in responses}) == 1
    order_id = responses[0].json()["orderId"]
    wait_until(lambda: requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=10).json()["status"]
               == "CONFIRMED" or None, 60, "the order to be confirmed")
    listed = requests.get(f"{stack.order}/api/v1/orders", params={"customerId": body["customerId"]}, timeout=10).json()
    assert len(listed["items"]) == 1, listed
    assert len([c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]) == 1
    print(f"\n[idempotency burst] requests=100 created=1 replays={codes.count(200)}")


def test_kafka_broker_restart_mid_load_loses_nothing(stack, smtp):
    """The broker is stopped and started again while orders are placed: order-service keeps
    accepting (the outbox holds the events), every client reconnects, nothing is lost or
    charged twice."""
    started = _now_ms()
    kafka_sh = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"
    accepted: dict[str, str] = {}
    restarted = threading.Event()

    def restart_broker():
        while len(accepted) < 60:
            time.sleep(0.01)
        subprocess.run([str(kafka_sh), "stop"], check=True, capture_output=True)
        subprocess.run([str(kafka_sh), "start"], check=True, capture_output=True)
        restarted.set()

    restarter = threading.Thread(target=restart_broker, daemon=True)
    restarter.start()
    tokens = [random.choice(["tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined"]) for _ in range(200)]
    _place_all(stack, tokens, accepted, threading.Lock())
    restarter.join(timeout=180)
    assert restarted.is_set(), "the broker was not restarted"
    assert len(accepted) == len(tokens)
    _check_invariants(stack, smtp, accepted, "Kafka broker restart", since_ms=started)
