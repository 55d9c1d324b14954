#!/usr/bin/env python3
"""orderflow benchmark driver (make bench).

Measures, in one run on this machine:
  baselines  F  fdatasync/s of the disk under the run folder
             S  the order store alone (order-store-bench: group commit, by orders in flight)
             K  Kafka's own ProducerPerformance / ConsumerPerformance, acks=all, idempotent,
                at the size of an OrderCreated record
             H  a hello-world handler on the same runtime/HTTP server (orderflow-hello)
  the stack  T1 confirmed orders/s (closed loop, every accepted order confirmed?)
             L1 HTTP accept latency, L2 placed -> OrderConfirmed, at fractions of T1 (open loop)
             CPU-seconds per order and peak RSS (VmHWM) of each service
and prints a table with each figure next to its baseline, writes bench/results/latest.json
and bench/results/latest.png. Benchmarks report; they never fail on speed.

It starts what it needs: the Kafka broker (scripts/kafka.sh, unless one answers at
ORDERFLOW_KAFKA_BOOTSTRAP) and its own copy of the stack (scripts/stack.sh) on free ports
in a fresh run folder, and stops what it started.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import peer  # the Spring Boot peer (--peer)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BROKER = "kafka broker"
TOOLS_CACHE = Path.home() / ".cache" / "orderflow"  # Kafka's perf tools, fetched once
SERVICES = ["payment-gateway", "payment-service", "order-service", "notification-service", "alerting-service"]
PORT_VARS = {
    "order-service": "ORDERFLOW_ORDER_HTTP_PORT",
    "payment-service": "ORDERFLOW_PAYMENT_HTTP_PORT",
    "notification-service": "ORDERFLOW_NOTIFICATION_HTTP_PORT",
    "alerting-service": "ORDERFLOW_ALERTING_HTTP_PORT",
    "payment-gateway": "ORDERFLOW_GATEWAY_HTTP_PORT",
}
# An OrderCreated record as order-service writes it: ~480 bytes of JSON value, plus
# ~300 bytes of CloudEvents headers and a 36-byte key. Kafka's perf tool sends values only.
RECORD_SIZE = 512
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001
        return False


def wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------------- process stats
def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def listener_pid(bootstrap: str) -> int | None:
    """The pid of the process listening on the bootstrap port (the broker), when visible."""
    port = bootstrap.rsplit(":", 1)[-1]
    try:
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for part in out.split("pid=")[1:]:
        digits = part.split(",", 1)[0]
        if digits.isdigit():
            return int(digits)
    return None


class ProcStats:
    """CPU seconds between snapshots, and peak RSS (VmHWM), per named process."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def cpu(self) -> dict[str, float]:
        out = {}
        for name, pid in self.pids.items():
            try:
                out[name] = proc_cpu_seconds(pid)
            except OSError:
                out[name] = float("nan")
        return out

    def peak_rss(self) -> dict[str, int]:
        return {name: proc_status(pid, "VmHWM") for name, pid in self.pids.items()}


def thread_table(pid: int) -> dict[str, dict]:
    """Per thread name of a process: how many threads, their CPU seconds and context switches
    (voluntary + involuntary), from /proc/<pid>/task. librdkafka names its threads rdk:*."""
    out: dict[str, dict] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            status = (task / "status").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
        group = "rdk:*" if name.startswith("rdk:") else name
        t = out.setdefault(group, {"threads": 0, "cpu_s": 0.0, "switches": 0})
        t["threads"] += 1
        t["cpu_s"] += (int(fields[11]) + int(fields[12])) / tick
        t["switches"] += switches
    return out


def thread_delta(before: dict[str, dict], after: dict[str, dict], orders: int) -> dict[str, dict]:
    """Per thread name: threads (at the end), CPU us and context switches per order between two
    thread_table snapshots."""
    out = {}
    for name, a in after.items():
        b = before.get(name, {"cpu_s": 0.0, "switches": 0})
        out[name] = {"threads": a["threads"], "cpu_us_per_order": (a["cpu_s"] - b["cpu_s"]) / orders * 1e6,
                     "switches_per_order": (a["switches"] - b["switches"]) / orders}
    return out


def batch_totals(stack: "Stack") -> dict[str, dict[str, list[float]]]:
    """Per service and consumer loop: [batches, records] so far, from the loops' histogram
    kafka_consumer_batch_records{consumer} on each service's /metrics."""
    out: dict[str, dict[str, list[float]]] = {}
    for svc in SERVICES:
        try:
            with urllib.request.urlopen(f"http://{stack.urls[svc]}/actuator/prometheus", timeout=5) as resp:
                text = resp.read().decode()
        except OSError:
            continue
        for m in re.finditer(r'^kafka_consumer_batch_records_(count|sum)\{consumer="([^"]+)"\} (\S+)$', text, re.M):
            pair = out.setdefault(svc, {}).setdefault(m.group(2), [0.0, 0.0])
            pair[0 if m.group(1) == "count" else 1] = float(m.group(3))
    return out


def order_counts(stack: "Stack") -> tuple[int, int] | None:
    """(orders placed, orders final) so far by order-service's own count (orders_total by the
    status each order entered: PENDING; CONFIRMED or FAILED), from its /actuator/prometheus."""
    try:
        with urllib.request.urlopen(f"http://{stack.urls['order-service']}/actuator/prometheus", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    by = {m.group(1): float(m.group(2)) for m in re.finditer(r'^orders_total\{status="([^"]+)"\} (\S+)$', text, re.M)}
    return int(by.get("PENDING", 0)), int(by.get("CONFIRMED", 0) + by.get("FAILED", 0))


def broker_requests(bootstrap: str) -> dict[str, float]:
    """Requests the broker has served so far, by type (Produce, Fetch, ...), from its JMX
    exporter (scripts/kafka.sh: the Kafka port - 2021, ORDERFLOW_KAFKA_JMX_PORT); empty when
    the broker has none (started otherwise)."""
    port = int(os.environ.get("ORDERFLOW_KAFKA_JMX_PORT", int(bootstrap.rsplit(":", 1)[1]) - 2021))
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except (OSError, ValueError):
        return out
    for m in re.finditer(r'^kafka_network_requests_total\{request="([^"]+)",[^}]*\} (\S+)$', text, re.M):
        out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def requests_per_order(before: dict[str, float], after: dict[str, float], orders: int) -> dict[str, float]:
    """Broker requests per confirmed order between two broker_requests(): Produce, Fetch and all."""
    if not before or not after:
        return {}
    # The broker counts every fetch as "Fetch" and again as "FetchConsumer" or "FetchFollower".
    delta = {k: v - before.get(k, 0.0) for k, v in after.items() if k not in ("FetchConsumer", "FetchFollower")}
    return {"Produce": delta.get("Produce", 0.0) / orders, "Fetch": delta.get("Fetch", 0.0) / orders,
            "all": sum(delta.values()) / orders}


def records_per_batch(before: dict, after: dict) -> dict[str, float]:
    """Mean records per poll batch between two batch_totals(), per "service/consumer"."""
    out = {}
    for svc, loops in after.items():
        for loop, (batches, records) in loops.items():
            b0, r0 = before.get(svc, {}).get(loop, [0.0, 0.0])
            if batches > b0:
                out[f"{svc}/{loop}"] = (records - r0) / (batches - b0)
    return out


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of every CPU since boot, from /proc/stat (idle and iowait are not busy)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


# ---------------------------------------------------------------------------- baselines
def fdatasync_rate(folder: Path, seconds: float) -> dict:
    """Appends 4 KiB and fdatasync()s, as a WAL commit does; returns syncs per second."""
    path = folder / "fdatasync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"x" * 4096
    n = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            os.write(fd, block)
            os.fdatasync(fd)
            n += 1
    finally:
        os.close(fd)
        path.unlink()
    elapsed = time.monotonic() - start
    return {"syncs_per_s": n / elapsed, "mean_us": elapsed / n * 1e6, "seconds": elapsed, "folder": str(folder)}


def store_bench(bin_dir: Path, folder: Path, quick: bool) -> dict | None:
    exe = bin_dir / "order-store-bench"
    if not exe.exists():
        log("order-store-bench not built (libbenchmark-dev missing): skipped")
        return None
    args = [str(exe), "--benchmark_format=json", f"--benchmark_min_time={'0.3' if quick else '2'}"]
    if quick:
        args.append("--benchmark_filter=BM_PlaceOrderCommit/(1|64|1024)/")
    env = dict(os.environ, ORDERFLOW_BENCH_DIR=str(folder))
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    rows = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        in_flight = int(b["name"].split("/")[1])
        rows[in_flight] = {"orders_per_s": b["items_per_second"], "orders_per_txn": b.get("orders_per_txn"),
                           "fsyncs_per_s": b.get("fsyncs_per_s"), "us_per_batch": b["real_time"]}
    return {"by_in_flight": rows, "best_orders_per_s": max(r["orders_per_s"] for r in rows.values())}


def kafka_tools_classpath(cache: Path) -> str:
    """Kafka's perf tools from Maven Central (bench/kafka-tools/pom.xml), like scripts/kafka.sh."""
    pom = ROOT / "bench" / "kafka-tools" / "pom.xml"
    import hashlib

    key = hashlib.sha1(pom.read_bytes()).hexdigest()[:12]
    cp_file = cache / f"kafka-tools-classpath-{key}.txt"
    if not cp_file.exists():
        log("fetching Kafka's perf tools with Maven (once; cached in ~/.m2)")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cp_file.with_suffix(".tmp")
        subprocess.run(["mvn", "-B", "-q", "-f", str(pom), "dependency:build-classpath",
                        "-Dmdep.includeScope=runtime", f"-Dmdep.outputFile={tmp}"], check=True,
                       stdout=subprocess.DEVNULL)
        tmp.rename(cp_file)
    return cp_file.read_text().strip()


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    for f in futures.values():
        f.result(timeout=30)


def children_cpu_seconds() -> float:
    """CPU seconds of every child process this driver has waited for (the load generator's, the Kafka tools')."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def kafka_baseline(bootstrap: str, cache: Path, records: int, partitions: int) -> dict:
    cp = kafka_tools_classpath(cache)
    broker = listener_pid(bootstrap)
    topic = f"bench-perf-{int(time.time())}"
    create_topic(bootstrap, topic, partitions)
    # The same producer settings as libs/kafka/producer.cpp: idempotent, acks=all, lz4, no linger.
    props = ["bootstrap.servers=" + bootstrap, "acks=all", "enable.idempotence=true", "linger.ms=0",
             "compression.type=lz4"]
    java = ["java", "-Xmx256m", "-Dlog4j.configuration=file:/dev/null", "-cp", cp]
    broker_cpu0 = proc_cpu_seconds(broker) if broker else None
    p = subprocess.run(java + ["org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                               "--num-records", str(records), "--record-size", str(RECORD_SIZE),
                               "--throughput", "-1", "--producer-props", *props],
                       capture_output=True, text=True, check=True)
    last = [line for line in p.stdout.splitlines() if "records sent" in line][-1]
    m = re.search(r"([\d.]+) records/sec .*?([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, "
                  r"(\d+) ms 95th, (\d+) ms 99th", last)
    produce = {"records_per_s": float(m.group(1)), "avg_ms": float(m.group(2)), "p50_ms": int(m.group(4)),
               "p99_ms": int(m.group(6)), "line": last.strip()}
    broker_cpu1 = proc_cpu_seconds(broker) if broker else None
    if broker_cpu0 is not None:
        # What the broker spends to take one record in (and, below, to hand one out) at the
        # tools' batching: a floor for any client of the same records on this machine.
        produce["broker_cpu_us_per_record"] = (broker_cpu1 - broker_cpu0) / records * 1e6
    c = subprocess.run(java + ["org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap,
                               "--topic", topic, "--messages", str(records), "--timeout", "60000"],
                       capture_output=True, text=True, check=True)
    lines = [line for line in c.stdout.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = [v.strip() for v in lines[-1].split(",")]
    row = dict(zip(header, values))
    consume = {"records_per_s": float(row["nMsg.sec"]), "fetch_records_per_s": float(row["fetch.nMsg.sec"])}
    if broker_cpu1 is not None:
        consume["broker_cpu_us_per_record"] = (proc_cpu_seconds(broker) - broker_cpu1) / records * 1e6
    return {"topic": topic, "record_size": RECORD_SIZE, "records": records, "partitions": partitions,
            "produce": produce, "consume": consume}


# ---------------------------------------------------------------------------- load generator
def loadgen(bin_dir: Path, target: str, label: str, rate: float, duration: float, connections: int,
            kafka: str | None = None, warmup: float = 1.0, drain: float = 30, max_requests: int = 0) -> dict:
    args = [str(bin_dir / "orderflow-loadgen"), "--target", target, "--rate", str(rate), "--duration",
            str(duration), "--warmup", str(warmup), "--connections", str(connections), "--label", label,
            "--drain", str(drain), "--max-requests", str(max_requests)]
    if kafka:
        args += ["--kafka", kafka]
    out = subprocess.run(args, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def hello_baseline(bin_dir: Path, quick: bool, connections: int) -> dict:
    port = free_port()
    env = dict(os.environ, ORDERFLOW_HTTP_PORT=str(port), ORDERFLOW_ZIPKIN_URL="", ORDERFLOW_LOG_LEVEL="warn")
    proc = subprocess.Popen([str(bin_dir / "orderflow-hello")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/actuator/health"), "orderflow-hello", 20)
        target = f"127.0.0.1:{port}"
        duration = 3 if quick else 10
        cpu0 = proc_cpu_seconds(proc.pid) + children_cpu_seconds()
        # No warm-up: every request the CPU below paid for is counted.
        closed = loadgen(bin_dir, target, "H closed", 0, duration, connections, warmup=0)
        # One HTTP exchange's CPU, server and client (the load generator) together.
        closed["cpu_us_per_request"] = ((proc_cpu_seconds(proc.pid) + children_cpu_seconds() - cpu0)
                                        / max(1, closed["ok"]) * 1e6)
        half = max(100.0, closed["achieved_rps"] / 2)
        opened = loadgen(bin_dir, target, "H open @50%", half, duration, connections)
        return {"closed": closed, "open_half": opened, "peak_rss": proc_status(proc.pid, "VmHWM")}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


# ---------------------------------------------------------------------------- the stack
class Stack:
    def __init__(self, run_dir: Path, bootstrap: str, extra_env: dict[str, str]):
        self.env = dict(os.environ)
        for var in ("ORDERFLOW_GATEWAY_URL", "ORDERFLOW_DATA_DIR", "ORDERFLOW_MAIL_DIR", "ORDERFLOW_HTTP_PORT",
                    "ORDERFLOW_SMTP_URL", "ORDERFLOW_ALERT_WEBHOOK_URL"):
            self.env.pop(var, None)
        # The five services of the pipeline: the operator console (which indexes every event)
        # is an operator's tool, left out as Zipkin is.
        self.env.update({"ORDERFLOW_RUN_DIR": str(run_dir), "ORDERFLOW_KAFKA_BOOTSTRAP": bootstrap,
                         "ORDERFLOW_ZIPKIN_URL": "", "NO_COLOR": "1", "ORDERFLOW_ADMIN_TOKEN": BENCH_ADMIN_TOKEN,
                         "ORDERFLOW_CONSOLE": "off"})
        self.env.update(extra_env)
        self.urls = {}
        for svc, var in PORT_VARS.items():
            port = free_port()
            self.env[var] = str(port)
            self.urls[svc] = f"127.0.0.1:{port}"
        self.run_dir = run_dir

    def up(self) -> None:
        r = subprocess.run([str(ROOT / "scripts" / "stack.sh"), "up"], env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/stack.sh up failed:\n{r.stdout}\n{r.stderr}")

    def down(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "down"], env=self.env, capture_output=True, text=True)

    def pids(self) -> dict[str, int]:
        return {s: int((self.run_dir / "pids" / f"{s}.pid").read_text()) for s in SERVICES}


BENCH_ADMIN_TOKEN = "bench-admin-token"  # the bench stack's operator token (gateway fault injection)


def set_faults(url: str, faults: dict) -> None:
    req = urllib.request.Request(url, data=json.dumps(faults).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {BENCH_ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def dev_stack_running() -> list[str]:
    pids = ROOT / ".run" / "pids"
    running = []
    for f in sorted(pids.glob("*.pid")) if pids.is_dir() else []:
        try:
            if f.stem.encode() in Path(f"/proc/{int(f.read_text())}/cmdline").read_bytes():
                running.append(f.stem)
        except (ValueError, OSError):
            pass
    return running


def kafka_answers(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    disk = subprocess.run(["df", "-h", "--output=source,fstype,size", str(ROOT)], capture_output=True,
                          text=True).stdout.splitlines()[-1].split()
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "disk": " ".join(disk),
            "loadavg_at_start": [round(x, 2) for x in load],
            "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


# ---------------------------------------------------------------------------- drain (catch-up after an outage)
# The consumers that an outage downstream stops: payment-service (and with it every
# PaymentSuccess/PaymentFailed, so order-service's payment-events consumer has nothing to
# consume either) and notification-service. Their records wait on order-events.
DRAIN_STOPPED = ["payment-service", "notification-service"]
# The stack's consumer groups and the topics they read (SPEC §4; the services' defaults).
DRAIN_GROUPS = {
    "payment-service": ["order-events"],
    "notification-service": ["order-events"],
    "order-service": ["payment-events"],
    "payment-service-retry": ["payment-service.retry"],
}
FINAL_EVENTS = ("OrderConfirmed", "OrderFailed")
# alerting-service's group reads every dead letter topic (SPEC §4: "<service>.dlq").
ALERTING_GROUP = "alerting-service"
# The pipeline's batch consumer loops (service, loop label of kafka_consumer_batch_records)
# and the topic each reads: the work an order causes is done when each has read its topic
# to the end.
PIPELINE_LOOPS = {("payment-service", "order-events"): "order-events",
                  ("notification-service", "order-events"): "order-events",
                  ("order-service", "payment-events"): "payment-events"}


def topic_ends(consumer, topic: str) -> dict[int, int]:
    """The end offset of each partition of `topic` (empty when it does not exist yet)."""
    from confluent_kafka import TopicPartition

    md = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if md is None or md.error is not None:
        return {}
    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.partitions}


def skip_leftovers(bootstrap: str) -> dict[str, int]:
    """Before the bench's stack starts: commits the end of every topic its consumer groups
    read. The stack starts with empty databases, so records an earlier run (a bench, the
    tests, `make run`) left unconsumed are another system's events: read, they would be
    charged, mailed or dead-lettered again inside this run's measurements (a notification-
    service that fell behind in one bench started the next with that backlog). Returns how
    many records each group skips; a group with members (a stack running) is left alone."""
    from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-bench-probe", "enable.auto.commit": False})
    admin = AdminClient({"bootstrap.servers": bootstrap})
    skipped: dict[str, int] = {}
    try:
        topics = probe.list_topics(timeout=10).topics
        groups = dict(DRAIN_GROUPS)
        groups[ALERTING_GROUP] = [t for t in topics if t.endswith(".dlq")]
        for group, names in groups.items():
            ends = {(t, p): off for t in names for p, off in topic_ends(probe, t).items()}
            if not ends:
                continue
            parts = [TopicPartition(t, p) for (t, p) in ends]
            try:
                committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, parts)])
                before = {(tp.topic, tp.partition): tp.offset for tp in committed[group].result(timeout=10).topic_partitions}
                behind = sum(end - max(0, before.get(tp, -1)) for tp, end in ends.items()
                             if before.get(tp, -1) < end)
                if behind == 0:
                    continue
                admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(
                    group, [TopicPartition(t, p, off) for (t, p), off in ends.items()])])[group].result(timeout=10)
                skipped[group] = behind
            except Exception as e:  # noqa: BLE001 - a group in use: measured as it is
                log(f"could not move {group} past earlier runs' records: {e}")
    finally:
        probe.close()
    return skipped


class Settle:
    """Waits, after a measured run, until the pipeline's consumers have read their topics to
    the end (PIPELINE_LOOPS: records each loop received since the stack started, from its
    kafka_consumer_batch_records, against what the topic grew by), so a run's CPU per order
    includes the work its orders caused in every service (notification-service's emails
    trail the OrderConfirmed that ends T1) and none of it spills into the next run."""

    def __init__(self, bootstrap: str):
        from confluent_kafka import Consumer

        self.probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-bench-probe",
                               "enable.auto.commit": False})
        self.start = self._ends()

    def _ends(self) -> dict[str, int]:
        return {t: sum(topic_ends(self.probe, t).values()) for t in set(PIPELINE_LOOPS.values())}

    def behind(self, stack: "Stack") -> dict[str, int]:
        ends, got = self._ends(), batch_totals(stack)
        return {f"{svc}/{loop}": int(ends[t] - self.start[t] - got.get(svc, {}).get(loop, [0, 0])[1])
                for (svc, loop), t in PIPELINE_LOOPS.items()}

    def wait(self, stack: "Stack", timeout: float = 300) -> float:
        """Seconds waited; raises if the consumers are still behind after `timeout`."""
        t0 = time.monotonic()
        while True:
            behind = self.behind(stack)
            if all(v <= 0 for v in behind.values()):
                break
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"consumers still behind after {timeout:.0f} s: {behind}")
            time.sleep(0.1)
        return time.monotonic() - t0

    def close(self) -> None:
        self.probe.close()


def drain_topic_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """The end offset of each partition of `topic` now."""
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-bench-drain-probe",
                  "enable.auto.commit": False})
    try:
        return topic_ends(c, topic)
    finally:
        c.close()


class DrainEventReader:
    """Reads order-events from given offsets on a thread of its own and keeps the order id
    (the record key) of every OrderCreated and the time (the record's timestamp: when
    order-service produced it, wall clock) of each order's first OrderConfirmed /
    OrderFailed. Exact: the backlog's orders are the OrderCreated keys read before the
    consumers restart, and the drain ends with the last of them final.

    pause() / resume(): while the backlog drains the reader waits, and catches up after.
    Reading ~200,000 records in Python costs the 2-core machine a share of a core that the
    drain would otherwise have; record timestamps make the figure independent of when the
    reader sees them."""

    def __init__(self, bootstrap: str, start: dict[int, int], topic: str = "order-events"):
        import threading

        from confluent_kafka import Consumer, TopicPartition

        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-bench-drain",
                                  "enable.auto.commit": False, "enable.partition.eof": False})
        self.consumer.assign([TopicPartition(topic, p, off) for p, off in start.items()])
        self.lock = threading.Lock()
        self.created: set[str] = set()
        self.final: dict[str, float] = {}
        self.stopping = threading.Event()
        self.reading = threading.Event()
        self.reading.set()
        self.cpu_s = 0.0  # the reader thread's own CPU (time.thread_time), for the report
        self.thread = threading.Thread(target=self._run, name="drain-reader", daemon=True)
        self.thread.start()

    def pause(self) -> None:
        self.reading.clear()

    def resume(self) -> None:
        self.reading.set()

    def _run(self) -> None:
        while not self.stopping.is_set():
            if not self.reading.wait(0.1):
                continue
            msgs = self.consumer.consume(2000, 0.1)
            created, final = [], []
            for m in msgs:
                if m.error() or m.key() is None:
                    continue
                ce_type = next((v for k, v in (m.headers() or []) if k == "ce_type"), b"").decode()
                if ce_type == "OrderCreated":
                    created.append(m.key().decode())
                elif ce_type in FINAL_EVENTS:
                    final.append((m.key().decode(), m.timestamp()[1] / 1000.0))
            if created or final:
                with self.lock:
                    self.created.update(created)
                    for k, ts in final:
                        self.final.setdefault(k, ts)
            self.cpu_s = time.thread_time()
        self.consumer.close()

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return len(self.created), len(self.final)

    def snapshot_created(self) -> set[str]:
        with self.lock:
            return set(self.created)

    def unfinished(self, orders: set[str]) -> int:
        with self.lock:
            return sum(1 for o in orders if o not in self.final)

    def final_by(self, ts: float) -> int:
        """Orders whose first final event has a timestamp at or before `ts`."""
        with self.lock:
            return sum(1 for t in self.final.values() if t <= ts)

    def last_final(self, orders: set[str]) -> float:
        with self.lock:
            return max(self.final[o] for o in orders)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)


class DrainSampler:
    """Every `interval` s on a thread of its own: each consumer group's lag (end offsets −
    committed offsets, summed over the partitions of its topics, from the broker), the RSS
    of each service (VmRSS, pids read from the run folder: restarted services change pid),
    and how many orders are placed and final (order-service's counts, order_counts())."""

    def __init__(self, bootstrap: str, stack: "Stack", interval: float = 1.0):
        import threading

        from confluent_kafka import Consumer

        self.bootstrap, self.stack, self.interval = bootstrap, stack, interval
        self.probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderflow-bench-drain-probe",
                               "enable.auto.commit": False})
        self.samples: list[dict] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="drain-sampler", daemon=True)
        self.thread.start()

    def _lag(self) -> dict[str, int | None]:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import AdminClient

        if not hasattr(self, "_admin"):
            self._admin, self._parts = AdminClient({"bootstrap.servers": self.bootstrap}), {}
        marks: dict[str, dict[int, tuple[int, int]]] = {}  # topic -> partition -> (low, high), once per sample
        out: dict[str, int | None] = {}
        for group, topics in DRAIN_GROUPS.items():
            try:
                parts = []
                for topic in topics:
                    if topic not in self._parts:
                        md = self.probe.list_topics(topic, timeout=5).topics.get(topic)
                        if md is None or md.error is not None:
                            continue
                        self._parts[topic] = sorted(md.partitions)
                    if topic not in marks:
                        marks[topic] = {p: self.probe.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
                                        for p in self._parts[topic]}
                    parts += [TopicPartition(topic, p) for p in self._parts[topic]]
                if not parts:
                    out[group] = None
                    continue
                res = self._admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, parts)])
                lag = 0
                for tp in res[group].result(timeout=5).topic_partitions:
                    low, high = marks[tp.topic][tp.partition]
                    lag += high - (tp.offset if tp.offset >= 0 else low)
                out[group] = lag
            except Exception:  # noqa: BLE001 - a sample lost is a gap in the curve, not a failed run
                out[group] = None
        return out

    def _rss(self) -> dict[str, int]:
        out = {}
        for svc in SERVICES:
            try:
                out[svc] = proc_status(int((self.stack.run_dir / "pids" / f"{svc}.pid").read_text()), "VmRSS")
            except (OSError, ValueError):
                pass
        return out

    def _run(self) -> None:
        while not self.stopping.is_set():
            t = time.monotonic()
            created, final = order_counts(self.stack) or (None, None)
            self.samples.append({"t": t, "lag": self._lag(), "rss": self._rss(), "created": created, "final": final})
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - t)))

    def stop(self) -> list[dict]:
        self.stopping.set()
        self.thread.join(30)
        self.probe.close()
        return self.samples


def drain_pids(stack: "Stack", services: list[str]) -> dict[str, int]:
    """The pids of the named services from the run folder (a stopped service has no pid file)."""
    return {s: int((stack.run_dir / "pids" / f"{s}.pid").read_text()) for s in services}


def drain_run(stack: "Stack", bin_dir: Path, bootstrap: str, orders: int, new_rate: float,
              connections: int) -> dict:
    """Catch-up after an outage. payment-service and notification-service are stopped;
    `orders` orders are placed (closed loop, many connections) and wait on order-events; the
    two services start again and the drain is timed from that moment to the last of those
    orders final (its OrderConfirmed / OrderFailed on order-events). Meanwhile new orders
    arrive open-loop at `new_rate`/s (their L1: still accepted while the backlog drains?).
    CPU per order of the services and the broker over the drain, peak RSS of each service
    during it, and every consumer group's lag once a second from the outage on."""
    out: dict = {"orders": orders, "new_rate": new_rate, "stopped": DRAIN_STOPPED,
                 "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}
    start = drain_topic_ends(bootstrap, "order-events")
    reader = DrainEventReader(bootstrap, start)
    sampler = None
    newload = None
    try:
        stop = subprocess.run([str(ROOT / "scripts" / "stack.sh"), "down", *DRAIN_STOPPED], env=stack.env,
                              capture_output=True, text=True)
        if stop.returncode != 0:
            raise RuntimeError(f"stack.sh down {DRAIN_STOPPED} failed:\n{stop.stdout}\n{stop.stderr}")
        sampler = DrainSampler(bootstrap, stack)
        target = stack.urls["order-service"]
        log(f"drain: placing {orders} orders with {', '.join(DRAIN_STOPPED)} stopped")
        t_place = time.monotonic()
        placed = loadgen(bin_dir, target, "drain: backlog", 0, 3600, connections, warmup=0, max_requests=orders)
        out["placed"] = {k: placed[k] for k in ("sent", "ok", "errors", "status", "achieved_rps", "l1")}
        # Every accepted order's OrderCreated on the topic (the outbox relay may still be at work).
        wait_for(lambda: reader.counts()[0] >= placed["ok"], "the backlog's OrderCreated records",
                 max(60, orders / 200))
        out["placing_s"] = time.monotonic() - t_place
        backlog = reader.snapshot_created()
        out["backlog"] = len(backlog)
        # The reader waits while the backlog drains (DrainEventReader); order-service's own
        # count says when it is nearly done.
        reader.pause()
        reader_cpu0 = reader.cpu_s
        counts0 = order_counts(stack)
        if counts0 is None:
            raise RuntimeError("order-service's /actuator/prometheus does not answer")
        harness0 = time.process_time()

        # The outage ends: new orders keep coming (open loop, stopped by SIGUSR1 once the
        # backlog is drained), the consumers start again.
        pids0 = drain_pids(stack, [s for s in SERVICES if s not in DRAIN_STOPPED])
        if (broker := listener_pid(bootstrap)) is not None:
            pids0[BROKER] = broker
        newload = subprocess.Popen([str(bin_dir / "orderflow-loadgen"), "--target", target, "--rate", str(new_rate),
                                    "--duration", "3600", "--warmup", "0", "--connections", "16",
                                    "--label", f"drain: new orders @{new_rate:.0f}/s"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.2)  # its SIGUSR1 handler is installed before it sends
        c0, m0 = ProcStats(pids0).cpu(), machine_jiffies()
        newload_cpu0 = proc_cpu_seconds(newload.pid)
        t0, t0_wall = time.monotonic(), time.time()
        log(f"drain: starting {', '.join(DRAIN_STOPPED)} again")
        up = subprocess.run([str(ROOT / "scripts" / "stack.sh"), "up", *DRAIN_STOPPED], env=stack.env,
                            capture_output=True, text=True)
        if up.returncode != 0:
            raise RuntimeError(f"stack.sh up {DRAIN_STOPPED} failed:\n{up.stdout}\n{up.stderr}")
        restarted = drain_pids(stack, DRAIN_STOPPED)
        deadline = t0 + max(300, orders / 50)
        counts = counts0
        while time.monotonic() < deadline:
            counts = order_counts(stack) or counts
            if counts[1] - counts0[1] >= len(backlog):
                break
            time.sleep(0.2)
        # CPU and machine over the drain, to the moment order-service counts the backlog's
        # worth of orders final; the orders final by its count meanwhile.
        t1 = time.monotonic()
        cpu1 = ProcStats(pids0).cpu()
        cpu1.update(ProcStats(restarted).cpu())  # new processes: all their CPU is the drain's
        m1 = machine_jiffies()
        finals = max(1, counts[1] - counts0[1])
        # What the bench itself used meanwhile (the lag sampler, the new orders' load generator).
        out["harness_cores"] = ((time.process_time() - harness0) + proc_cpu_seconds(newload.pid) - newload_cpu0) / (t1 - t0)
        reader.resume()
        while reader.unfinished(backlog) and time.monotonic() < deadline:
            time.sleep(0.1)
        hwm = ProcStats(restarted).peak_rss()
        out["unfinished"] = reader.unfinished(backlog)
        end_wall = reader.last_final(backlog) if not out["unfinished"] else time.time()
        end = end_wall - t0_wall + t0
        newload.send_signal(signal.SIGUSR1)
        new_out, new_err = newload.communicate(timeout=60)
        sys.stderr.write(new_err)
        newload = None
        samples = sampler.stop()
        sampler = None
        final = reader.final_by(end_wall)
        # What reading the drain's records costs the bench (after the drain now, not during it).
        out["reader_cpu_s"] = reader.cpu_s - reader_cpu0
        out["drain_s"] = end - t0
        out["drain_per_s"] = len(backlog) / out["drain_s"]
        out["final_during_drain"] = final  # the backlog and the new orders final by then
        out["final_per_s"] = final / out["drain_s"]
        out["cpu_us_per_order"] = {s: (cpu1[s] - c0.get(s, 0.0)) / finals * 1e6 for s in cpu1}
        out["machine_busy"] = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        window = [x for x in samples if t0 <= x["t"] <= end + 1]
        out["peak_rss_mib"] = {}
        for svc in SERVICES:
            peak = max([x["rss"].get(svc, 0) for x in window] + [hwm.get(svc, 0)])
            out["peak_rss_mib"][svc] = peak / 2**20
        out["samples"] = [{"t": round(x["t"] - t0, 2), "lag": x["lag"], "created": x["created"],
                           "final": x["final"], "rss_mib": {s: round(v / 2**20, 1) for s, v in x["rss"].items()}}
                          for x in samples]
        out["new_orders"] = json.loads(new_out)
        out["new_orders"].pop("ok_per_second", None)
        log(f"drain: {len(backlog)} orders in {out['drain_s']:.1f} s = {out['drain_per_s']:.0f}/s")
        return out
    finally:
        if newload is not None:
            newload.kill()
            newload.wait()
        if sampler is not None:
            sampler.stop()
        reader.stop()
        # Whatever happened, the stack is whole again for whoever comes next.
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "up", *DRAIN_STOPPED], env=stack.env,
                       capture_output=True, text=True)


def drain_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """The drain's rows of the table (nothing when the run had no drain)."""
    d = r.get("drain")
    if not d:
        return []
    rows = []
    t1 = r["stack"]["max"]["kafka"]["confirmed_per_s_overall"]
    rows.append((f"D  drain orders/s ({d['backlog']} backlog)", f"{d['drain_per_s']:.0f}/s ({d['drain_s']:.1f} s)",
                 "T1", ratio(d["drain_per_s"], t1)))
    floor = t1_floor(r)
    if floor:
        rows.append(("   drain / T1 ceiling", "", f"{floor['ceiling_per_s']:.0f}/s", ratio(d["drain_per_s"], floor["ceiling_per_s"])))
    rows.append(("   backlog placed (consumers down)", f"{d['placed']['achieved_rps']:.0f}/s accepted, {d['placing_s']:.1f} s",
                 "", ""))
    rows.append(("   final orders/s in drain (+ new)", f"{d['final_per_s']:.0f}/s ({d['final_during_drain']})", "", ""))
    rows.append(("   unfinished after drain", str(d["unfinished"]), "0", ""))
    if "harness_cores" in d:
        rows.append(("   the bench's own CPU in drain", f"{d['harness_cores']:.0%} of a core (lag sampler, new-order load)",
                     "", ""))
    if "reader_cpu_s" in d:
        rows.append(("   reading the drain's events (after it)", f"{d['reader_cpu_s']:.1f} s of CPU",
                     "drain", f"{d['reader_cpu_s'] / d['drain_s']:.2f}"))
    at = pipeline_cpu(d["cpu_us_per_order"])
    rows.append(("   CPU/order in drain, machine busy", f"{at:.0f} us (svcs+broker), {d['machine_busy']:.0%}",
                 "closed loop", ratio(at, pipeline_cpu(r["stack"]["cpu_us_per_order"]))))
    for svc in SERVICES:
        rows.append((f"   {svc} in drain", f"{d['cpu_us_per_order'].get(svc, 0):.0f} us CPU/order",
                     f"RSS {d['peak_rss_mib'][svc]:.1f} MiB", ratio(d["peak_rss_mib"][svc], r["stack"]["peak_rss_mib"][svc])))
    if BROKER in d["cpu_us_per_order"]:
        rows.append((f"   {BROKER} in drain", f"{d['cpu_us_per_order'][BROKER]:.0f} us CPU/order", "", ""))
    n = d["new_orders"]
    l1 = n["l1"]
    rows.append((f"L1 p50/p99/p99.9 new @{d['new_rate']:.0f}/s in drain",
                 f"{ms(l1['p50_us'])} / {ms(l1['p99_us'])} / {ms(l1['p99_9_us'])}", "target p99 100 ms",
                 ratio(l1["p99_us"], 100_000)))
    rows.append(("   new orders accepted (202) / sent", f"{n['status'].get('202', 0)} / {n['sent']}", "", ""))
    return rows


def plot_drain(ax, r: dict) -> None:
    """Consumer lag per group during the drain (seconds from the restart; < 0: the outage)."""
    d = r["drain"]
    xs = [s["t"] for s in d["samples"]]
    for group in DRAIN_GROUPS:
        ys = [s["lag"].get(group) for s in d["samples"]]
        if any(y for y in ys if y):
            ax.plot(xs, [float("nan") if y is None else y for y in ys], label=f"lag {group}")
    ax.plot(xs, [float("nan") if s["created"] is None else s["created"] - s["final"] for s in d["samples"]], ":",
            color="black",
            label="orders placed, not yet final (backlog + new)")
    ax.axvline(0, color="grey", ls="--", lw=0.8)
    ax.axvline(d["drain_s"], color="grey", ls="--", lw=0.8)
    ax.set_xlabel(f"seconds from the consumers' restart (< 0: {d['backlog']} orders placed while down)")
    ax.set_ylabel("records / orders behind")
    ax.set_title(f"drain: {d['drain_per_s']:.0f} orders/s, lag by consumer group")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


# ---------------------------------------------------------------------------- report
def batch_summary(per_loop: dict[str, float]) -> str:
    """"notification 52, order 58, payment 158": mean records per poll batch of each service's
    batch consumer loop (keys "service/loop", one loop per service)."""
    return ", ".join(f"{name.split('/', 1)[0].removesuffix('-service')} {n:.0f}" for name, n in sorted(per_loop.items()))


def request_summary(per_order: dict[str, float]) -> str:
    """"3.3 (produce 1.22, fetch 2.08)": broker requests per confirmed order, all and by kind."""
    return f"{per_order['all']:.1f} (produce {per_order.get('Produce', 0):.2f}, fetch {per_order.get('Fetch', 0):.2f})"


def ratio(a, b) -> str:
    try:
        return f"{a / b:.2f}"
    except (TypeError, ZeroDivisionError):
        return "-"


def ms(us) -> str:
    return "-" if us is None else f"{us / 1000:.2f} ms"


def pipeline_cpu(cpu_us_per_order: dict[str, float]) -> float:
    """CPU per order of the five services and the broker together."""
    return sum(v for svc, v in cpu_us_per_order.items() if svc in SERVICES or svc == BROKER)


def t1_floor(r: dict) -> dict | None:
    """A floor on the CPU the pipeline spends per order on this machine, from this run's
    baselines: two HTTP exchanges (place-order, the gateway's charge) at H's cost, three
    records taken in by the broker (OrderCreated, PaymentSuccess, OrderConfirmed) at K's
    batching and five handed out (OrderCreated to payment and notification, PaymentSuccess to
    order, OrderConfirmed to payment and notification) at Kc's, which any implementation
    pays, plus one order written durably by our store at T3's cost (its committer is
    CPU-bound: one core / T3). It leaves out the clients' side of the records, the other
    services' writes, JSON and emails, so cores / floor is a ceiling on T1."""
    k, h, s = r["baselines"].get("kafka"), r["baselines"].get("hello"), r["baselines"].get("store")
    if not (k and h and s) or "broker_cpu_us_per_record" not in k["produce"] or "cpu_us_per_request" not in h["closed"]:
        return None
    us = (2 * h["closed"]["cpu_us_per_request"] + 3 * k["produce"]["broker_cpu_us_per_record"]
          + 5 * k["consume"].get("broker_cpu_us_per_record", 0) + 1e6 / s["best_orders_per_s"])
    return {"us_per_order": us, "ceiling_per_s": (r["machine"]["nproc"] or 1) * 1e6 / us}


def table(r: dict) -> str:
    rows = [("figure", "value", "baseline", "ratio")]
    f = r["baselines"]["fdatasync"]
    rows.append(("F  disk fdatasync/s", f"{f['syncs_per_s']:.0f}/s", "", ""))
    s = r["baselines"].get("store")
    if s:
        one = s["by_in_flight"].get(1, {}).get("orders_per_s")
        rows.append(("S1 store, 1 order/txn", f"{one:.0f}/s" if one else "-", "F", ratio(one, f["syncs_per_s"])))
        rows.append(("T3 store, group commit", f"{s['best_orders_per_s']:.0f}/s", "F",
                     ratio(s["best_orders_per_s"], f["syncs_per_s"])))
    k = r["baselines"].get("kafka")
    K = k["produce"]["records_per_s"] if k else None
    if k:
        rows.append(("K  kafka produce rec/s", f"{K:.0f}/s", "", ""))
        if "broker_cpu_us_per_record" in k["produce"]:
            rows.append(("   broker CPU per record in K", f"{k['produce']['broker_cpu_us_per_record']:.1f} us", "", ""))
        rows.append(("Kc kafka consume rec/s", f"{k['consume']['fetch_records_per_s']:.0f}/s", "", ""))
        if "broker_cpu_us_per_record" in k["consume"]:
            rows.append(("   broker CPU per record in Kc", f"{k['consume']['broker_cpu_us_per_record']:.1f} us", "", ""))
    h = r["baselines"]["hello"]
    H = h["closed"]["achieved_rps"]
    rows.append(("H  hello req/s (closed)", f"{H:.0f}/s", "", ""))
    if "cpu_us_per_request" in h["closed"]:
        rows.append(("   CPU per exchange in H", f"{h['closed']['cpu_us_per_request']:.1f} us (server+client)", "", ""))
    st = r["stack"]
    mx = st["max"]
    t1 = mx["kafka"]["confirmed_per_s_overall"]
    rows.append(("accepted/s (closed)", f"{mx['achieved_rps']:.0f}/s", "H", ratio(mx["achieved_rps"], H)))
    rows.append(("T1 confirmed/s", f"{t1:.0f}/s", "0.2 K" if K else "", ratio(t1, 0.2 * K) if K else "-"))
    floor = t1_floor(r)
    if floor:
        rows.append(("   T1 ceiling from the baselines", f"{floor['ceiling_per_s']:.0f}/s ({floor['us_per_order']:.0f} us/order)",
                     "0.2 K" if K else "", ratio(floor["ceiling_per_s"], 0.2 * K) if K else "-"))
    rows.append(("   unconfirmed after drain", str(mx["kafka"]["missing"]), "0", ""))
    if "settle_s" in mx:
        rows.append(("   every consumer caught up", f"{mx['settle_s']:.1f} s after the last confirmation", "", ""))
    if r.get("skipped_leftovers"):
        rows.append(("   earlier runs' records skipped", ", ".join(f"{g} {n}" for g, n in r["skipped_leftovers"].items()),
                     "", ""))
    if "t4" in st:
        t4 = st["t4"]["kafka"]
        rows.append(("T4 confirmed/s, gateway 50 ms", f"{t4['confirmed_per_s_overall']:.0f}/s", "target 5000",
                     ratio(t4["confirmed_per_s_overall"], 5000)))
        rows.append(("   T4 / T1 (50 ms hidden?)", "", "T1", ratio(t4["confirmed_per_s_overall"], t1)))
    for o in st["open"]:
        lbl = f"@{o['offered_rps']:.0f}/s"
        rows.append((f"L1 p50/p99/p99.9 {lbl}",
                     f"{ms(o['l1']['p50_us'])} / {ms(o['l1']['p99_us'])} / {ms(o['l1']['p99_9_us'])}",
                     f"H p99 {ms(h['open_half']['l1']['p99_us'])}",
                     ratio(o["l1"]["p99_us"], h["open_half"]["l1"]["p99_us"])))
        l2 = o["kafka"]["l2"]
        rows.append((f"L2 p50/p99/p99.9 {lbl}",
                     f"{ms(l2['p50_us'])} / {ms(l2['p99_us'])} / {ms(l2['p99_9_us'])}", "target p99 15 ms",
                     ratio(l2["p99_us"], 15000)))
        if "cpu_us_per_order" in o:
            at_rate = pipeline_cpu(o["cpu_us_per_order"])
            rows.append((f"   CPU/order {lbl}, machine busy", f"{at_rate:.0f} us (svcs+broker), {o['machine_busy']:.0%}",
                         "closed loop", ratio(at_rate, pipeline_cpu(st["cpu_us_per_order"]))))
        if o.get("records_per_batch"):
            rows.append((f"   records/batch {lbl}", batch_summary(o["records_per_batch"]), "", ""))
        if o.get("broker_requests_per_order"):
            rows.append((f"   broker requests/order {lbl}", request_summary(o["broker_requests_per_order"]), "T1",
                         ratio(o["broker_requests_per_order"]["all"],
                               st["max"].get("broker_requests_per_order", {}).get("all"))))
    rows.append(("   .eml drop (notification)", "tmpfs" if "/dev/shm" in r.get("mail_dir", "") else "disk", "", ""))
    rows.append(("CPU-s per order (all svcs)", f"{st['cpu_us_per_order_total']:.0f} us", "", ""))
    for svc in SERVICES:
        rows.append((f"   {svc}", f"{st['cpu_us_per_order'][svc]:.0f} us CPU/order",
                     f"RSS {st['peak_rss_mib'][svc]:.1f} MiB", ratio(st["peak_rss_mib"][svc], 64)))
    if st["max"].get("records_per_batch"):
        rows.append(("   records/batch in T1", batch_summary(st["max"]["records_per_batch"]), "", ""))
    if st["max"].get("broker_requests_per_order"):
        rows.append(("   broker requests/order in T1", request_summary(st["max"]["broker_requests_per_order"]), "", ""))
    for svc, by_name in st.get("threads", {}).items():
        own = sum(t["threads"] for n, t in by_name.items() if n != "rdk:*")
        rdk = by_name.get("rdk:*", {}).get("threads", 0)
        switches = sum(t["switches_per_order"] for t in by_name.values())
        rows.append((f"   {svc} threads", f"{own} own + {rdk} librdkafka, {switches:.1f} switches/order",
                     "cores + 4", ratio(own, (os.cpu_count() or 2) + 4)))
    if BROKER in st["cpu_us_per_order"]:
        b = st["cpu_us_per_order"][BROKER]
        rows.append((f"   {BROKER}", f"{b:.0f} us CPU/order", "", ""))
        rows.append(("orders/s per core (all CPU)", f"{1e6 / pipeline_cpu(st['cpu_us_per_order']):.0f}/s", "", ""))
    rows.append(("hello peak RSS", f"{h['peak_rss'] / 2**20:.1f} MiB", "", ""))
    rows += drain_rows(r)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(r: dict, png: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing (scripts/deps.sh installs it into .venv): no PNG")
        return
    fig, axes = plt.subplots(1, 3 if r.get("drain") else 2, figsize=(19.5 if r.get("drain") else 13, 5))
    a, b = axes[0], axes[1]
    opens = sorted(r["stack"]["open"], key=lambda o: o["offered_rps"])
    x = [o["offered_rps"] for o in opens]
    for key, name, style in (("l1", "L1 accept", "-"), ("l2", "L2 confirmed", "--")):
        for pct, marker in (("p50_us", "o"), ("p99_us", "s"), ("p99_9_us", "^")):
            ys = [(o[key] if key == "l1" else o["kafka"]["l2"])[pct] / 1000 for o in opens]
            a.plot(x, ys, style, marker=marker, label=f"{name} {pct[:-3].replace('_', '.')}")
    a.set_xlabel("offered load (orders/s, open loop)")
    a.set_ylabel("latency (ms)")
    a.set_yscale("log")
    a.set_title("latency percentiles vs offered load")
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=8)
    peer.plot(a, r)
    mx = r["stack"]["max"]
    b.plot(mx["ok_per_second"], label="accepted/s (HTTP 202)")
    b.plot(mx["kafka"]["confirmed_per_second"], label="confirmed/s (OrderConfirmed)")
    if r["baselines"].get("kafka"):
        b.axhline(r["baselines"]["kafka"]["produce"]["records_per_s"] / 4, color="grey", ls=":",
                  label="K/4 (4 records per order)")
    b.set_xlabel("second of the closed-loop run")
    b.set_ylabel("orders/s")
    b.set_title("throughput over time (max load)")
    b.grid(True, alpha=0.3)
    b.legend(fontsize=8)
    if r.get("drain"):
        plot_drain(axes[2], r)
    fig.suptitle(f"orderflow bench {r['started']} on {r['machine']['nproc']} cores ({r['machine']['cpu']})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


# ---------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs: about a minute in all")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=float, help="seconds per load run (default 5 quick, 20 full)")
    ap.add_argument("--fractions", default=None,
                    help="open-loop rates as fractions of the measured maximum (default .5 quick, .25,.5,.75 full)")
    ap.add_argument("--no-kafka-baseline", action="store_true")
    ap.add_argument("--drain-orders", type=int, default=None,
                    help="catch-up after an outage: orders placed while the consumers are down "
                         "(default 20000 quick, 100000 full; 0: no drain run)")
    ap.add_argument("--drain-new-rate", type=float, default=100,
                    help="new orders/s (open loop) placed while the backlog drains")
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=False,
                    help="also measure the Spring Boot peer (bench/peer.py, bench/peers/spring-boot; make bench-peer)")
    ap.add_argument("--mail-on-disk", action="store_true",
                    help="notification-service's .eml drop on the run folder's disk (default: tmpfs, see README)")
    ap.add_argument("--build-dir", default=os.environ.get("ORDERFLOW_BUILD_DIR", str(ROOT / "build" / "release")))
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = ap.parse_args()

    bin_dir = Path(args.build_dir) / "bin"
    for exe in ("orderflow-loadgen", "orderflow-hello", "order-service"):
        if not (bin_dir / exe).exists():
            print(f"bench: {bin_dir / exe} is not built (make build)", file=sys.stderr)
            return 2
    if running := dev_stack_running():
        print(f"bench: the development stack is running ({', '.join(running)}); it would share consumer "
              "groups with the benchmark's stack: make down first", file=sys.stderr)
        return 2
    duration = args.duration or (5 if args.quick else 20)
    fractions = [float(x) for x in (args.fractions or (".5" if args.quick else ".25,.5,.75")).split(",")]
    bootstrap = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP",
                               f"127.0.0.1:{os.environ.get('ORDERFLOW_KAFKA_PORT', '9092')}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-run-", dir=RESULTS))
    started_kafka = False
    result: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                    "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "quick": args.quick,
                    "baselines": {}}
    stack = None
    mail_dir = None
    try:
        if not kafka_answers(bootstrap):
            log(f"starting Kafka at {bootstrap} (scripts/kafka.sh)")
            subprocess.run([str(ROOT / "scripts" / "kafka.sh"), "start"], check=True)
            started_kafka = True

        log("F: fdatasync rate")
        result["baselines"]["fdatasync"] = fdatasync_rate(run_dir, 1.0 if args.quick else 5.0)
        if started_kafka and not args.no_kafka_baseline:
            # A freshly started broker runs interpreted until its JIT has compiled the request
            # paths: measured cold, K and the pipeline's broker CPU per order came out 2-4x
            # worse (bench/README.md). One throwaway producer/consumer run warms it.
            log("warming the new broker up (a throwaway K run)")
            kafka_baseline(bootstrap, TOOLS_CACHE, 100_000 if args.quick else 300_000, 6)
        log("T3: order store group commit (order-store-bench)")
        result["baselines"]["store"] = store_bench(bin_dir, run_dir, args.quick)
        if not args.no_kafka_baseline:
            log("K: Kafka ProducerPerformance / ConsumerPerformance")
            result["baselines"]["kafka"] = kafka_baseline(bootstrap, TOOLS_CACHE,
                                                          100_000 if args.quick else 500_000, 6)
        log("H: hello-world handler on the same server")
        result["baselines"]["hello"] = hello_baseline(bin_dir, args.quick, args.connections)

        drain_orders = args.drain_orders if args.drain_orders is not None else (20000 if args.quick else 100000)
        if args.peer:
            log("the Spring Boot peer (bench/peer.py), before orderflow's stack: its T1 sets both open-loop rates")
            result["peer"] = peer.measure(sys.modules[__name__], bin_dir, run_dir / "peer", bootstrap, args.quick,
                                          duration, args.connections, drain_orders=drain_orders)
        log("the stack (scripts/stack.sh up)")
        # The .eml drop stands in for the SMTP server a deployment hands emails to (another
        # machine): on tmpfs by default, so the figures are the pipeline's and not this disk's
        # cost of creating a file per email (bench/README.md measures both).
        env = {"ORDERFLOW_LOG_LEVEL": "warn"}
        if not args.mail_on_disk and Path("/dev/shm").is_dir():
            mail_dir = Path(tempfile.mkdtemp(prefix="orderflow-bench-mail-", dir="/dev/shm"))
            env["ORDERFLOW_MAIL_DIR"] = str(mail_dir)
        result["mail_dir"] = env.get("ORDERFLOW_MAIL_DIR", "run folder (disk)")
        stack = Stack(run_dir, bootstrap, env)
        if skipped := skip_leftovers(bootstrap):
            log(f"skipped records earlier runs left unconsumed: {skipped}")
        result["skipped_leftovers"] = skipped
        settle = Settle(bootstrap)
        up_t0 = time.monotonic()
        stack.up()
        start_to_healthy = time.monotonic() - up_t0
        watched = stack.pids()
        if (broker := listener_pid(bootstrap)) is not None:
            watched[BROKER] = broker  # CPU only: the JVM's RSS is not a service's footprint
        stats = ProcStats(watched)
        target = stack.urls["order-service"]
        # A short warm-up: topics, consumer group assignment, SQLite pages.
        if "peer" in result:  # the same warm-up as the peer's JVMs had
            peer.warm_up(sys.modules[__name__], bin_dir, target, bootstrap, result["peer"]["warmup"]["seconds"])
        else:
            loadgen(bin_dir, target, "warm-up", 300, 2 if args.quick else 5, 8, kafka=bootstrap, warmup=0, drain=20)
        settle.wait(stack)
        cpu0 = stats.cpu()
        threads0 = {svc: thread_table(pid) for svc, pid in watched.items() if svc in SERVICES}
        batches0, requests0 = batch_totals(stack), broker_requests(bootstrap)
        # Closed loop: HTTP accepts far faster than the pipeline confirms, so the run is
        # capped at a number of orders and then waits for every one of them to be confirmed:
        # T1 = confirmed / (first send .. last confirmation) with the pipeline saturated.
        mx = loadgen(bin_dir, target, "T1 closed", 0, duration, args.connections, kafka=bootstrap, warmup=0,
                     drain=300, max_requests=3000 if args.quick else 20000)
        mx["settle_s"] = settle.wait(stack)
        cpu1 = stats.cpu()
        orders = max(1, mx["kafka"]["confirmed"])
        cpu_per_order = {s: (cpu1[s] - cpu0[s]) / orders * 1e6 for s in cpu1}
        threads = {svc: thread_delta(threads0[svc], thread_table(pid), orders)
                   for svc, pid in watched.items() if svc in SERVICES}
        mx["records_per_batch"] = records_per_batch(batches0, batch_totals(stack))
        mx["broker_requests_per_order"] = requests_per_order(requests0, broker_requests(bootstrap), orders)
        t1 = mx["kafka"]["confirmed_per_s_overall"]
        opens = []
        rates = [(f"{frac:.0%} of T1", max(50.0, round(t1 * frac, -1))) for frac in fractions]
        rates += [(f"{r:.0f}/s as the peer", r) for r in (peer.rates(result["peer"]) if "peer" in result else [])]
        for what, rate in rates:
            # CPU per order and how busy the whole machine was at this rate (load + drain):
            # batching (group commits, Kafka requests) amortises less at a moderate rate.
            c0, m0, b0, q0 = stats.cpu(), machine_jiffies(), batch_totals(stack), broker_requests(bootstrap)
            o = loadgen(bin_dir, target, f"open {what}", rate, duration, args.connections,
                        kafka=bootstrap, drain=60)
            o["settle_s"] = settle.wait(stack)
            c1, m1 = stats.cpu(), machine_jiffies()
            o["records_per_batch"] = records_per_batch(b0, batch_totals(stack))
            n = max(1, o["kafka"]["confirmed"])
            o["broker_requests_per_order"] = requests_per_order(q0, broker_requests(bootstrap), n)
            o["cpu_us_per_order"] = {svc: (c1[svc] - c0[svc]) / n * 1e6 for svc in c1}
            o["machine_busy"] = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
            opens.append(o)
        # T4: the gateway answers after 50 ms (its fault injection); every charge waits that long.
        gateway = f"http://{stack.urls['payment-gateway']}/admin/faults"
        set_faults(gateway, {"latencyMs": 50})
        try:
            t4 = loadgen(bin_dir, target, "T4 closed, gateway +50 ms", 0, duration, args.connections,
                         kafka=bootstrap, warmup=0, drain=300, max_requests=1000 if args.quick else 5000)
        finally:
            set_faults(gateway, {"latencyMs": 0})
        t4["settle_s"] = settle.wait(stack)
        settle.close()
        result["stack"] = {
            "max": mx, "open": opens, "t4": t4, "cpu_us_per_order": cpu_per_order,
            "cpu_us_per_order_total": sum(v for s, v in cpu_per_order.items() if s in SERVICES),
            "peak_rss_mib": {s: v / 2**20 for s, v in stats.peak_rss().items() if s in SERVICES},
            "threads": threads,
            "env": {k: v for k, v in stack.env.items() if k.startswith("ORDERFLOW_KAFKA_PROP_")},
            "start_to_healthy_s": start_to_healthy,
            "warmup_s": result["peer"]["warmup"]["seconds"] if "peer" in result else (2 if args.quick else 5),
        }
        if drain_orders > 0:
            log(f"D: catch-up after an outage ({drain_orders} orders)")
            result["drain"] = drain_run(stack, bin_dir, bootstrap, drain_orders, args.drain_new_rate,
                                        2 * args.connections)
    finally:
        if stack:
            stack.down()
        if started_kafka:
            subprocess.run([str(ROOT / "scripts" / "kafka.sh"), "stop"], capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        if mail_dir:
            shutil.rmtree(mail_dir, ignore_errors=True)

    Path(args.out).write_text(json.dumps(result, indent=1))
    text = table(result)
    if "peer" in result:
        text += "\n\norderflow and the Spring Boot peer, same run (bench/peer.py)\n" + peer.table(result, sys.modules[__name__])
    print(text)
    (Path(args.out).with_suffix(".txt")).write_text(text + "\n")
    plot(result, Path(args.out).with_suffix(".png"))
    log(f"wrote {args.out} and {Path(args.out).with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
