"""Scale-out on PostgreSQL: two order-service and two payment-service replicas share one
PostgreSQL database (the stack's, from ORDERFLOW_DATABASE_URL) and one Kafka consumer
group each. Under load through both order replicas:
  every accepted order ends CONFIRMED or FAILED as its token says;
  no order is charged twice (gateway ledger);
  every OrderCreated is published exactly once (no ce_id twice on order-events: only the
  outbox relay's leader publishes), and so is every order's outcome event;
  one Idempotency-Key sent to both replicas at once creates one order;
  when the replica relaying the outbox dies (SIGKILL), the other takes the relay over;
  when one replica of each of order-, payment- and notification-service dies mid-load, the
  consumer groups rebalance and the survivors finish every order (one charge, one email).
Runs only when the stack is on PostgreSQL (scripts/test.sh runs it so)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from support import HTTP_TIMEOUT, charges, free_port, new_order, read_to_end, wait_until

pytestmark = pytest.mark.skipif(
    not os.environ.get("ORDERFLOW_DATABASE_URL", "").startswith(("postgresql://", "postgres://")),
    reason="replicas share a database only on PostgreSQL (set ORDERFLOW_DATABASE_URL; scripts/test.sh does)")

ORDERS = 120
WORKERS = 8
SETTLE_S = 120


class Replica:
    """One more process of a service, next to the one scripts/stack.sh started."""

    def __init__(self, stack, service: str, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(stack.env)
        env.update({"ORDERFLOW_HTTP_PORT": str(self.port),
                    "ORDERFLOW_DATA_DIR": str(stack.run_dir / "data" / name),
                    "ORDERFLOW_GATEWAY_URL": stack.gateway})
        binary = Path(env["ORDERFLOW_BUILD_DIR"]) / "bin" / service
        self.log_path = stack.run_dir / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(binary)], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self) -> None:
        def healthy():
            assert self.proc.poll() is None, f"exited ({self.proc.returncode}); log: {self.log_path}"
            return requests.get(f"{self.url}/actuator/health", timeout=2).status_code == 200
        wait_until(healthy, 60, f"replica at {self.url} to be healthy")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def replicas(stack):
    started = [Replica(stack, "order-service", "order-service-2"),
               Replica(stack, "payment-service", "payment-service-2")]
    try:
        for r in started:
            r.wait_healthy()
        yield started
    finally:
        for r in started:
            r.stop()


def test_two_replicas_of_order_and_payment_share_postgres_without_double_processing(stack, replicas):
    order_urls = [stack.order, replicas[0].url]
    tokens = ["tok_visa" if i % 4 else "tok_chargeDeclined" for i in range(ORDERS)]
    accepted: dict[str, str] = {}
    served = Counter()
    lock = threading.Lock()

    def place(i: int) -> None:
        body = new_order(tokens[i])
        url = order_urls[i % 2]
        r = requests.post(f"{url}/place-order", json=body, timeout=HTTP_TIMEOUT,
                          headers={"Idempotency-Key": f"pg-{uuid.uuid4()}"})
        assert r.status_code == 202, r.text
        with lock:
            accepted[r.json()["orderId"]] = tokens[i]
            served[url] += 1

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(place, range(ORDERS)))
    assert len(accepted) == ORDERS and all(served[u] == ORDERS // 2 for u in order_urls), served

    def order(order_id: str, i: int = 0) -> dict:
        return requests.get(f"{order_urls[i % 2]}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()

    def all_final():
        return not [o for i, o in enumerate(accepted) if order(o, i)["status"] not in ("CONFIRMED", "FAILED")] or None

    wait_until(all_final, SETTLE_S, f"{ORDERS} orders to be final")
    for i, (order_id, token) in enumerate(accepted.items()):
        o = order(order_id, i + 1)  # read through the replica that did not create it
        ok = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
        if token == "tok_visa":
            assert o["status"] == "CONFIRMED", o
            assert len(ok) == 1, f"order {order_id}: {len(ok)} successful charges"
        else:
            assert o["status"] == "FAILED" and o.get("failureReason") == "card_declined", o
            assert not ok, o

    # Exactly once on order-events: the outbox relay runs on one replica at a time.
    records = read_to_end(stack.kafka, "order-events", lambda r: r.key in accepted)
    created = Counter(r.headers.get("ce_id") for r in records if r.headers.get("ce_type") == "OrderCreated")
    outcomes = Counter(r.key for r in records if r.headers.get("ce_type") in ("OrderConfirmed", "OrderFailed"))
    created_per_order = Counter(r.key for r in records if r.headers.get("ce_type") == "OrderCreated")
    assert [c for c, n in created.items() if n > 1] == [], "OrderCreated published twice"
    assert set(created_per_order) == set(accepted) and set(created_per_order.values()) == {1}
    assert set(outcomes) == set(accepted) and set(outcomes.values()) == {1}, "an outcome event twice"
    print(f"\n[postgres replicas] orders={ORDERS} served={dict(served)} OrderCreated={sum(created.values())} "
          f"outcomes={sum(outcomes.values())}")


def test_one_idempotency_key_sent_to_both_replicas_at_once_creates_one_order(stack, replicas):
    order_urls = [stack.order, replicas[0].url]
    for _ in range(10):
        key = f"pg-race-{uuid.uuid4()}"
        body = new_order("tok_visa")
        barrier = threading.Barrier(4)

        def place(i: int):
            barrier.wait()
            return requests.post(f"{order_urls[i % 2]}/place-order", json=body, timeout=HTTP_TIMEOUT,
                                 headers={"Idempotency-Key": key})

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(place, range(4)))
        assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 202], [a.status_code for a in answers]
        assert len({a.json()["orderId"] for a in answers}) == 1
        r = requests.get(f"{stack.order}/api/v1/orders", params={"customerId": body["customerId"]},
                         timeout=HTTP_TIMEOUT)
        page = r.json()
        items = page if isinstance(page, list) else page.get("items", page.get("orders", page.get("data")))
        assert len(items) == 1, page


def relay_leader_pid(stack) -> int:
    """The process whose database session holds the outbox relay's advisory lock (each
    session's application_name is orderflow/<schema>/<pid>)."""
    psql = "/usr/lib/postgresql/15/bin/psql"
    query = ("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'orderflow/order_service/%'")
    out = subprocess.run([psql, "-X", "-tA", "-c", query, os.environ["ORDERFLOW_DATABASE_URL"]],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(out) == 1, f"expected one relay leader, found {out}"
    return int(out[0].rsplit("/", 1)[1])


def test_the_outbox_relay_moves_to_the_other_replica_when_its_leader_dies(stack, replicas):
    leader = relay_leader_pid(stack)
    stack_pid = stack.pid("order-service")
    assert leader in (stack_pid, replicas[0].proc.pid), (leader, stack_pid, replicas[0].proc.pid)
    survivor = replicas[0].url if leader == stack_pid else stack.order
    os.kill(leader, signal.SIGKILL)
    try:
        placed = []
        for _ in range(20):
            r = requests.post(f"{survivor}/place-order", json=new_order("tok_visa"), timeout=HTTP_TIMEOUT)
            assert r.status_code == 202, r.text
            placed.append(r.json()["orderId"])

        def all_confirmed():
            return all(requests.get(f"{survivor}/api/v1/orders/{o}", timeout=HTTP_TIMEOUT).json()["status"]
                       == "CONFIRMED" for o in placed) or None

        wait_until(all_confirmed, SETTLE_S, "orders placed after the relay leader died to be confirmed")
        for o in placed:
            assert len([c for c in charges(stack.gateway, o) if c.get("status") == "succeeded"]) == 1, o
        assert relay_leader_pid(stack) != leader
    finally:
        if leader == stack_pid:
            stack.restart("order-service")


def test_killing_one_replica_of_each_service_mid_load_rebalances_and_finishes_the_work(stack, smtp, replicas):
    """Two replicas of order-, payment- and notification-service; while orders flow, one of
    each is killed with SIGKILL. The survivors' consumer groups take over the partitions
    (after the 6 s session timeout) and finish everything: every order final as its token
    says, one charge per confirmed order, one email (one Message-ID) per order."""
    notification_2 = Replica(stack, "notification-service", "notification-service-2")
    notification_2.wait_healthy()
    survivor = replicas[0].url  # order-service-2 stays; the stack's order-service is killed
    accepted: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def place(i: int) -> None:
        token = "tok_visa" if i % 5 else "tok_chargeDeclined"
        body = new_order(token)
        key = f"pg-kill-{uuid.uuid4()}"
        for _ in range(100):
            url = survivor if killed.is_set() or i % 2 else stack.order
            try:
                r = requests.post(f"{url}/place-order", json=body, timeout=HTTP_TIMEOUT,
                                  headers={"Idempotency-Key": key})
            except requests.RequestException:
                continue
            if r.status_code in (200, 202):
                with lock:
                    accepted[r.json()["orderId"]] = (token, body["customerEmail"])
                return
        raise AssertionError(f"order {i} was never accepted")

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(place, i) for i in range(ORDERS)]
            wait_until(lambda: len(accepted) >= ORDERS // 3, 60, "a third of the orders accepted")
            for service in ("order-service", "payment-service", "notification-service"):
                os.kill(stack.pid(service), signal.SIGKILL)
            killed.set()
            for f in futures:
                f.result()

        def order(order_id: str) -> dict:
            return requests.get(f"{survivor}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()

        wait_until(lambda: all(order(o)["status"] in ("CONFIRMED", "FAILED") for o in accepted) or None,
                   SETTLE_S, f"{len(accepted)} orders final after the kills")
        confirmed = 0
        for order_id, (token, _) in accepted.items():
            ok = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
            expected = "CONFIRMED" if token == "tok_visa" else "FAILED"
            assert order(order_id)["status"] == expected, order_id
            assert len(ok) == (1 if expected == "CONFIRMED" else 0), f"{order_id}: {len(ok)} charges"
            confirmed += expected == "CONFIRMED"

        def one_email_each():
            return all(smtp.to(email) for _, email in accepted.values()) or None

        wait_until(one_email_each, SETTLE_S, "an email for every order")
        ids = {email: {str(m.message.get("Message-ID", "")) for m in smtp.to(email)} for _, email in accepted.values()}
        assert [e for e, s in ids.items() if len(s) != 1] == [], "an order with more than one distinct email"
        copies = sum(len(smtp.to(email)) for _, email in accepted.values())
        print(f"\n[replica kills] orders={len(accepted)} confirmed={confirmed} killed=order,payment,notification "
              f"charges={confirmed} emails={len(accepted)} (raw copies {copies})")
    finally:
        notification_2.stop()
        stack.restart("order-service", "payment-service", "notification-service")
