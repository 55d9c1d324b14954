"""Tracing (SPEC §8): one order is one trace in a real Zipkin server, with spans from every
service it passes through, linked parent to child."""

from __future__ import annotations

import secrets

import requests

from support import HTTP_TIMEOUT, new_order, wait_until

TRACE_S = 45
SERVICES = {"order-service", "payment-service", "payment-gateway", "notification-service"}


def zipkin_trace(stack, trace_id: str) -> list[dict]:
    r = requests.get(f"{stack.zipkin}/api/v2/trace/{trace_id}", timeout=HTTP_TIMEOUT)
    if r.status_code == 404:
        return []
    r.raise_for_status()
    return r.json()


def service_of(span: dict) -> str:
    return span.get("localEndpoint", {}).get("serviceName", "")


def consumer_spans(spans: list[dict], service: str, ce_type: str) -> list[dict]:
    """CONSUMER spans are named "<topic> <ce_type>" (Zipkin lower-cases names); a service
    also consumes, and skips, the event types on its topic that are not its own."""
    return [s for s in spans if service_of(s) == service and s.get("kind") == "CONSUMER"
            and s.get("name", "").endswith(ce_type.lower())]


def test_one_order_is_one_trace_across_all_services(stack):
    trace_id = secrets.token_hex(16)
    caller_span = secrets.token_hex(8)
    traceparent = f"00-{trace_id}-{caller_span}-01"
    body = new_order("tok_visa")
    r = requests.post(f"{stack.order}/place-order", json=body, headers={"traceparent": traceparent},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code in (201, 202), r.text
    # The response names the server span of this request, in the caller's trace.
    assert r.headers.get("traceparent", "").startswith(f"00-{trace_id}-"), r.headers
    order_id = r.json()["orderId"]

    def complete():
        spans = zipkin_trace(stack, trace_id)
        services = {service_of(s) for s in spans}
        # The trace is complete once notification-service has consumed OrderConfirmed.
        done = SERVICES <= services and consumer_spans(spans, "notification-service", "OrderConfirmed")
        return spans if done else None

    spans = wait_until(complete, TRACE_S, f"Zipkin trace {trace_id} with spans from {sorted(SERVICES)}",
                       interval=0.5)
    by_id = {s["id"]: s for s in spans}
    assert all(s["traceId"] == trace_id for s in spans)

    # Every span has a parent in this trace, except the order-service server span, whose
    # parent is the (unreported) caller span of our traceparent.
    roots = [s for s in spans if s.get("parentId") not in by_id]
    assert len(roots) == 1, f"spans without a parent in the trace: {roots}"
    root = roots[0]
    assert service_of(root) == "order-service" and root["kind"] == "SERVER", root
    assert root["parentId"] == caller_span
    assert "/place-order" in root["name"], root

    def chain(span: dict) -> list[dict]:
        out = [span]
        while out[-1].get("parentId") in by_id:
            out.append(by_id[out[-1]["parentId"]])
        return out

    # The gateway's server span is a child of payment-service's client span ...
    gateway_servers = [s for s in spans if service_of(s) == "payment-gateway" and s["kind"] == "SERVER"]
    assert gateway_servers, spans
    for g in gateway_servers:
        parent = by_id[g["parentId"]]
        assert service_of(parent) == "payment-service" and parent["kind"] == "CLIENT", parent

    # ... which runs inside payment-service's consumer span of OrderCreated, whose parent
    # chain reaches order-service's /place-order server span.
    payment_consumers = consumer_spans(spans, "payment-service", "OrderCreated")
    assert payment_consumers, spans
    assert any(c["id"] == payment_consumers[0]["id"] for g in gateway_servers for c in chain(g))
    assert root in chain(payment_consumers[0])

    # order-service consumes PaymentSuccess, notification-service OrderConfirmed: both
    # downstream of the payment.
    order_consumers = consumer_spans(spans, "order-service", "PaymentSuccess")
    assert order_consumers, spans
    assert any(s["id"] == payment_consumers[0]["id"] for s in chain(order_consumers[0]))
    notification_consumers = consumer_spans(spans, "notification-service", "OrderConfirmed")
    assert any(s["id"] == order_consumers[0]["id"] for s in chain(notification_consumers[0]))

    for s in spans:
        assert s["duration"] >= 1 and s["timestamp"] > 0, s

    # Log lines about this order carry its trace id.
    for service in ("order-service", "payment-service", "notification-service"):
        lines = [line for line in stack.log(service).splitlines() if order_id in line]
        assert lines, f"no {service} log line mentions {order_id}"
        assert any(trace_id in line for line in lines), f"{service} logs {order_id} without traceId: {lines}"
