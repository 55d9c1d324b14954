"""(d) Bad requests to POST /place-order get the right status as RFC 9457 problem+json
(SPEC §2), and a raw card number is neither accepted, echoed nor logged."""

import json
import uuid

import pytest
import requests

from support import HTTP_TIMEOUT, assert_problem, new_order


def post_raw(stack, data, content_type="application/json", path="/place-order"):
    return requests.post(f"{stack.order}{path}", data=data,
                         headers={"Content-Type": content_type}, timeout=HTTP_TIMEOUT)


def test_malformed_json_is_400(stack):
    assert_problem(post_raw(stack, b'{"customerId": "c-1", "items": ['), 400)


def test_body_over_64_kib_is_413(stack):
    body = new_order(customerId="c-" + "x" * (65 * 1024))
    data = json.dumps(body).encode()
    assert len(data) > 64 * 1024
    assert_problem(post_raw(stack, data), 413)


def test_wrong_content_type_is_415(stack):
    assert_problem(post_raw(stack, json.dumps(new_order()).encode(), "text/plain"), 415)


def test_negative_quantity_is_422_naming_the_field(stack):
    body = new_order(items=[{"sku": "BOOK-1", "quantity": -1, "unitPrice": "12.50"}])
    problem = assert_problem(post_raw(stack, json.dumps(body)), 422)
    assert "items[0].quantity" in json.dumps(problem), problem


def test_zero_quantity_in_second_item_names_that_item(stack):
    body = new_order(items=[{"sku": "BOOK-1", "quantity": 1, "unitPrice": "12.50"},
                            {"sku": "PEN-7", "quantity": 0, "unitPrice": "1.00"}])
    problem = assert_problem(post_raw(stack, json.dumps(body)), 422)
    assert "items[1].quantity" in json.dumps(problem), problem


def test_unknown_currency_is_422(stack):
    problem = assert_problem(post_raw(stack, json.dumps(new_order(currency="XYZ"))), 422)
    assert "currency" in json.dumps(problem), problem


def test_no_items_is_422(stack):
    assert_problem(post_raw(stack, json.dumps(new_order(items=[]))), 422)


def test_bad_email_is_422(stack):
    problem = assert_problem(post_raw(stack, json.dumps(new_order(customerEmail="not-an-email"))), 422)
    assert "customerEmail" in json.dumps(problem), problem


@pytest.mark.parametrize("field,value,card", [
    ("paymentToken", "4242424242424242", "4242424242424242"),
    ("customerId", "c-4111111111111111", "4111111111111111"),
])
def test_raw_card_number_is_rejected_and_never_echoed_or_logged(stack, field, value, card):
    problem = assert_problem(post_raw(stack, json.dumps(new_order(**{field: value}))), 422)
    assert card not in json.dumps(problem), "the card number was echoed back"
    assert card not in stack.log("order-service"), "the card number reached the log"


def test_card_number_as_idempotency_key_is_422_and_never_echoed_or_logged(stack):
    card = "5555555555554444"
    r = requests.post(f"{stack.order}/place-order", data=json.dumps(new_order()), timeout=HTTP_TIMEOUT,
                      headers={"Content-Type": "application/json", "Idempotency-Key": f"key-{card}"})
    problem = assert_problem(r, 422)
    assert "Idempotency-Key" in json.dumps(problem), problem
    assert card not in json.dumps(problem), "the card number was echoed back"
    assert card not in stack.log("order-service"), "the card number reached the log"


def test_card_number_as_correlation_id_is_replaced(stack):
    card = "4000056655665556"
    r = requests.post(f"{stack.order}/place-order", data=json.dumps(new_order()), timeout=HTTP_TIMEOUT,
                      headers={"Content-Type": "application/json", "X-Correlation-ID": card})
    assert r.status_code == 202, r.text
    assert r.headers.get("X-Correlation-ID") and card not in r.headers["X-Correlation-ID"]
    assert card not in r.text
    assert card not in stack.log("order-service"), "the card number reached the log"


def test_api_v1_orders_is_the_same_handler(stack):
    assert_problem(post_raw(stack, json.dumps(new_order(currency="XYZ")), path="/api/v1/orders"), 422)


def test_unknown_order_is_404_problem(stack):
    r = requests.get(f"{stack.order}/api/v1/orders/{uuid.uuid4()}", timeout=HTTP_TIMEOUT)
    assert_problem(r, 404)
