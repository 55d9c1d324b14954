"""The operator console (services/console) in a real browser: Debian's headless Chromium
driven by Selenium through chromium-driver, against the e2e stack, with a Prometheus
(scripts/prometheus.sh) scraping it every second so the overview's charts have data.

The tests share one browser and run in file order: sign-in refused, sign-in, overview, an
order's page, order search, the DLQ dry run and replay; then what the page requested and
logged over all of them. Screenshots of each page go to the test's temporary folder, or to
ORDERFLOW_CONSOLE_SCREENSHOTS when set (the README's pictures come from there)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import ADMIN_TOKEN, ROOT
from support import HTTP_TIMEOUT, free_port, new_order, wait_until

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None or shutil.which("prometheus") is None,
    reason="chromium, chromium-driver or prometheus is not installed (make deps)")


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    """Prometheus on the port the console was told (conftest: ORDERFLOW_PROMETHEUS_PORT)."""
    env = dict(stack.env)
    env.update({
        "ORDERFLOW_PROMETHEUS_DIR": str(tmp_path_factory.mktemp("prometheus")),
        "ORDERFLOW_PROMETHEUS_SCRAPE_INTERVAL": "1s",
        "ORDERFLOW_ALERTMANAGER_PORT": str(free_port()),  # its alerts go nowhere
    })
    script = ROOT / "scripts" / "prometheus.sh"
    started = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    yield f"http://127.0.0.1:{env['ORDERFLOW_PROMETHEUS_PORT']}"
    subprocess.run([str(script), "stop"], env=env, capture_output=True, text=True)


class Browser:
    def __init__(self, driver: webdriver.Chrome, origin: str, shots: Path):
        self.driver = driver
        self.origin = origin
        self.shots = shots
        self.requests: list[str] = []  # every URL the page requested
        self.logs: list[dict] = []     # the browser's console log

    def drain(self) -> None:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
        self.logs.extend(self.driver.get_log("browser"))

    def go(self, fragment: str) -> None:
        self.drain()  # the driver keeps its logs until read: read them as we go
        self.driver.get(f"{self.origin}/{fragment}")

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, predicate, timeout: float = 30, message: str = "the page"):
        return wait_until(predicate, timeout, message, interval=0.2)

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def session_cookies(self) -> dict[str, str]:
        return {c["name"]: c["value"] for c in self.driver.get_cookies()}


@pytest.fixture(scope="module")
def browser(stack, prometheus, tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--disable-gpu", "--no-first-run", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The driver from Debian: Selenium Manager would try to download one (the network is off).
    os.environ["SE_OFFLINE"] = "true"
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    shots = Path(os.environ.get("ORDERFLOW_CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    # Before the first visit the browser shows its own new-tab page (chrome:// resources):
    # not the console's doing, so its log is dropped.
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    b = Browser(driver, stack.console, shots)
    yield b
    driver.quit()


def place(stack, token: str) -> str:
    r = requests.post(f"{stack.order}/place-order", json=new_order(token), timeout=HTTP_TIMEOUT)
    assert r.status_code == 202, r.text
    return r.json()["orderId"]


def final_status(stack, order_id: str) -> dict:
    def done():
        o = requests.get(f"{stack.order}/api/v1/orders/{order_id}", timeout=HTTP_TIMEOUT).json()
        return o if o["status"] != "PENDING" else None
    return wait_until(done, 60, f"order {order_id} to leave PENDING")


def test_sign_in_is_refused_with_a_wrong_token(stack, browser):
    assert requests.get(f"{stack.console}/api/overview", timeout=HTTP_TIMEOUT).status_code == 401
    browser.go("")
    token = browser.wait(lambda: browser.find("#token"), message="the sign-in form")
    token.send_keys("not-the-admin-token")
    browser.find("#signin button[type=submit]").click()
    browser.wait(lambda: "refused" in browser.find("#signin-error").text, message="the refusal")
    assert not browser.find("#nav").is_displayed()
    assert "orderflow_console" not in browser.session_cookies()
    browser.shot("sign-in")


def test_sign_in_with_the_admin_token_which_never_reaches_the_page(stack, browser):
    browser.find("#token").clear()
    browser.find("#token").send_keys(ADMIN_TOKEN)
    browser.find("#signin button[type=submit]").click()
    browser.wait(lambda: browser.find("#nav").is_displayed(), message="the signed-in page")
    assert "e2e-operator" in browser.find("#who").text
    assert not browser.find("#demo-banner").is_displayed()
    cookie = next(c for c in browser.driver.get_cookies() if c["name"] == "orderflow_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "orderflow_console" not in browser.driver.execute_script("return document.cookie")
    assert ADMIN_TOKEN not in browser.driver.page_source
    assert ADMIN_TOKEN not in browser.driver.execute_script(
        "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")


def test_the_overview_draws_charts_and_health_from_the_stack(stack, browser):
    for token in ("tok_visa", "tok_mastercard", "tok_chargeDeclined"):
        place(stack, token)
    browser.go("#/overview?minutes=1")  # a new stack's data fills the last minute, not the last ten

    # Points drawn, and not just an empty canvas: pixels in a series colour (the series
    # colours are saturated; the grid and the labels are grey).
    coloured_pixels = """
        const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
          if (d[i+3] > 0 && Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]) > 60) n++;
        return n;"""

    def drawn():
        canvas = browser.find("canvas[data-chart=orders]")
        points = int(canvas.get_attribute("data-points") or 0)
        top = float(canvas.get_attribute("data-max") or 0)
        coloured = browser.driver.execute_script(coloured_pixels, canvas)
        assert points >= 3 and top > 0 and coloured > 30, f"{points} points, max {top}, {coloured} coloured pixels"
        return True

    # Prometheus sees a counter's first increase only once it has scraped the series: orders
    # go on until the chart shows a rate above zero.
    def drawn_while_ordering():
        place(stack, "tok_visa")
        return drawn()

    wait_until(drawn_while_ordering, 90, "the orders chart to draw a rate above zero from Prometheus' data", interval=1)
    rows = browser.wait(lambda: [r.text for r in browser.all("#health-table tbody tr")], message="health")
    for name in ("order-service", "payment-service", "payment-gateway", "notification-service",
                 "alerting-service", "Kafka broker"):
        assert any(r.startswith(name) and "UP" in r for r in rows), rows
    browser.wait(lambda: int(browser.find("canvas[data-chart=payments]").get_attribute("data-points") or 0) > 0,
                 60, "the payments chart")
    Select(browser.find("#range")).select_by_value("10")  # the default range, chosen on the page
    browser.wait(lambda: "minutes=10" in browser.driver.current_url and
                 int(browser.find("canvas[data-chart=orders]").get_attribute("data-points") or 0) > 0,
                 message="the ten-minute charts")


def test_a_confirmed_orders_page_tells_its_whole_story(stack, browser):
    order_id = place(stack, "tok_visa")
    assert final_status(stack, order_id)["status"] == "CONFIRMED"
    browser.go(f"#/orders/{order_id}")

    def complete():
        browser.go(f"#/orders/{order_id}")
        browser.driver.refresh()
        browser.wait(lambda: browser.find("#events"), message="the order page")
        types = [r.get_attribute("data-type") for r in browser.all("#events tbody tr[data-type]")]
        notes = browser.all("#notifications tbody tr[data-outcome]")
        return {"OrderCreated", "PaymentSuccess", "OrderConfirmed"} <= set(types) and notes and types

    types = browser.wait(complete, 60, "its events and its email on the page")
    assert sorted(types) == ["OrderConfirmed", "OrderCreated", "PaymentSuccess"]
    assert browser.find("#order-status").text == "CONFIRMED"
    assert len(browser.all("#charges tbody tr[data-charge-id]")) == 1
    assert len(browser.all("#notifications tbody tr[data-outcome]")) == 1
    rows = browser.all("#events tbody tr[data-type]")
    assert all(len(r.find_elements(By.CSS_SELECTOR, "td.mono")) == 4 for r in rows)
    link = browser.find("#trace-link")
    trace_id = link.get_attribute("data-trace-id")
    assert link.get_attribute("href").startswith(stack.zipkin) and trace_id in link.get_attribute("href")
    spans = wait_until(lambda: requests.get(f"{stack.zipkin}/api/v2/trace/{trace_id}", timeout=HTTP_TIMEOUT).json(),
                       30, "Zipkin to know the trace")
    assert any(s.get("localEndpoint", {}).get("serviceName") == "order-service" for s in spans)
    browser.shot("order")


def test_orders_search_pages_with_a_cursor(stack, browser):
    customer = "c-console-pages"
    for _ in range(3):
        r = requests.post(f"{stack.order}/place-order", json=new_order(customerId=customer), timeout=HTTP_TIMEOUT)
        assert r.status_code == 202
    browser.go(f"#/orders?customerId={customer}&limit=2")
    first = browser.wait(lambda: [r.get_attribute("data-order-id") for r in browser.all("#orders-table tbody tr[data-order-id]")],
                         message="the first page")
    assert len(first) == 2
    browser.find("#next-page").click()
    second = browser.wait(lambda: [r.get_attribute("data-order-id") for r in browser.all("#orders-table tbody tr[data-order-id]")
                                   if r.get_attribute("data-order-id") not in first], message="the next page")
    assert len(second) == 1
    # A time window: orders placed from the second one on, and before any was placed.
    created = {o["orderId"]: o["createdAt"] for o in requests.get(
        f"{stack.order}/api/v1/orders", params={"customerId": customer}, timeout=HTTP_TIMEOUT).json()["items"]}
    oldest_first = sorted(created, key=created.get)
    window = {"customerId": customer, "createdAfter": created[oldest_first[1]]}
    r = requests.get(f"{stack.console}/api/orders", params=window, cookies=browser.session_cookies(),
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert sorted(o["orderId"] for o in r.json()["items"]) == sorted(oldest_first[1:])
    r = requests.get(f"{stack.console}/api/orders", params={"customerId": customer,
                                                            "createdBefore": created[oldest_first[0]]},
                     cookies=browser.session_cookies(), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = requests.get(f"{stack.console}/api/orders", params={"createdAfter": "yesterday"},
                     cookies=browser.session_cookies(), timeout=HTTP_TIMEOUT)
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["createdAfter"], r.text
    # The page's own filter: from the second order on.
    browser.go(f"#/orders?customerId={customer}&createdAfter={created[oldest_first[1]]}")
    browser.wait(lambda: sorted(r.get_attribute("data-order-id")
                                for r in browser.all("#orders-table tbody tr[data-order-id]")) == sorted(oldest_first[1:]),
                 message="exactly the orders placed in the window")
    assert browser.find("#q-from").get_attribute("value")
    browser.go("#/orders")
    browser.wait(lambda: browser.all("#orders-table tbody tr[data-order-id]"), message="the orders page")
    browser.shot("orders")


def test_a_dlq_replay_is_dry_run_first_and_does_what_it_predicted(stack, browser):
    order_id = place(stack, "tok_processingError")
    failed = final_status(stack, order_id)
    assert failed["status"] == "FAILED" and failed["failureReason"] == "payment-gateway-unavailable"
    cookies = browser.session_cookies()
    topic = "payment-service.dlq"

    def record_listed():
        browser.go(f"#/dlq/{topic}?order={order_id}")
        browser.driver.refresh()
        return browser.wait(lambda: browser.find("#dlq-table"), message="the DLQ table") and \
            browser.all(f"#dlq-table tr[data-order-id='{order_id}']")

    rows = browser.wait(record_listed, 60, "the order's record on the DLQ page")
    assert len(rows) == 1  # the filter by order id shows only its record
    partition, offset = rows[0].get_attribute("data-partition"), rows[0].get_attribute("data-offset")
    rows[0].find_element(By.CSS_SELECTOR, "input.pick").click()
    browser.find("#dry-run-selected").click()
    prediction = browser.wait(lambda: browser.find(f"#predictions tr[data-order-id='{order_id}']"), message="the dry run")
    assert prediction.get_attribute("data-goes-to") == "order-events"
    assert prediction.get_attribute("data-outcome") == "may-confirm"
    assert "CONFIRMED if the gateway" in prediction.text
    browser.shot("dlq")

    # A replay without the CSRF token is refused, session cookie or not.
    url = f"{stack.console}/api/dlq/{topic}/replay"
    body = {"offsets": [{"partition": int(partition), "offset": int(offset)}]}
    assert requests.post(url, json=body, cookies=cookies, timeout=HTTP_TIMEOUT).status_code == 403
    assert requests.post(url, json=body, cookies=cookies, headers={"X-CSRF-Token": "guess"},
                         timeout=HTTP_TIMEOUT).status_code == 403
    assert requests.post(url, json=body, timeout=HTTP_TIMEOUT).status_code == 401

    browser.find("#replay-confirm").click()
    result = browser.wait(lambda: browser.find("#replay-result").text, message="the replay's result")
    assert "1 record(s) re-published" in result
    audit = browser.wait(lambda: [r for r in browser.all("#audit-table tbody tr[data-dry-run=false]")
                                  if f"{partition}/{offset}" in r.text], message="the audit entry")
    assert audit

    # What the dry run said: the record goes back to order-events, and (the gateway still
    # failing for this token) comes back to the DLQ with the order still FAILED.
    def story():
        return requests.get(f"{stack.console}/api/orders/{order_id}", cookies=cookies, timeout=HTTP_TIMEOUT).json()

    replayed_from = f"{topic}:{partition}:{offset}"
    wait_until(lambda: any(e["topic"] == "order-events" and ["dlq-replayed-from", replayed_from] in e["headers"]
                           for e in story()["events"]), 30, "the replayed record on order-events")
    wait_until(lambda: len([e for e in story()["events"] if e["topic"] == topic]) == 2, 60,
               "the record back in the DLQ")
    assert story()["order"]["status"] == "FAILED"
    browser.go(f"#/orders/{order_id}")
    browser.wait(lambda: len(browser.all("#order-dlq tbody tr a")) == 2, message="both DLQ records on the order page")


def test_the_alerts_page_lists_alerts_linking_orders(stack, browser):
    browser.go("#/alerts")
    rows = browser.wait(lambda: [r for r in browser.all("#main table tbody tr[data-order-id]")
                                 if r.get_attribute("data-order-id")], message="the alerts")
    assert rows[0].find_elements(By.CSS_SELECTOR, "a[href^='#/orders/']")
    browser.shot("alerts")
    browser.go("#/overview?minutes=1")  # by now, a minute of orders, payments and DLQ records
    browser.wait(lambda: browser.find("canvas[data-chart=payments]").get_attribute("data-max") not in (None, "0"),
                 message="the overview")
    browser.shot("overview")


def test_the_page_talked_only_to_its_origin_and_logged_no_errors(stack, browser):
    browser.drain()
    origin = urlparse(stack.console)
    others = [u for u in browser.requests
              if not u.startswith("data:") and (urlparse(u).scheme, urlparse(u).netloc) != (origin.scheme, origin.netloc)]
    assert browser.requests and not others, others
    # The one expected failure: the refused sign-in's 401 (the network line Chrome logs for it).
    errors = [e for e in browser.logs if e["level"] == "SEVERE"
              and not (e.get("source") == "network" and "/api/session" in e["message"] and "401" in e["message"])]
    assert not errors, errors
    assert ADMIN_TOKEN not in browser.driver.page_source


def test_demo_mode_signs_in_by_itself_and_says_so(stack, browser, tmp_path):
    """A second console as `make up` starts one without credentials (its own consumer
    group, so the stack's console keeps its partitions)."""
    port = free_port()
    env = dict(stack.env)
    env.update({"ORDERFLOW_HTTP_PORT": str(port), "ORDERFLOW_DATA_DIR": str(tmp_path),
                "ORDERFLOW_CONSOLE_DEMO_SIGN_IN": "true", "ORDERFLOW_ADMIN_TOKEN": "",
                "ORDERFLOW_CONSUMER_GROUP": "console-demo-test",
                "ORDERFLOW_ORDER_URL": stack.order, "ORDERFLOW_ALERTING_URL": stack.alerting})
    proc = subprocess.Popen([str(Path(env["ORDERFLOW_BUILD_DIR"]) / "bin" / "console")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        demo = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{demo}/actuator/health", timeout=2).status_code == 200, 30,
                   "the demo console to be up")
        browser.driver.delete_all_cookies()
        browser.driver.get(f"{demo}/#/orders")
        browser.wait(lambda: browser.find("#demo-banner").is_displayed(), message="the demo banner")
        assert "automatically" in browser.find("#demo-banner").text
        assert "demo" in browser.find("#who").text
        browser.wait(lambda: browser.all("#orders-table"), message="the orders page, without signing in")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
