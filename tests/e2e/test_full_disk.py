"""A full disk (issue 15, part 1): one service's database runs on a small tmpfs mounted
over its data folder in the e2e stack's run folder, filled up while orders keep coming,
then given space again.

- order-service answers 503 problem+json (never 202 for an order it could not store), its
  readiness goes DOWN naming the full database, nothing half-written stays behind (the
  orders it lists are exactly the ones it answered 202 for), it takes orders again by itself
  once space is back, and every order it accepted ends CONFIRMED.
- payment-service and notification-service stop where they are while they cannot store an
  outcome: no committed offset passes a record not decided, the cause is logged once per
  interval (not per attempt), readiness is DOWN meanwhile, and once space is back they catch
  up by themselves — every order charged exactly once with its stored payment, every
  confirmation emailed exactly once with its stored notification.

Mounting needs root (CI runs as root); the test skips otherwise. Each service is stopped,
its files moved onto the tmpfs and back afterwards, so the rest of the suite runs on the
ordinary disk."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from support import HTTP_TIMEOUT, assert_problem, charges, committed_offset, new_order, read_to_end, wait_until

STACK_SH = Path(__file__).resolve().parents[2] / "scripts" / "stack.sh"
HEADROOM = 192 * 1024  # bytes left free on the tmpfs when the load starts
FAILURE_LOG_INTERVAL_S = 30  # kafka::kFailureLogInterval

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")


def _stack_sh(stack, *args: str) -> None:
    result = subprocess.run([str(STACK_SH), *args], env=stack.env, capture_output=True, text=True)
    assert result.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class SmallDisk:
    """The tmpfs under a service's data folder, and the file that fills it."""

    def __init__(self, mount: Path):
        self.mount = mount
        self.filler = mount / "filler.bin"

    def fill(self, headroom: int = HEADROOM) -> None:
        """Fills the file system, then leaves `headroom` bytes free."""
        chunk = b"\0" * 65536
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        size = self.filler.stat().st_size
        os.truncate(self.filler, max(0, size - headroom))

    def free_space(self) -> None:
        self.filler.unlink()


@contextmanager
def small_disk(stack, service: str):
    """Runs `service` with its data folder on a tmpfs (its files copied there and back)."""
    data = stack.run_dir / "data" / service
    stash = Path(tempfile.mkdtemp(prefix=f"full-disk-{service}-"))
    _stack_sh(stack, "down", service)
    for f in data.iterdir():
        shutil.move(str(f), stash / f.name)
    used = sum(f.stat().st_size for f in stash.iterdir())
    size = used + 16 * 1024 * 1024
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(data)], check=True)
    try:
        for f in stash.iterdir():
            shutil.copy2(f, data / f.name)
        stack.restart(service)
        yield SmallDisk(data)
    finally:
        subprocess.run([str(STACK_SH), "down", service], env=stack.env, capture_output=True, text=True)
        for f in stash.iterdir():
            f.unlink()
        for f in data.iterdir():
            if f.name != "filler.bin":
                shutil.copy2(f, stash / f.name)
        subprocess.run(["umount", str(data)], check=True)
        for f in stash.iterdir():
            shutil.move(str(f), data / f.name)
        stash.rmdir()
        stack.restart(service)


def _health(url: str) -> dict:
    return requests.get(f"{url}/actuator/health", timeout=HTTP_TIMEOUT).json()


def _db_down_for_full_disk(url: str) -> dict | None:
    body = _health(url)
    db = body.get("components", {}).get("db", {})
    if body.get("status") == "DOWN" and db.get("status") == "DOWN" and db.get("details", {}).get("code") == "db-full":
        return db
    return None


def _db_up(url: str) -> bool:
    return _health(url).get("components", {}).get("db", {}).get("status") == "UP"


def _order(stack, order_id: str) -> dict:
    return requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()


def _listed(stack, customer: str) -> set[str]:
    ids: set[str] = set()
    after = None
    while True:
        params = {"customerId": customer, "limit": 500}
        if after:
            params["after"] = after
        page = requests.get(f"{stack.order}/api/v1/orders", params=params, timeout=HTTP_TIMEOUT).json()
        ids.update(o["orderId"] for o in page["items"])
        after = page.get("nextCursor")
        if not after:
            return ids


class Load:
    """Places orders one after another (each once, no retries) and sorts the answers."""

    def __init__(self, stack, customer: str | None = None):
        self.stack = stack
        self.customer = customer
        self.accepted: list[str] = []
        self.refused: list[dict] = []  # 503 problem bodies
        self.other: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            body = new_order("tok_visa")
            if self.customer:
                body["customerId"] = self.customer
            try:
                r = requests.post(f"{self.stack.order}/place-order", json=body, timeout=HTTP_TIMEOUT,
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
            except requests.RequestException as exc:
                self.other.append(repr(exc))
                continue
            if r.status_code == 202:
                self.accepted.append(r.json()["orderId"])
            elif r.status_code == 503:
                self.refused.append(assert_problem(r, 503))
            else:
                self.other.append(f"{r.status_code} {r.text[:200]}")
            time.sleep(0.05)

    def __enter__(self) -> "Load":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def _all_confirmed(stack, ids) -> bool:
    return all(_order(stack, o).get("status") == "CONFIRMED" for o in ids)


def _failure_lines(log: str, since: int) -> list[str]:
    """Lines of a consumer's "will retry" log after character `since`."""
    return [line for line in log[since:].splitlines()
            if "handling failed; will retry" in line and ("full" in line or "db" in line.lower())]


def _created_offsets(stack, ids: set[str], ce_type: str) -> dict[str, tuple[int, int]]:
    """(partition, offset) of each order's `ce_type` record in order-events."""
    out = {}
    for r in read_to_end(stack.kafka, "order-events", lambda r: r.key in ids and r.headers.get("ce_type") == ce_type):
        out.setdefault(r.key, (r.partition, r.offset))
    return out


def _no_offset_past_undecided(stack, group: str, undecided: dict[str, tuple[int, int]]) -> None:
    """No committed offset of `group` passes a record whose outcome is not stored."""
    for order_id, (partition, offset) in undecided.items():
        committed = committed_offset(stack.kafka, group, "order-events", partition)
        assert committed <= offset, (f"{group} committed offset {committed} of order-events[{partition}] past "
                                     f"the record of order {order_id} (offset {offset}), whose outcome it has not stored")


def test_order_service_on_a_full_disk_refuses_with_503_and_recovers_by_itself(stack):
    customer = f"c-full-disk-{uuid.uuid4().hex[:8]}"
    with small_disk(stack, "order-service") as disk:
        disk.fill()
        with Load(stack, customer) as load:
            wait_until(lambda: len(load.refused) >= 5, 120, "orders refused with 503 once the disk is full")
            db = wait_until(lambda: _db_down_for_full_disk(stack.order), 30, "order-service readiness DOWN (db-full)")
            assert "full" in db["details"]["error"], db
            accepted_while_full = set(load.accepted)
            refused_before = len(load.refused)
            freed_at = time.monotonic()
            disk.free_space()
            wait_until(lambda: _db_up(stack.order), 30, "order-service readiness UP again once space is back")
            wait_until(lambda: len(load.accepted) >= len(accepted_while_full) + 10, 60,
                       "orders accepted (202) again once space is back")
            recovered_s = round(time.monotonic() - freed_at, 1)
        # Nothing half-written: the service lists exactly the orders it answered 202 for
        # (none answered 503 is stored), and every one of them ends final.
        assert not load.other, load.other[:5]
        wait_until(lambda: _all_confirmed(stack, load.accepted), 120, "every accepted order CONFIRMED")
        assert _listed(stack, customer) == set(load.accepted)
        for body in load.refused:
            assert "could not be stored" in body.get("detail", ""), body
    print(f"full disk (order-service): {len(load.accepted)} orders accepted (202), all CONFIRMED and listed; "
          f"{len(load.refused)} refused with 503 problem+json ({refused_before} while full), none stored; "
          f"readiness DOWN with db-full while full, UP and accepting {recovered_s} s after space was freed")


def _consumer_on_a_full_disk(stack, service: str, group: str, ce_type: str, recorded) -> dict:
    """`service` (a consumer of order-events, group `group`, deciding `ce_type` records)
    runs out of space while orders flow; `recorded(order_id)` says its outcome is stored.
    Returns the orders placed (id -> body) and what was measured."""
    url = stack.urls[service]
    with small_disk(stack, service) as disk:
        log_from = len(stack.log(service))
        disk.fill(headroom=0)
        placed: dict[str, dict] = {}
        # tok_flaky takes payment-service's per-record path (in-process retries, a round
        # through payment-service.retry and its own consumer, the parking store); tok_visa
        # its batch path. The flaky ones first: the wave that meets the full disk is theirs.
        for token in ["tok_flaky"] * 2 + ["tok_visa"] * 16:
            body = new_order(token)
            r = requests.post(f"{stack.order}/place-order", json=body, timeout=HTTP_TIMEOUT)
            assert r.status_code == 202, r.text
            placed[r.json()["orderId"]] = body
        ids = set(placed)
        wait_until(lambda: _db_down_for_full_disk(url), 60, f"{service} readiness DOWN (db-full)")
        full_since = time.monotonic()
        # Stuck, not skipping: records arrive, are not decided, and no offset passes them.
        records = wait_until(lambda: (lambda o: o if len(o) == len(ids) else None)(_created_offsets(stack, ids, ce_type)),
                             120, f"the orders' {ce_type} records in order-events")
        undecided = wait_until(lambda: {o: records[o] for o in ids if not recorded(o)}, 30,
                               f"orders whose {service} outcome is not stored")
        wait_until(lambda: _failure_lines(stack.log(service), log_from), 30, f"{service} logs why it cannot go on")
        # Long enough for several back-off rounds (100 ms doubling to 5 s).
        wait_until(lambda: time.monotonic() - full_since > 12, 20, "a few retry rounds")
        _no_offset_past_undecided(stack, group, undecided)
        assert all(not recorded(o) for o in undecided), "an outcome was stored on a full disk"
        failures = _failure_lines(stack.log(service), log_from)
        full_for = time.monotonic() - full_since
        # Per attempt, 12 s of back-off rounds would be 6 lines or more.
        assert len(failures) <= 2 + int(full_for // FAILURE_LOG_INTERVAL_S), \
            f"{len(failures)} failure lines in {full_for:.0f} s: logged per attempt, not per interval:\n" + \
            "\n".join(failures[:10])
        freed_at = time.monotonic()
        disk.free_space()
        wait_until(lambda: _db_up(url), 30, f"{service} readiness UP again once space is back")
        wait_until(lambda: all(recorded(o) for o in ids), 120, f"{service} caught up by itself")
        caught_up_s = round(time.monotonic() - freed_at, 1)
        assert "recovered" in stack.log(service)[log_from:], f"{service} logged no recovery"
    wait_until(lambda: _all_confirmed(stack, ids), 120, "every order CONFIRMED")
    return {"placed": placed, "undecided": len(undecided), "logged": len(failures),
            "full_for": round(full_for, 1), "caught_up": caught_up_s}


def _payment_stored(stack, order_id: str) -> bool:
    r = requests.get(f"{stack.urls['payment-service']}/api/v1/payments", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    return r.status_code == 200 and any(p.get("status") for p in r.json())


def test_payment_service_on_a_full_disk_stops_and_catches_up(stack):
    run = _consumer_on_a_full_disk(stack, "payment-service", "payment-service", "OrderCreated",
                                   lambda o: _payment_stored(stack, o))
    ids = list(run["placed"])
    once = {o: [c for c in charges(stack.gateway, o) if c.get("status") == "succeeded"] for o in ids}
    twice = [o for o, c in once.items() if len(c) != 1]
    assert not twice, f"orders without exactly one charge: {twice}"
    # No charge without its stored outcome: every charge is the one the stored payment names.
    for o in ids:
        [payment] = requests.get(f"{stack.urls['payment-service']}/api/v1/payments", params={"orderId": o},
                                 timeout=HTTP_TIMEOUT).json()
        assert payment.get("chargeId") == once[o][0].get("id"), (payment, once[o])
    print(f"full disk (payment-service): {len(ids)} orders, {run['undecided']} undecided while full "
          f"({run['full_for']} s; no committed offset past them; the cause logged {run['logged']} time(s)); "
          f"caught up {run['caught_up']} s after space was freed; all CONFIRMED, {len(ids)} single charges, "
          f"each with its stored payment")


def _notification_stored(stack, order_id: str) -> bool:
    r = requests.get(f"{stack.notification}/api/v1/notifications", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    return r.status_code == 200 and len(r.json()) > 0


def test_notification_service_on_a_full_disk_stops_and_catches_up(stack, smtp):
    run = _consumer_on_a_full_disk(stack, "notification-service", "notification-service", "OrderConfirmed",
                                   lambda o: _notification_stored(stack, o))
    emails = {o: smtp.to(body["customerEmail"]) for o, body in run["placed"].items()}
    not_once = {o: len(m) for o, m in emails.items() if len(m) != 1}
    assert not not_once, f"orders without exactly one email: {not_once}"
    print(f"full disk (notification-service): {len(emails)} orders, {run['undecided']} not recorded while full "
          f"({run['full_for']} s; no committed offset past them; the cause logged {run['logged']} time(s)); "
          f"caught up {run['caught_up']} s after space was freed; {len(emails)} emails, one per order, each "
          f"with its stored notification")
