"""The Docker deployment, checked without a Docker engine.

No container runs on the machines this suite runs on, so these tests check what can be
checked from the files: `docker-compose config` accepts deploy/docker-compose.yml and
resolves it; every orderflow service in it is the one image, has a health check on its own
port and the SPEC port on the host; every ORDERFLOW_* variable it sets is a setting some
service reads (a typo would silently do nothing); every file it mounts exists; the
Prometheus configuration it mounts is valid and scrapes exactly the compose services; the
Dockerfile builds every service binary and runs them as a non-root user.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# SPEC §1 / README ports of the five services.
SERVICE_PORTS = {
    "order-service": 8081,
    "notification-service": 8082,
    "alerting-service": 8083,
    "payment-service": 8087,
    "payment-gateway": 8090,
}
# With the operator console: the image's programs, each scraped by Prometheus.
APPS = SERVICE_PORTS | {"console": 8080}
INFRA = {"kafka", "postgres", "prometheus", "alertmanager", "grafana", "zipkin", "mailpit"}


@pytest.fixture(scope="module")
def compose() -> dict:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing (scripts/deps.sh installs Debian's docker-compose)"
    out = subprocess.run([exe, "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert out.returncode == 0, f"docker-compose config failed:\n{out.stderr}"
    return yaml.safe_load(out.stdout)


def settings_read_by_the_code() -> set[str]:
    """Every setting name the services read: settings.str("x-y", ...) and the like."""
    pattern = re.compile(r'settings_?\s*\.\s*(?:str|integer|boolean|number|duration|get)\w*\(\s*"([a-z0-9-]+)"')
    names: set[str] = set()
    for path in list((ROOT / "libs").rglob("*.cpp")) + list((ROOT / "services").rglob("*.cpp")):
        names.update(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    return names


def test_compose_has_the_system_and_its_infrastructure(compose):
    assert set(compose["services"]) == set(APPS) | INFRA


@pytest.mark.parametrize("name", sorted(APPS))
def test_each_service_is_the_one_image_with_its_port_and_health_check(compose, name):
    svc = compose["services"][name]
    port = APPS[name]
    assert svc["command"] == [name]
    assert Path(svc["build"]["context"]).resolve() == ROOT
    assert svc["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    assert str(svc["environment"]["ORDERFLOW_HTTP_PORT"]) == str(port)
    published = {(int(p["published"]), int(p["target"])) if isinstance(p, dict)
                 else tuple(int(x) for x in str(p).split(":")[-2:]) for p in svc["ports"]}
    assert (port, port) in published
    test = " ".join(svc["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/actuator/health" in test
    if name != "payment-gateway":
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert svc["environment"]["ORDERFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_every_orderflow_variable_is_a_setting_the_code_reads(compose):
    known = settings_read_by_the_code()
    assert "kafka-bootstrap" in known and "http-port" in known  # the scan itself works
    unknown = set()
    for name in APPS:
        for var in compose["services"][name]["environment"]:
            assert var.startswith("ORDERFLOW_"), var
            key = var.removeprefix("ORDERFLOW_").lower().replace("_", "-")
            if key not in known:
                unknown.add(var)
    for var in re.findall(r"\b(ORDERFLOW_\w+)=", DOCKERFILE.read_text()):
        if var.removeprefix("ORDERFLOW_").lower().replace("_", "-") not in known:
            unknown.add(var)
    assert not unknown, f"set for the image but read by no service: {sorted(unknown)}"


def test_every_mounted_file_exists(compose):
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            if isinstance(vol, dict):
                kind, source = vol.get("type"), vol.get("source", "")
            else:
                source = str(vol).split(":")[0]
                kind = "bind" if source.startswith(("/", ".")) else "volume"
            if kind == "bind":
                assert Path(source).exists(), f"{name} mounts {source}, which does not exist"


def test_prometheus_config_is_valid_and_scrapes_the_compose_services(compose):
    prom = compose["services"]["prometheus"]
    config_arg = next(a for a in prom["command"] if a.startswith("--config.file="))
    in_container = config_arg.split("=", 1)[1]
    host_file = next(Path(str(v).split(":")[0]) if not isinstance(v, dict) else Path(v["source"])
                     for v in prom["volumes"]
                     if (v["target"] if isinstance(v, dict) else str(v).split(":")[1]) == in_container)
    check = subprocess.run(["promtool", "check", "config", str(host_file)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(host_file.read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{port}" for name, port in APPS.items()}


def test_alertmanager_config_is_valid_and_prometheus_sends_to_it(compose):
    am = compose["services"]["alertmanager"]
    config_arg = next(a for a in am["command"] if a.startswith("--config.file="))
    in_container = config_arg.split("=", 1)[1]
    host_file = next(Path(v["source"]) if isinstance(v, dict) else Path(str(v).split(":")[0])
                     for v in am["volumes"]
                     if (v["target"] if isinstance(v, dict) else str(v).split(":")[1]) == in_container)
    check = subprocess.run(["amtool", "check-config", str(host_file)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(host_file.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    receiver = receivers[config["route"]["receiver"]]
    assert config["global"]["smtp_smarthost"] == "mailpit:1025"
    assert [w["url"] for w in receiver["webhook_configs"]] == ["http://alerting-service:8083/api/v1/alertmanager"]
    assert all(c.get("send_resolved") for c in receiver["email_configs"] + receiver["webhook_configs"])
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus-docker.yml").read_text())
    targets = [t for am_cfg in prom["alerting"]["alertmanagers"] for sc in am_cfg["static_configs"] for t in sc["targets"]]
    assert targets == ["alertmanager:9093"]
    assert compose["services"]["prometheus"]["depends_on"]["alertmanager"]["condition"] == "service_healthy"


def test_grafana_gets_the_dashboards_and_a_datasource_pointing_at_prometheus(compose):
    grafana = compose["services"]["grafana"]
    mounts = {(v["target"] if isinstance(v, dict) else str(v).split(":")[1]):
              Path(v["source"] if isinstance(v, dict) else str(v).split(":")[0])
              for v in grafana["volumes"]}
    datasources = mounts["/etc/grafana/provisioning/datasources"]
    urls = [ds["url"] for f in datasources.glob("*.yml") for ds in yaml.safe_load(f.read_text())["datasources"]]
    assert urls == ["http://prometheus:9090"]
    provider = yaml.safe_load((mounts["/etc/grafana/provisioning/dashboards"] / "orderflow.yml").read_text())
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert dashboards_path in mounts, "the dashboard provider reads a folder nothing is mounted on"
    assert list(mounts[dashboards_path].glob("*.json")), "no dashboard JSON in the mounted folder"


def test_dockerfile_is_multi_stage_debian_and_runs_every_service_as_non_root():
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(froms) >= 2 and all(f.startswith("debian:bookworm") for f in froms), froms
    final_stage = text.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), users
    executables = set()
    for cmake in (ROOT / "services").glob("*/CMakeLists.txt"):
        executables.update(re.findall(r"add_executable\(\s*([\w-]+)", cmake.read_text()))
    assert executables == set(APPS)
    for exe in executables:
        assert f"build/release/bin/{exe}" in text, f"the image does not ship {exe}"
