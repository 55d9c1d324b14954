"""Damaged state (issue 15, part 2): each service binary, started on a damaged store, refuses
to start. It exits non-zero with one line that names the file or schema, says what is wrong
and what to do, and leaves the store exactly as it was.

  - SQLite: a file truncated to half, truncated to nothing, overwritten with bytes that are
    not a database; each service's own file and payment-service's parking store;
  - a store at a newer migration than the binary knows: a SQLite file's user_version, and a
    PostgreSQL schema's schema_version (on the server at ORDERFLOW_TEST_DATABASE_URL or
    ORDERFLOW_DATABASE_URL; skipped without one — scripts/test.sh sets it).

The services are run directly (not through scripts/stack.sh), each in a data folder of its
own, next to the e2e stack (whose Kafka they are pointed at)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from support import free_port

SERVICES = ["order-service", "payment-service", "notification-service", "alerting-service", "payment-gateway"]
START_TIMEOUT_S = 60


def run_service(stack, service: str, data_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    env = dict(stack.env)
    env.update({"ORDERFLOW_HTTP_PORT": str(free_port()), "ORDERFLOW_DATA_DIR": str(data_dir),
                "ORDERFLOW_MAIL_DIR": str(data_dir / "mail"), "ORDERFLOW_GATEWAY_URL": stack.gateway,
                # Never a member of the stack's consumer groups, should it get that far.
                "ORDERFLOW_CONSUMER_GROUP": f"damaged-state-{uuid.uuid4().hex[:8]}"})
    env.pop("ORDERFLOW_DATABASE_URL", None)
    env.update(extra)
    binary = Path(env["ORDERFLOW_BUILD_DIR"]) / "bin" / service
    # A service that starts despite the damage would serve until killed: the timeout fails
    # the test instead of hanging it.
    try:
        return subprocess.run([str(binary)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{service} kept running on a damaged store for {START_TIMEOUT_S}s:\n{exc.stderr}")


def assert_refused(result: subprocess.CompletedProcess, service: str, names: str, *says: str) -> str:
    """Non-zero exit and one line about the store: the last one, naming it."""
    output = (result.stderr + result.stdout).strip()
    assert result.returncode != 0, f"{service} exited 0 on a damaged store:\n{output}"
    lines = [line for line in output.splitlines() if names in line]
    assert len(lines) == 1, f"expected one line naming {names}, got {len(lines)}:\n{output}"
    line = lines[0]
    assert output.splitlines()[-1] == line, f"the refusal is not the last line:\n{output}"
    assert line.startswith(f"{service}: "), line
    for text in says:
        assert text in line, f"{text!r} missing from: {line}"
    print(f"{service} (exit {result.returncode}): {line}")
    return line


def valid_sqlite_store(path: Path, pages: int = 40) -> None:
    """A real SQLite file with some content (not one of ours: the service's migrations then
    fail only after the damage check, which is what these tests exercise first)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT)")
    db.executemany("INSERT INTO filler (v) VALUES (?)", [("x" * 1000,) for _ in range(pages * 4)])
    db.commit()
    db.close()


def damage(path: Path, how: str) -> None:
    content = path.read_bytes()
    if how == "truncated":
        path.write_bytes(content[: len(content) // 2])
    elif how == "empty":
        path.write_bytes(b"")
        # Truncated while the service was down (an empty file seconds old may be another
        # replica creating it: libs/storage lets that one be).
        an_hour_ago = time.time() - 3600
        os.utime(path, (an_hour_ago, an_hour_ago))
    elif how == "not-a-database":
        path.write_bytes(b"this was a database once\n" * (len(content) // 25))
    else:
        raise AssertionError(how)


def store_file(service: str, data_dir: Path) -> Path:
    return data_dir / f"{service}.db"


@pytest.mark.parametrize("how", ["truncated", "empty", "not-a-database"])
@pytest.mark.parametrize("service", SERVICES)
def test_a_service_refuses_a_damaged_sqlite_file(stack, tmp_path, service, how):
    path = store_file(service, tmp_path)
    valid_sqlite_store(path)
    damage(path, how)
    before = path.read_bytes()
    result = run_service(stack, service, tmp_path)
    assert_refused(result, service, str(path), "is damaged", "refusing to use it", "Restore it from a backup",
                   "empty" if how == "empty" else "")
    assert path.read_bytes() == before, "the damaged file was changed"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_payment_service_refuses_a_damaged_parking_store(stack, tmp_path):
    """The parking store (libs/kafka) is a SQLite file too, opened through libs/storage."""
    path = tmp_path / "payment-service-parking.db"
    valid_sqlite_store(path)
    damage(path, "truncated")
    before = path.read_bytes()
    result = run_service(stack, "payment-service", tmp_path)
    assert_refused(result, "payment-service", str(path), "is damaged", "Restore it from a backup")
    assert path.read_bytes() == before


@pytest.mark.parametrize("service", ["order-service", "payment-gateway"])
def test_a_service_refuses_a_sqlite_store_from_a_newer_release(stack, tmp_path, service):
    path = store_file(service, tmp_path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")  # as every release leaves its files
    db.execute("CREATE TABLE from_the_future (id INTEGER PRIMARY KEY)")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    before = path.read_bytes()
    result = run_service(stack, service, tmp_path)
    assert_refused(result, service, str(path), "schema version 99", "this binary knows only versions up to",
                   "Run that release (or a newer one)")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 99
    assert path.read_bytes() == before


def _postgres_server_url() -> str | None:
    for var in ("ORDERFLOW_TEST_DATABASE_URL", "ORDERFLOW_DATABASE_URL"):
        url = os.environ.get(var, "")
        if url.startswith(("postgresql://", "postgres://")):
            return url
    return None


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-XAtqv", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    assert result.returncode == 0, f"psql {sql!r}: {result.stderr}"
    return result.stdout.strip()


@pytest.fixture
def fresh_postgres_database():
    """A database of its own on the test server (the services' schema names are fixed)."""
    server = _postgres_server_url()
    if server is None:
        pytest.skip("no PostgreSQL: set ORDERFLOW_TEST_DATABASE_URL (scripts/test.sh does)")
    name = f"orderflow_damaged_{uuid.uuid4().hex[:8]}"
    _psql(server, f"CREATE DATABASE {name}")
    parts = urlsplit(server)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    _psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_service_refuses_a_postgres_schema_from_a_newer_release(stack, tmp_path, fresh_postgres_database):
    url = fresh_postgres_database
    # payment-gateway needs no Kafka: started once to create its schema, then "upgraded".
    _psql(url, "CREATE SCHEMA payment_gateway; CREATE TABLE payment_gateway.schema_version (version BIGINT NOT NULL);"
               "INSERT INTO payment_gateway.schema_version VALUES (99)")
    result = run_service(stack, "payment-gateway", tmp_path, ORDERFLOW_DATABASE_URL=url)
    assert_refused(result, "payment-gateway", 'PostgreSQL schema "payment_gateway"', "schema version 99",
                   "this binary knows only versions up to", "Run that release (or a newer one)")
    assert _psql(url, "SELECT version FROM payment_gateway.schema_version") == "99"
    assert _psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'payment_gateway'") == "1", \
        "the binary created tables in a schema it does not know"
