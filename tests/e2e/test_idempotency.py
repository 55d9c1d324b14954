"""(g) Idempotency-Key on POST /place-order (SPEC §2): a retry with the same key and body
returns the original order; the same key with another body is refused."""

import uuid

import requests

from support import HTTP_TIMEOUT, assert_problem, new_order


def place(stack, body, key):
    return requests.post(f"{stack.order}/place-order", json=body,
                         headers={"Idempotency-Key": key}, timeout=HTTP_TIMEOUT)


def test_same_key_same_body_returns_the_same_order(stack):
    key = f"e2e-{uuid.uuid4()}"
    body = new_order("tok_visa")
    first = place(stack, body, key)
    assert first.status_code == 202, first.text
    again = place(stack, body, key)
    assert again.status_code == 200, again.text
    assert again.json()["orderId"] == first.json()["orderId"]
    assert again.json()["totalAmount"] == first.json()["totalAmount"] == "25.00"

    # Only one order exists for that customer.
    r = requests.get(f"{stack.order}/api/v1/orders", params={"customerId": body["customerId"]},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    page = r.json()
    items = page if isinstance(page, list) else page.get("items", page.get("orders", page.get("data")))
    assert isinstance(items, list), f"unexpected page shape: {page}"
    assert [o["orderId"] for o in items] == [first.json()["orderId"]], page


def test_same_key_different_body_is_422(stack):
    key = f"e2e-{uuid.uuid4()}"
    body = new_order("tok_visa")
    first = place(stack, body, key)
    assert first.status_code == 202, first.text
    other = dict(body, items=[{"sku": "BOOK-1", "quantity": 3, "unitPrice": "12.50"}])
    assert_problem(place(stack, other, key), 422)
