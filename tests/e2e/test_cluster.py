"""A 3-broker KRaft cluster (replication factor 3, min.insync.replicas 2, acks=all) loses
nothing when its brokers die: under steady load, the broker leading the most partitions of
`order-events` is killed with SIGKILL, the system keeps confirming orders without it, the
broker comes back and catches up, and then the next leader is killed — three times. After
the load every accepted order is CONFIRMED, charged exactly once, and its OrderCreated and
OrderConfirmed are in `order-events` (nothing acknowledged is missing).

Runs with `make test-cluster` (scripts/test-cluster.sh starts the cluster and sets
ORDERFLOW_KAFKA_NODES, ORDERFLOW_KAFKA_PORT and ORDERFLOW_KAFKA_DIR); deselected otherwise."""

from __future__ import annotations

import collections
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

from support import charges, new_order, read_to_end, wait_until

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "scripts" / "kafka.sh"
KILLS = 3
PACE_S = 0.2  # a few orders/s from each of the 2 placing threads
SETTLE_S = 240


def _kafka(*args: str) -> str:
    result = subprocess.run([str(KAFKA), *args], capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, f"kafka.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _leaders_and_isr(bootstrap: str, topic: str) -> tuple[collections.Counter, dict[int, list[int]]]:
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    parts = meta.topics[topic].partitions
    return (collections.Counter(p.leader for p in parts.values()),
            {pid: sorted(p.isrs) for pid, p in parts.items()})


def _placer(stack, accepted: dict[str, float], lock: threading.Lock, stop: threading.Event) -> None:
    """Places tok_visa orders at a steady pace until stopped; an order counts as accepted
    only on a 202 (a failed call is retried with the same Idempotency-Key)."""
    while not stop.is_set():
        body = new_order("tok_visa")
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = requests.post(f"{stack.order}/place-order", json=body, timeout=10,
                                  headers={"Idempotency-Key": key})
                if r.status_code in (200, 202):
                    with lock:
                        accepted[r.json()["orderId"]] = time.monotonic()
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        time.sleep(PACE_S)


def _confirmed(stack, order_id: str) -> bool:
    r = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=10)
    return r.status_code == 200 and r.json().get("status") == "CONFIRMED"


def _events_by_order(bootstrap: str, topic: str, wanted: set[str]) -> dict[str, list[str]]:
    """ce_type of every record of `topic` whose key is one of `wanted`, read from the start
    of every partition up to its end now."""
    seen: dict[str, list[str]] = collections.defaultdict(list)
    for r in read_to_end(bootstrap, topic, lambda r: r.key in wanted, timeout=120):
        seen[r.key].append(r.headers.get("ce_type", ""))
    return seen


def test_killing_the_partition_leader_broker_loses_nothing_and_charges_nothing_twice(stack):
    nodes = int(os.environ.get("ORDERFLOW_KAFKA_NODES", "1"))
    assert nodes >= 3, "run with `make test-cluster` (a 3-broker cluster)"
    accepted: dict[str, float] = {}
    lock = threading.Lock()
    stop = threading.Event()
    placers = [threading.Thread(target=_placer, args=(stack, accepted, lock, stop), daemon=True)
               for _ in range(2)]
    for t in placers:
        t.start()
    recoveries = []
    leaders_moved = []
    try:
        wait_until(lambda: len(accepted) >= 20, 60, "the first orders are accepted")
        for kill in range(KILLS):
            leaders, _ = _leaders_and_isr(stack.kafka, "order-events")
            victim = leaders.most_common(1)[0][0]
            _kafka("kill", str(victim))
            killed_at = time.monotonic()
            # Broker side first: when the controller has moved every partition the victim led.
            wait_until(lambda: victim not in _leaders_and_isr(stack.kafka, "order-events")[0], 120,
                       f"new leaders for the partitions broker {victim} led")
            leaders_moved.append(round(time.monotonic() - killed_at, 1))
            # The system keeps working without the broker: orders placed after the kill
            # are confirmed.
            def confirmed_after_kill():
                with lock:
                    later = [o for o, t in accepted.items() if t > killed_at + 1]
                return len(later) >= 5 and all(_confirmed(stack, o) for o in later[:5])
            wait_until(confirmed_after_kill, 120, f"orders confirmed after broker {victim} was killed")
            recoveries.append(round(time.monotonic() - killed_at, 1))
            _kafka("start", str(victim))
            # Back in every ISR before the next kill, so each kill finds 3 replicas.
            wait_until(lambda: all(isr == [1, 2, 3] for isr in
                                   _leaders_and_isr(stack.kafka, "order-events")[1].values()),
                       120, f"broker {victim} back in sync")
    finally:
        stop.set()
        for t in placers:
            t.join(timeout=90)

    ids = set(accepted)
    wait_until(lambda: all(_confirmed(stack, o) for o in ids), SETTLE_S, "every accepted order CONFIRMED")
    double = [o for o in ids if len([c for c in charges(stack.gateway, o) if c.get("status") == "succeeded"]) != 1]
    assert not double, f"orders without exactly one charge: {double[:10]}"
    events = _events_by_order(stack.kafka, "order-events", ids)
    missing = [o for o in ids if "OrderCreated" not in events.get(o, []) or "OrderConfirmed" not in events.get(o, [])]
    assert not missing, f"acknowledged orders missing events in order-events: {missing[:10]}"
    print(f"cluster: {nodes} brokers, {KILLS} leader kills (SIGKILL), {len(ids)} orders accepted, "
          f"all CONFIRMED, {len(ids)} single charges, {sum(len(v) for v in events.values())} "
          f"order-events records checked, recovery after each kill (s): {recoveries} "
          f"(new partition leaders after (s): {leaders_moved})")
