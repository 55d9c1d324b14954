"""The order -> payment -> notification flow (SPEC §2, §4-§7): success, decline, gateway
error -> DLQ -> alert, and the correlation id carried through the events."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import requests

from support import (HTTP_TIMEOUT, charges, find_record, new_order, status_history,
                     wait_until)

FINAL = {"CONFIRMED", "FAILED"}
# A visa order normally settles in well under a second; the first one also waits for the
# consumer groups to settle after start-up.
SETTLE_S = 30
# Gateway errors are retried (in process, then maybe through payment-service.retry) before
# the record goes to the DLQ: about a minute by default (SPEC §5).
DLQ_SETTLE_S = 90
# A notification or alert follows the final status through one more Kafka hop.
FOLLOW_S = 20


def place(stack, body, headers=None) -> requests.Response:
    return requests.post(f"{stack.order}/place-order", json=body, headers=headers or {},
                         timeout=HTTP_TIMEOUT)


def get_order(stack, order_id) -> dict:
    r = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"GET order {order_id} -> {r.status_code} {r.text}"
    return r.json()


def wait_final(stack, order_id, timeout=SETTLE_S) -> dict:
    return wait_until(lambda: (o := get_order(stack, order_id))["status"] in FINAL and o,
                      timeout, f"order {order_id} to reach CONFIRMED or FAILED")


def notifications(stack, order_id) -> list:
    r = requests.get(f"{stack.notification}/api/v1/notifications", params={"orderId": order_id},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list), body
    return body


def assert_one_email(stack, smtp, order_id, customer_email, outcome_word):
    """Exactly one email to the customer, and notification-service lists exactly it."""
    listed = wait_until(lambda: notifications(stack, order_id), FOLLOW_S,
                        f"notification-service to list the notification of {order_id}")
    mails = wait_until(lambda: smtp.to(customer_email), FOLLOW_S,
                       f"an email to {customer_email} at the SMTP server")
    assert len(listed) == 1, listed
    note = listed[0]
    assert note["orderId"] == order_id
    assert note["to"] == customer_email
    assert outcome_word in str(note["outcome"]).upper(), note
    assert note["subject"], note
    assert len(smtp.to(customer_email)) == 1, [m.subject for m in mails]
    mail = mails[0]
    assert mail.subject == note["subject"]
    assert customer_email in str(mail.message["To"])


# --------------------------------------------------------------------------- (a)


def test_successful_order_is_confirmed_charged_once_and_mailed(stack, smtp):
    body = new_order("tok_visa")
    r = place(stack, body)
    assert r.status_code == 202, r.text
    placed = r.json()
    order_id = placed["orderId"]
    assert order_id
    assert r.headers["Location"].endswith(f"/api/v1/orders/{order_id}"), r.headers
    assert placed["status"] == "PENDING"
    assert placed["totalAmount"] == "25.00"  # 2 x 12.50, a decimal string
    assert placed["currency"] == "EUR"
    assert placed["correlationId"]

    order = wait_final(stack, order_id)
    assert order["status"] == "CONFIRMED", order
    assert not order.get("failureReason"), order
    assert order["orderId"] == order_id
    assert order["totalAmount"] == "25.00"
    assert status_history(order) == ["PENDING", "CONFIRMED"], order

    assert_one_email(stack, smtp, order_id, body["customerEmail"], "CONFIRM")

    ledger = charges(stack.gateway, order_id)
    succeeded = [c for c in ledger if c.get("status") == "succeeded"]
    assert len(succeeded) == 1, ledger
    assert succeeded[0]["id"].startswith("ch_"), succeeded


def test_total_is_exact_decimal_arithmetic(stack):
    # Three items whose float sum is not exact (0.1 + 0.2 style).
    body = new_order("tok_visa", items=[
        {"sku": "A", "quantity": 3, "unitPrice": "0.10"},
        {"sku": "B", "quantity": 1, "unitPrice": "0.20"},
        {"sku": "C", "quantity": 7, "unitPrice": "19.99"},
    ])
    r = place(stack, body)
    assert r.status_code == 202, r.text
    assert r.json()["totalAmount"] == "140.43"


# --------------------------------------------------------------------------- (b)


def test_declined_card_fails_the_order_without_a_charge(stack, smtp):
    body = new_order("tok_chargeDeclined")
    r = place(stack, body)
    assert r.status_code == 202, r.text
    order_id = r.json()["orderId"]

    order = wait_final(stack, order_id)
    assert order["status"] == "FAILED", order
    assert "card_declined" in order["failureReason"], order
    assert status_history(order) == ["PENDING", "FAILED"], order

    assert_one_email(stack, smtp, order_id, body["customerEmail"], "FAIL")
    assert not [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]


# --------------------------------------------------------------------------- (e)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def assert_cloudevent(record, ce_type, source, correlation_id):
    h = record.headers
    assert h.get("ce_specversion") == "1.0", h
    assert UUID_RE.match(h.get("ce_id", "")), h
    assert h.get("ce_type") == ce_type, h
    assert source in h.get("ce_source", ""), h
    datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00"))  # RFC 3339
    assert "json" in h.get("content-type", ""), h
    assert h.get("ce_correlationid") == correlation_id, h
    payload = record.json()
    assert "schemaVersion" in payload, payload


def test_correlation_id_travels_with_the_order_events(stack):
    correlation_id = f"e2e-{uuid.uuid4()}"
    r = place(stack, new_order("tok_visa"), headers={"X-Correlation-ID": correlation_id})
    assert r.status_code == 202, r.text
    assert r.headers.get("X-Correlation-ID") == correlation_id, r.headers
    assert r.json()["correlationId"] == correlation_id
    order_id = r.json()["orderId"]
    assert wait_final(stack, order_id)["status"] == "CONFIRMED"

    created = find_record(stack.kafka, "order-events", order_id, SETTLE_S,
                          lambda rec: rec.headers.get("ce_type") == "OrderCreated")
    assert_cloudevent(created, "OrderCreated", "order-service", correlation_id)

    paid = find_record(stack.kafka, "payment-events", order_id, SETTLE_S,
                       lambda rec: rec.headers.get("ce_type") == "PaymentSuccess")
    assert_cloudevent(paid, "PaymentSuccess", "payment-service", correlation_id)

    confirmed = find_record(stack.kafka, "order-events", order_id, SETTLE_S,
                            lambda rec: rec.headers.get("ce_type") == "OrderConfirmed")
    assert_cloudevent(confirmed, "OrderConfirmed", "order-service", correlation_id)
    assert len({created.headers["ce_id"], paid.headers["ce_id"], confirmed.headers["ce_id"]}) == 3


def test_correlation_id_is_generated_when_absent(stack):
    r = place(stack, new_order("tok_visa"))
    assert r.status_code == 202, r.text
    generated = r.headers.get("X-Correlation-ID")
    assert generated, r.headers
    assert r.json()["correlationId"] == generated


# --------------------------------------------------------------------------- (c)


def test_gateway_error_goes_to_dlq_and_alerts(stack, smtp, gateway_error_order):
    # Placed at session start by the gateway_error_order fixture (conftest.py).
    assert gateway_error_order.error is None, gateway_error_order.error
    r = gateway_error_order.response
    assert r.status_code == 202, r.text
    order_id = r.json()["orderId"]

    order = wait_final(stack, order_id, DLQ_SETTLE_S)
    assert order["status"] == "FAILED", order
    assert order["failureReason"] == "payment-gateway-unavailable", order
    assert not [c for c in charges(stack.gateway, order_id) if c.get("status") == "succeeded"]

    dlq = find_record(stack.kafka, "payment-service.dlq", order_id, FOLLOW_S)
    h = dlq.headers
    assert h.get("ce_type") == "OrderCreated", h  # the original record, headers kept
    assert h.get("dlq-original-topic") in {"order-events", "payment-service.retry"}, h
    assert int(h["dlq-original-partition"]) >= 0, h
    assert int(h["dlq-original-offset"]) >= 0, h
    assert h.get("dlq-consumer-group"), h
    assert h.get("dlq-reason") == "gateway-unavailable", h
    assert h.get("dlq-error-message"), h
    assert int(h["dlq-attempts"]) >= 2, h
    for name in ("dlq-first-failure-time", "dlq-last-failure-time"):
        assert h.get(name), h
    assert dlq.json()["orderId"] == order_id

    def alert_for_order():
        r = requests.get(f"{stack.alerting}/api/v1/alerts", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text
        return [a for a in r.json() if a.get("orderId") == order_id]

    alerts = wait_until(alert_for_order, FOLLOW_S, f"an alert for order {order_id}")
    alert = alerts[0]
    assert alert["topic"] == "payment-service.dlq", alert
    assert "gateway-unavailable" in alert["reason"], alert
    assert int(alert["count"]) >= 1, alert
    assert alert["time"], alert

    wait_until(lambda: [m for m in smtp.to(stack.alert_email_to) if "payment-service.dlq" in m.text()],
               FOLLOW_S, f"an alert email about payment-service.dlq to {stack.alert_email_to}")

    # The customer hears about the failure too, once.
    assert_one_email(stack, smtp, order_id, gateway_error_order.body["customerEmail"], "FAIL")

