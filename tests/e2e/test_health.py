"""(f) Every service reports UP, with the components it really depends on (SPEC §3)."""

import pytest
import requests

from support import HTTP_TIMEOUT

# Which components each service must report: every Kafka client checks the broker, every
# stateful service its SQLite database. Anything else it reports must be UP as well.
REQUIRED_COMPONENTS = {
    "order-service": {"kafka", "db"},
    "payment-service": {"kafka"},
    "notification-service": {"kafka", "db"},
    "alerting-service": {"kafka", "db"},
    "payment-gateway": set(),
}


@pytest.mark.parametrize("service", sorted(REQUIRED_COMPONENTS))
def test_health_is_up_with_components(stack, service):
    r = requests.get(f"{stack.urls[service]}/actuator/health", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/"), r.headers
    body = r.json()
    assert body["status"] == "UP", body
    components = body.get("components", {})
    missing = REQUIRED_COMPONENTS[service] - set(components)
    assert not missing, f"{service} health lacks components {missing}: {body}"
    for name, component in components.items():
        assert component.get("status") == "UP", f"{service} component {name}: {component}"


@pytest.mark.parametrize("probe", ["liveness", "readiness"])
@pytest.mark.parametrize("service", sorted(REQUIRED_COMPONENTS))
def test_liveness_and_readiness(stack, service, probe):
    r = requests.get(f"{stack.urls[service]}/actuator/health/{probe}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "UP"
