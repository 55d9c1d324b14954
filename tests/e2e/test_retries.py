"""Retries without double charges (SPEC §5): a flaky gateway is retried through
payment-service.retry, a lost answer is reconciled with the gateway's ledger instead of
charging again, and the circuit breaker's state is visible in health. The stack runs with
ORDERFLOW_CHARGE_ATTEMPTS=2 (see conftest.py), so tok_flaky — which fails its first two
attempts per idempotency key — always needs a second round through the retry topic."""

from __future__ import annotations

import requests

from support import HTTP_TIMEOUT, charges, find_record, gateway_attempts, new_order, wait_until

SETTLE_S = 60


def place(stack, token: str) -> str:
    r = requests.post(f"{stack.order}/place-order", json=new_order(token), timeout=HTTP_TIMEOUT)
    assert r.status_code == 202, r.text
    return r.json()["orderId"]


def final_order(stack, order_id: str) -> dict:
    def final():
        o = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()
        return o if o["status"] in ("CONFIRMED", "FAILED") else None
    return wait_until(final, SETTLE_S, f"order {order_id} to be final")


def test_flaky_gateway_goes_through_the_retry_topic_and_charges_once(stack):
    order_id = place(stack, "tok_flaky")
    order = final_order(stack, order_id)
    assert order["status"] == "CONFIRMED", order

    retry = find_record(stack.kafka, "payment-service.retry", order_id, timeout=30)
    assert retry.headers["retry-attempt"] == "2"
    assert retry.headers["retry-original-topic"] == "order-events"
    assert int(retry.headers["retry-not-before"]) > 0
    assert retry.headers["ce_type"] == "OrderCreated"

    succeeded = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
    assert len(succeeded) == 1, charges(stack.gateway, order_id)
    assert len(gateway_attempts(stack.gateway, order_id)) == 3, "two failed attempts in round 1, one in round 2"
    decided = requests.get(f"{stack.urls['payment-service']}/api/v1/payments",
                           params={"orderId": order_id}, timeout=HTTP_TIMEOUT).json()
    assert [p["status"] for p in decided] == ["SUCCEEDED"]
    assert decided[0]["attempts"] == 2


def test_lost_gateway_answer_is_reconciled_not_charged_again(stack):
    # tok_slow: the gateway charges at once but answers after the client's deadline.
    order_id = place(stack, "tok_slow")
    order = final_order(stack, order_id)
    assert order["status"] == "CONFIRMED", order
    succeeded = [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]
    assert len(succeeded) == 1
    assert len(gateway_attempts(stack.gateway, order_id)) == 1, "the lookup found the charge: no second POST"


def test_circuit_breaker_state_is_in_health(stack):
    r = requests.get(f"{stack.urls['payment-service']}/actuator/health", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    breaker = r.json()["components"]["circuitBreaker"]
    assert breaker["status"] == "UP"
    assert breaker["details"]["state"] in ("CLOSED", "OPEN", "HALF_OPEN")
    assert isinstance(breaker["details"]["consecutiveFailures"], int)
