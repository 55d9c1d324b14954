"""The order API with authentication on (its default outside demo mode): order-service is
restarted for this module with API keys (stored as SHA-256 hashes), HS256 JSON Web Tokens
and a per-client rate limit, and put back in demo mode afterwards. Checks: no or wrong
credentials are 401 problems with WWW-Authenticate; a customer places and sees only its
own orders (another customer's is a 404, a foreign customerId a 403); an admin key sees
all; JWTs with alg "none", a bad signature, an expired exp, a future nbf or a foreign
audience are refused; a client over its rate gets 429 with Retry-After while others go on;
an order placed with credentials still flows to CONFIRMED."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from support import HTTP_TIMEOUT, assert_problem, new_order, wait_until

JWT_SECRET = "e2e-hs256-secret-0123456789abcdef0123"
JWT_ISSUER = "https://id.orderflow.test"
JWT_AUDIENCE = "orderflow-api"
ADMIN_KEY = "ofk_admin_" + uuid.uuid4().hex
CUSTOMER_A, CUSTOMER_B = f"c-auth-a-{uuid.uuid4().hex[:8]}", f"c-auth-b-{uuid.uuid4().hex[:8]}"
KEY_A, KEY_B, FLOOD_KEY = ("ofk_" + uuid.uuid4().hex for _ in range(3))
RATE_RPS, RATE_BURST = 5, 20
STACK = Path(__file__).resolve().parents[2] / "scripts" / "stack.sh"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict, alg: str = "HS256", secret: str = JWT_SECRET) -> str:
    signing_input = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64url(json.dumps(claims).encode())
    if alg == "none":
        return signing_input + "."
    return signing_input + "." + b64url(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


def claims(sub: str, **extra) -> dict:
    now = int(time.time())
    return {"sub": sub, "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": now, "exp": now + 300, **extra}


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@pytest.fixture(scope="module")
def secured(stack):
    """order-service with authentication and rate limits on; demo mode again afterwards."""
    secured_env = dict(stack.env)
    secured_env.update({
        "ORDERFLOW_AUTH_MODE": "required",
        "ORDERFLOW_API_KEYS": ",".join([
            f"e2e-backend:admin:{sha256(ADMIN_KEY)}",
            f"shop-a:customer={CUSTOMER_A}:{sha256(KEY_A)}",
            f"shop-b:customer={CUSTOMER_B}:{sha256(KEY_B)}",
            f"flood:customer=c-flood:{sha256(FLOOD_KEY)}",
        ]),
        "ORDERFLOW_JWT_HS256_SECRET": JWT_SECRET,
        "ORDERFLOW_JWT_ISSUER": JWT_ISSUER,
        "ORDERFLOW_JWT_AUDIENCE": JWT_AUDIENCE,
        "ORDERFLOW_RATE_LIMIT_RPS": str(RATE_RPS),
        "ORDERFLOW_RATE_LIMIT_BURST": str(RATE_BURST),
    })

    def run(action: str, env: dict) -> None:
        result = subprocess.run([str(STACK), action, "order-service"], env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"stack.sh {action} order-service:\n{result.stdout}\n{result.stderr}"

    run("down", stack.env)
    run("up", secured_env)
    yield stack
    run("down", secured_env)
    run("up", stack.env)


def place(stack, customer: str, headers: dict) -> requests.Response:
    return requests.post(f"{stack.order}/place-order", json=new_order(customerId=customer),
                         headers=headers, timeout=HTTP_TIMEOUT)


def get(stack, order_id: str, headers: dict) -> requests.Response:
    return requests.get(f"{stack.order}/api/v1/orders/{order_id}", headers=headers, timeout=HTTP_TIMEOUT)


def test_no_credentials_is_401_with_a_bearer_challenge(secured):
    r = place(secured, CUSTOMER_A, {})
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(requests.get(f"{secured.order}/api/v1/orders", timeout=HTTP_TIMEOUT), 401)


def test_a_wrong_api_key_or_scheme_is_401(secured):
    r = place(secured, CUSTOMER_A, bearer("ofk_not_a_key"))
    assert_problem(r, 401)
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert_problem(place(secured, CUSTOMER_A, {"Authorization": f"Basic {KEY_A}"}), 401)
    assert_problem(place(secured, CUSTOMER_A, {"X-API-Key": KEY_A + "x"}), 401)


def test_customers_place_and_see_only_their_own_orders(secured):
    r = place(secured, CUSTOMER_A, bearer(KEY_A))
    assert r.status_code == 202, r.text
    order_id = r.json()["orderId"]
    assert get(secured, order_id, {"X-API-Key": KEY_A}).status_code == 200
    assert_problem(get(secured, order_id, bearer(KEY_B)), 404)
    assert get(secured, order_id, bearer(ADMIN_KEY)).json()["customerId"] == CUSTOMER_A
    # Placing for someone else is refused, naming the field.
    problem = assert_problem(place(secured, CUSTOMER_A, bearer(KEY_B)), 403)
    assert "customerId" in json.dumps(problem)
    # Lists are scoped to the caller, whatever it asks for.
    r = requests.get(f"{secured.order}/api/v1/orders", params={"customerId": CUSTOMER_A},
                     headers=bearer(KEY_B), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert all(o["customerId"] == CUSTOMER_B for o in r.json()["items"]), r.text
    r = requests.get(f"{secured.order}/api/v1/orders", params={"customerId": CUSTOMER_A},
                     headers=bearer(KEY_A), timeout=HTTP_TIMEOUT)
    assert order_id in [o["orderId"] for o in r.json()["items"]]


def test_an_authenticated_order_still_flows_to_confirmed(secured):
    r = place(secured, CUSTOMER_A, bearer(KEY_A))
    assert r.status_code == 202, r.text
    order_id = r.json()["orderId"]
    wait_until(lambda: get(secured, order_id, bearer(KEY_A)).json()["status"] == "CONFIRMED", 60,
               "the order placed with an API key is confirmed")


def test_idempotency_keys_are_per_client(secured):
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    a = place(secured, CUSTOMER_A, {**bearer(KEY_A), **key})
    b = place(secured, CUSTOMER_B, {**bearer(KEY_B), **key})
    assert a.status_code == b.status_code == 202, (a.text, b.text)
    assert a.json()["orderId"] != b.json()["orderId"]


def test_a_valid_jwt_names_its_customer(secured):
    token = jwt(claims(CUSTOMER_A))
    r = place(secured, CUSTOMER_A, bearer(token))
    assert r.status_code == 202, r.text
    assert get(secured, r.json()["orderId"], bearer(KEY_A)).status_code == 200
    assert_problem(place(secured, CUSTOMER_B, bearer(token)), 403)
    admin = jwt(claims("ops-console", roles=["admin"]))
    assert get(secured, r.json()["orderId"], bearer(admin)).status_code == 200


@pytest.mark.parametrize("name,token", [
    ("alg none", jwt(claims(CUSTOMER_A), alg="none")),
    ("alg HS512", jwt(claims(CUSTOMER_A), alg="HS512")),
    ("wrong secret", jwt(claims(CUSTOMER_A), secret="another-secret-0123456789abcdef0123")),
    ("expired", jwt(claims(CUSTOMER_A, exp=int(time.time()) - 600))),
    ("not yet valid", jwt(claims(CUSTOMER_A, nbf=int(time.time()) + 600))),
    ("foreign audience", jwt(claims(CUSTOMER_A, aud="another-api"))),
    ("foreign issuer", jwt(claims(CUSTOMER_A, iss="https://evil.example"))),
])
def test_bad_jwts_are_401(secured, name, token):
    r = place(secured, CUSTOMER_A, bearer(token))
    assert_problem(r, 401)
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"], name


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_go_on(secured):
    url = f"{secured.order}/api/v1/orders"
    statuses = []
    for _ in range(RATE_BURST + 15):
        r = requests.get(url, headers=bearer(FLOOD_KEY), timeout=HTTP_TIMEOUT)
        statuses.append(r.status_code)
        if r.status_code == 429:
            problem = assert_problem(r, 429)
            assert int(r.headers["Retry-After"]) >= 1, problem
            break
    assert 429 in statuses, f"no 429 after {len(statuses)} quick requests: {statuses}"
    assert statuses.count(200) >= RATE_BURST - 1, statuses
    assert requests.get(url, headers=bearer(KEY_B), timeout=HTTP_TIMEOUT).status_code == 200
    wait_until(lambda: requests.get(url, headers=bearer(FLOOD_KEY), timeout=HTTP_TIMEOUT).status_code == 200,
               10, "the flooding client is let in again once its bucket refills")
